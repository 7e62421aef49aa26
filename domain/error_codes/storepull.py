"""Codes of the store's side of HQ's catalogue: pulling, loading from USB, setting a store up."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput, KassaError, Unavailable

__all__ = ["CatalogueSync", "StoreSetup"]


class CatalogueSync(Code):
    PULL_FAILED = (
        "catalogue.pull_failed",
        Unavailable,
        "HQ's catalogue could not be fetched. The store keeps selling and tries again by itself.",
    )
    NOT_LINKED = (
        "catalogue.not_linked",
        Conflict,
        "This store is not linked to HQ's cloud. Load HQ's catalogue from a USB stick instead.",
    )
    NO_KEY = (
        "catalogue.no_key",
        Conflict,
        "This store does not hold HQ's public key, so it cannot check HQ's catalogue.",
    )
    OLDER = (
        "catalogue.older_version",
        InvalidInput,
        "This catalogue is older than the one the store runs. Ask HQ for the newest one.",
    )
    TOO_LARGE = (
        "catalogue.too_large",
        InvalidInput,
        "This catalogue file is too large for the store to load.",
    )
    NO_ANSWER = (
        "catalogue.no_answer",
        KassaError,
        "The running store did not load the catalogue in time. Look at kassa store status.",
    )


class StoreSetup(Code):
    NOT_EMPTY = (
        "setup.not_empty",
        KassaError,
        "The data folder is not empty. Set a new store up in an empty folder.",
    )
    NOT_SETUP = (
        "setup.not_setup_bundle",
        KassaError,
        "This file is not a setup file for a new store. Ask HQ for the store's setup file.",
    )
