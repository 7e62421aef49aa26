"""Codes of stock documents (``domain.stock_docs``): purchase orders, receipts against them,
stock counts and transfers between stores."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput, NotFound

__all__ = ["StockDoc"]


class StockDoc(Code):
    BAD_REFERENCE = (
        "stockdoc.bad_reference",
        InvalidInput,
        "Use 1 to 40 letters, digits, '.', '_', '/' or '-' for this reference.",
    )
    BAD_COST = "stockdoc.bad_cost", InvalidInput, "A unit cost is a whole amount, not below zero."
    NO_LINES = "stockdoc.no_lines", InvalidInput, "Add at least one product line."
    DUPLICATE_LINE = (
        "stockdoc.duplicate_line",
        InvalidInput,
        "A product is on the order once. Change its quantity instead.",
    )
    SUPPLIER_REQUIRED = "stockdoc.supplier_required", InvalidInput, "Name the supplier."
    PO_NOT_FOUND = (
        "stockdoc.po_not_found",
        NotFound,
        "There is no such purchase order. Choose one from the list.",
    )
    PO_CLOSED = (
        "stockdoc.po_closed",
        Conflict,
        "This purchase order is received in full or cancelled. Receive the goods without it.",
    )
    BAD_SCOPE = (
        "stockdoc.bad_scope",
        InvalidInput,
        "Count all products, or name the category to count.",
    )
    COUNT_NOT_FOUND = (
        "stockdoc.count_not_found",
        NotFound,
        "There is no such stock count. Choose one from the list.",
    )
    COUNT_CLOSED = (
        "stockdoc.count_closed",
        Conflict,
        "This stock count is approved or cancelled already. Start a new count.",
    )
    COUNT_EMPTY = "stockdoc.count_empty", Conflict, "Nothing was counted yet. Count first."
    OUT_OF_SCOPE = (
        "stockdoc.out_of_scope",
        InvalidInput,
        "This product is not in the category being counted.",
    )
    SAME_STORE = "stockdoc.same_store", InvalidInput, "A transfer goes to another store."
    TRANSFER_RECEIVED = (
        "stockdoc.transfer_received",
        Conflict,
        "This transfer was received already.",
    )
