"""When a catalogue kept in memory is loaded again: after an update made here, and when a check
(at most every ``check_every_s``) finds another version than the one held."""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["CatalogueCache"]

T = TypeVar("T")


class CatalogueCache(Generic[T]):
    """Holds one catalogue index (``T``) and decides when it is stale. Pure: the caller asks the
    catalogue's version or snapshot when told to, and passes the clock's time in."""

    def __init__(self, check_every_s: float = 30.0) -> None:
        self.check_every_s = check_every_s
        self.index: T | None = None
        self.version = ""
        self.checked = 0.0

    def version_check_due(self, now: float) -> bool:
        return self.index is not None and now - self.checked > self.check_every_s

    def saw_version(self, version: str, now: float) -> None:
        """The catalogue's current version: another than the one held drops the index."""
        self.checked = now
        if version != self.version:
            self.index = None

    def loaded(self, index: T, version: str, now: float) -> T:
        self.index, self.version, self.checked = index, version, now
        return index

    def changed(self) -> None:
        """An update committed: load it before the next use."""
        self.index = None
