"""Open real till windows against a store for a test, and close them all on the Tk thread after
(``with tills(store_url, folder) as make: app = make("K1", lang="ar")``)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tilldriver import open_day, pump


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
