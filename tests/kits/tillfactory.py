"""Open real till windows against a store for a test, and close them all on the Tk thread after
(``with tills(store_url, folder) as make: app = make("K1", lang="ar")``); ``sized_tills`` opens
each on an Xvfb screen of its own size (``make("P4", "1024x768")``); ``store_with`` runs a store
server with a ``store.json`` of the test's own."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tilldriver import close_tills, open_day, pump, xvfb_display


@contextlib.contextmanager
def tills(url: str, folder: Path) -> Iterator[Callable[..., Any]]:
    from kiosk.app import TillApp

    made: list[Any] = []

    def make(till_id: str, lang: str = "en", day: bool = True, wait_store: bool = True) -> Any:
        if day:
            open_day(url, till_id)
        app = TillApp(url, till_id, lang=lang, printer={"kind": "dummy"}, data_dir=folder / till_id)
        made.append(app)
        if wait_store:
            pump(app, lambda: app.store and app.print_queue is not None, what="store config")
        return app

    try:
        yield make
    finally:
        for app in made:
            with contextlib.suppress(Exception):
                app.close()
        made.clear()  # the windows are garbage only now: free them here, on the Tk thread
        gc.collect()


@contextlib.contextmanager
def sized_tills(
    url: str, folder: Path, monkeypatch: Any, sizes: dict[str, tuple[int, int]]
) -> Iterator[Callable[..., Any]]:
    """``make(till_id, size, **kw)``: a till filling an Xvfb screen of ``size`` (a key of
    ``sizes``), its day open; ``kw`` go to ``TillApp`` (e.g. ``customer_display``). DISPLAY is
    left at that screen for the screenshots."""
    from kiosk.app import TillApp

    made: list[Any] = []

    def make(till_id: str, size: str, **kw: Any) -> Any:
        open_day(url, till_id)
        with xvfb_display(size) as display:
            app = TillApp(
                url,
                till_id,
                printer=kw.pop("printer", {"kind": "dummy"}),  # or a loopback printer's
                data_dir=folder / f"{till_id}-{size}",
                size=sizes[size],
                **kw,
            )
        made.append(app)
        monkeypatch.setenv("DISPLAY", display)  # for the screenshots
        pump(app, lambda: app.store and app.print_queue is not None, what="store config")
        return app

    try:
        yield make
    finally:
        close_tills(made)


@contextlib.contextmanager
def store_with(folder: Path, config: dict[str, Any], products: int = 600) -> Iterator[Any]:
    """A store server (its own process) in ``folder/data`` whose ``store.json`` is ``config``;
    stopped after."""
    from actors.process import StoreProcess

    data = folder / "data"
    data.mkdir(parents=True)
    (data / "store.json").write_text(json.dumps(config))
    s = StoreProcess(data, products=products).start()
    try:
        yield s
    finally:
        s.stop()
