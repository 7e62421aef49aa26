"""Event upcasters: new code reads every event old code wrote, without touching the journal.

An event's envelope carries the version of its body's schema (``v``); ``domain.events`` registers
each kind with its *current* version. When a kind's body changes shape (a field renamed, split, a
value's unit changed), its version goes up by one and an upcaster is registered here that turns a
body of the old version, as a plain dict, into one of the next version:

    @upcaster("wallet.topped_up", 1)          # v1 -> v2
    def _tender_to_method(body: dict) -> dict:
        body = dict(body)
        body["method"] = body.pop("tender")
        return body

Reading an event of version ``v`` below the current one chains the upcasters ``v -> v+1 -> ...``
up to the current version (``upcast``). Upcasting happens on read only: the stored bytes, and so
the hash chain, never change. An event written by a *newer* version than this code knows is
refused (``event.too_new``), never misread. A field added with a default needs no new version:
old bodies decode as they are.

Pure Python: imported by ``domain.events`` (the body decoder), the analytics flatten step and the
gateway's event feed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.error_codes.upgrade import Upgrade
from domain.errors import Conflict

__all__ = ["Upcasters", "UPCASTERS", "upcaster", "upcast"]

Body = dict[str, Any]
Step = Callable[[Body], Body]


class Upcasters:
    """A registry ``(kind, from_version) -> step(dict) -> dict`` and the chain over it."""

    def __init__(self) -> None:
        self.steps: dict[tuple[str, int], Step] = {}

    def register(self, kind: str, from_version: int) -> Callable[[Step], Step]:
        def deco(fn: Step) -> Step:
            key = (kind, from_version)
            if key in self.steps:
                raise ValueError(f"two upcasters for {kind} v{from_version}")
            self.steps[key] = fn
            return fn

        return deco

    def upcast(self, kind: str, version: int, current: int, body: Body) -> Body:
        """``body`` (written as ``version``) brought to ``current``; ``version == current``
        returns it as it is. Refuses a newer version, and an old one with a gap in its chain."""
        if version > current:
            raise Conflict(
                Upgrade.EVENT_TOO_NEW,
                f"{kind} v{version} was written by a newer kassa (this one reads up to "
                f"v{current}); upgrade kassa before reading this journal",
                kind=kind,
                version=version,
                known=current,
            )
        while version < current:
            step = self.steps.get((kind, version))
            if step is None:
                raise Conflict(
                    Upgrade.NO_UPCASTER,
                    f"no upcaster for {kind} v{version} -> v{version + 1}",
                    kind=kind,
                    version=version,
                    known=current,
                )
            body = step(body)
            version += 1
        return body

    def knows(self, kind: str) -> bool:
        return any(k == kind for k, _ in self.steps)


UPCASTERS = Upcasters()
upcaster = UPCASTERS.register


def upcast(kind: str, version: int, current: int, body: Body) -> Body:
    return UPCASTERS.upcast(kind, version, current, body)
