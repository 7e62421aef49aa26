"""Codes of exchanges, refund limits and reconciliation (issue 17)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Forbidden, InvalidInput

__all__ = ["RefundLimit", "Reconcile"]


class RefundLimit(Code):
    NEEDS_MANAGER = (
        "refund.needs_manager",
        Forbidden,
        "This gives back more than the store's refund limit. A manager must approve it.",
    )


class Reconcile(Code):
    BAD_STATEMENT = (
        "reconcile.bad_statement",
        InvalidInput,
        "The statement file cannot be read with this mapping. Check the provider and the file.",
    )
    UNKNOWN_PROVIDER = (
        "reconcile.unknown_provider",
        InvalidInput,
        "No column mapping for this provider. Choose a built-in one or give a mapping file.",
    )
