"""Shared pieces of the licence tests: a true clock, a store clock that can be wound, HQ, a
store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from actors.licence import FakeTransport, LicenceKeeper
from cloud.licence import LicenceAuthority
from domain.licence import US_PER_DAY
from domain.ports import ManualClock

HOUR = 3_600_000_000
MINUTE = 60_000_000
DAY = US_PER_DAY
START = 1_767_225_600_000_000  # 2026-01-01T00:00Z


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch):
    """These tests never start Ray."""
    try:
        import ray
    except ImportError:  # pragma: no cover
        yield
        return

    def refuse(*args, **kwargs):
        raise RuntimeError("licence tests must not start Ray")

    monkeypatch.setattr(ray, "init", refuse)
    yield


class StoreClock:
    """The store PC's clock: true time plus whatever someone set it to."""

    def __init__(self, true: ManualClock) -> None:
        self.true = true
        self.offset = 0

    def now_us(self) -> int:
        return self.true.now_us() + self.offset


def run(coro):
    return asyncio.run(coro)


@dataclass
class World:
    tmp: Path
    true: ManualClock
    clock: StoreClock
    hq: LicenceAuthority
    doc: dict[str, Any]
    transport: FakeTransport
    events: list[Any] = field(default_factory=list)
    journaled: list[tuple[int, Any]] = field(default_factory=list)  # what a journal would hold
    keeper: LicenceKeeper | None = None

    @property
    def store_dir(self) -> Path:
        return self.tmp / "store"

    async def journal(self, body: Any) -> None:
        self.events.append(body)
        self.journaled.append((self.clock.now_us(), body))

    def new_keeper(self, **kw) -> LicenceKeeper:
        """A keeper as after a restart: it rebuilds from what was journaled (``journaled``)."""
        kw.setdefault("journal_fn", self.journal)
        kw.setdefault("history", lambda: list(self.journaled))
        self.keeper = LicenceKeeper(
            self.store_dir,
            kw.pop("store_id", "S001"),
            self.hq.public_key_text(),
            kw.pop("transport", self.transport),
            self.clock,
            **kw,
        )
        return self.keeper

    def days(self, n: float) -> None:
        self.true.advance(us=int(n * DAY))

    def kinds(self) -> list[str]:
        from domain.events import kind_of

        return [kind_of(e) for e in self.events]

    def open(self) -> dict[str, Any]:
        assert self.keeper is not None
        return run(self.keeper.may_open_day())

    def check(self) -> dict[str, Any]:
        assert self.keeper is not None
        return run(self.keeper.check_once())


def make_world(tmp: Path, *, grace: int = 7, days: int = 365, store: str = "S001") -> World:
    true = ManualClock(START)
    hq = LicenceAuthority(tmp / "hq", clock=true)
    hq.ensure_key()
    doc = hq.issue(
        store,
        START - DAY,
        START + days * DAY,
        grace,
        4,
        ["reports", "wallet"],
        licence_id=f"LIC-{store}-1",
        activation=False,  # these tests are about the grace rule; activation: test_activation*
    )
    w = World(tmp, true, StoreClock(true), hq, doc, FakeTransport(hq.answer))
    w.new_keeper(store_id=store)
    run(w.keeper.install(doc))
    return w
