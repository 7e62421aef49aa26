"""Fixtures for the till tests: a real store server, an Xvfb display, a loopback printer, and
helpers to drive a real till window.

CI time: the modules that take the plain ``store`` fixture share ONE demo store server (a store
start is Ray and every actor: 13 s on a quiet machine, 20 s and more on a loaded one). Each such
module works on till ids of its own, so their sales, days and drawers do not meet. A module that
asserts something store-wide (every row of a staff member's operation log, the store's X report)
is listed in ``OWN_STORE`` and gets a fresh store of its own; a module that needs a store set up
otherwise defines its own ``store`` fixture. The shared modules run last in this folder and the
shared store stops as soon as the last of them is done, so it never runs beside another store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tilldriver import xvfb_display

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "kiosk"
HERE = Path(__file__).resolve().parent
PRODUCTS = 600

# modules whose assertions cover the whole store (so another module's sales or sign-ins there
# would change what they see): each gets a store server of its own
OWN_STORE = {
    "test_kiosk_oplog.py",  # every row of a1's operation log; the only "damaged" refund
    "test_kiosk_reports.py",  # the store's X report totals
    "test_kiosk_till.py",  # the journal's first page from seq 0; a new account's number; totals
}

_shared: list[Any] = []  # the shared store server while it runs
_sharing: set[Path] = set()  # the modules on the shared store (found at collection)


def _start(tmp_path_factory: pytest.TempPathFactory, name: str) -> Any:
    from actors.process import StoreProcess

    return StoreProcess(tmp_path_factory.mktemp(name) / "data", products=PRODUCTS).start()


@pytest.fixture(scope="session")
def xvfb():
    # one for the session: Tk keeps its connection to every display it has used, and a display
    # that goes away under it (a module's Xvfb stopped) ends the process in the next module
    with xvfb_display() as display:
        yield display


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = _start(tmp_path_factory, "kiosk-store")
    _shared.append(s)
    yield s
    _stop_shared()


@pytest.fixture(scope="module")
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    if Path(str(request.path)).name in OWN_STORE:
        s = _start(tmp_path_factory, "kiosk-own-store")
        yield s
        s.stop()
    else:
        yield request.getfixturevalue("shared_store")


def _stop_shared() -> None:
    while _shared:
        _shared.pop().stop()


def _takes_shared(item: pytest.Item) -> bool:
    """The item takes this folder's ``store`` (not a module's own) and its module is not listed."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("store") if info is not None else None
    here = HERE.relative_to(Path(str(item.config.rootpath)).resolve()).as_posix()
    return bool(defs) and defs[-1].baseid == here and item.path.name not in OWN_STORE


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the modules on the shared store after this folder's others (a stable reordering inside
    this folder only), so the shared store starts once and is done before anything else runs."""
    spots = [i for i, it in enumerate(items) if HERE in Path(str(it.path)).resolve().parents]
    ours = [items[i] for i in spots]
    _sharing.update(Path(str(it.path)) for it in ours if _takes_shared(it))
    first = [it for it in ours if Path(str(it.path)) not in _sharing]
    ordered = first + [it for it in ours if Path(str(it.path)) in _sharing]
    for i, it in zip(spots, ordered, strict=True):
        items[i] = it


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield  # the item's (and a finished module's) fixtures are torn down by now
    if _shared and (nextitem is None or Path(str(nextitem.path)) not in _sharing):
        _stop_shared()
    return result


@pytest.fixture
def printer():
    from hw_loopback import LoopbackPrinter

    p = LoopbackPrinter().start()
    yield p
    p.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
