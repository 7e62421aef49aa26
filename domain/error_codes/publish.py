"""Codes of HQ's catalogue publishing (``cloud.publish``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import InvalidInput, NotFound

__all__ = ["Publish"]


class Publish(Code):
    NONE_PUBLISHED = (
        "catalogue.none_published",
        NotFound,
        "HQ has not published a catalogue for this store yet.",
    )
    NO_STORES = (
        "publish.no_stores",
        InvalidInput,
        "There is no store to publish to. Register a store first.",
    )
    UNKNOWN_STORE = (
        "publish.unknown_store",
        InvalidInput,
        "HQ does not know this store. Create the store or register it first.",
    )
