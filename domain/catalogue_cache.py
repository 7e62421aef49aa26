"""When a catalogue kept in memory is loaded again: after an update made here, and when a check
(at most every ``check_every_s``) finds another version than the one held."""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["CatalogueCache"]

T = TypeVar("T")


class CatalogueCache(Generic[T]):
    """Holds one catalogue index (``T``) and decides when it is stale. Pure: the caller asks the
    catalogue's version or its changes when told to, and passes the clock's time in. A stale index
    is kept (``index``) until the new one is loaded: the changes since its version are often a
    few products, applied to it rather than loading every product again."""

    def __init__(self, check_every_s: float = 30.0) -> None:
        self.check_every_s = check_every_s
        self.index: T | None = None
        self.version = ""
        self.checked = 0.0
        self.stale = False

    def version_check_due(self, now: float) -> bool:
        return self.index is not None and now - self.checked > self.check_every_s

    def saw_version(self, version: str, now: float) -> None:
        """The catalogue's current version: another than the one held makes the index stale."""
        self.checked = now
        if version != self.version:
            self.stale = True

    def must_load(self) -> bool:
        return self.index is None or self.stale

    def loaded(self, index: T, version: str, now: float) -> T:
        self.index, self.version, self.checked, self.stale = index, version, now, False
        return index

    def changed(self) -> None:
        """An update committed: load it before the next use."""
        self.stale = True
