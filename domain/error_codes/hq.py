"""Codes of HQ's side: catalogue bundles HQ signs and stores apply.

A part of HQ with codes of its own adds an area here or in a module of its own in this package
(``domain/error_codes/<part>.py``); ``domain.error_codes`` registers every ``Code`` area defined in
any module of the package.
"""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput

__all__ = ["Catalogue", "Setup", "NewStore"]


class Catalogue(Code):
    BAD_BUNDLE = (
        "catalogue.bad_bundle",
        InvalidInput,
        "This file is not a catalogue from HQ, or it is damaged. Ask HQ for a new one.",
    )
    BAD_SIGNATURE = (
        "catalogue.bad_signature",
        InvalidInput,
        "This catalogue was changed after HQ signed it, or another HQ signed it. Do not use it.",
    )
    FOREIGN_STORE = (
        "catalogue.foreign_store",
        InvalidInput,
        "This catalogue is for another store. Ask HQ for this store's catalogue.",
    )
    DELTA_BASE = (
        "catalogue.delta_base",
        InvalidInput,
        "This update follows a catalogue version the store does not run. Load a full catalogue.",
    )


class Setup(Code):
    BAD_CODE = (
        "setup.bad_code",
        InvalidInput,
        "The setup code is wrong, or the setup file was changed. Type the code HQ gave you.",
    )


class NewStore(Code):
    EXISTS = (
        "setup.store_exists",
        Conflict,
        "A store with this id is registered already. Choose another id.",
    )
