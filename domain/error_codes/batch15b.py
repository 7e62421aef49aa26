"""Codes of batch price edits at the store (``domain.price_batch``, ``actors.http.prices``) and
batch stock levels set in the ledger (``domain.stock``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput

__all__ = ["PriceBatch", "StockBatch"]


class PriceBatch(Code):
    BAD_CHANGE = (
        "prices.bad_change",
        InvalidInput,
        "Choose the change: a new price, a percentage or an amount, and a rounding.",
    )
    TOO_MANY = "prices.too_many", InvalidInput, "Change at most 1,000 products at once."
    NO_PRODUCTS = "prices.no_products", InvalidInput, "Tick the products whose price changes."
    HQ_OWNED = (
        "prices.hq_owned",
        Conflict,
        "HQ sets these prices. Change them at HQ (admin app: Products, or kassa admin product "
        "price) and publish the catalogue.",
    )
    REFUSED_ROWS = (
        "prices.refused_rows",
        InvalidInput,
        "Some new prices would be zero, below zero or above the maximum. Change the rule.",
    )
    CHANGED = (
        "prices.changed_since_preview",
        Conflict,
        "Prices changed since the preview. Look at the preview again, then apply.",
    )


class StockBatch(Code):
    UNCHANGED = (
        "stock.level_unchanged",
        Conflict,
        "The level is already what was set.",
    )
