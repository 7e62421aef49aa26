"""Codes of payments taken through a provider (QR, card terminal): the tender's life, its use by
an order, the providers' callbacks (``domain.tender_flow``, ``actors.payments``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable

__all__ = ["Tender"]


class Tender(Code):
    NO_KEY = "payment.no_key", InvalidInput, "Start the QR or card payment from the till first."
    NO_BASKET = "payment.no_basket", InvalidInput, "Scan an item first: a payment is for a basket."
    UNKNOWN = "payment.unknown_tender", NotFound, "There is no such payment. Start it again."
    KEY_TAKEN = (
        "payment.key_taken",
        Conflict,
        "This payment was started before. Start a new one.",
    )
    NOT_PENDING = (
        "payment.not_pending",
        Conflict,
        "This payment is no longer waiting. Look at its state.",
    )
    ALREADY_SUCCEEDED = (
        "payment.already_succeeded",
        Conflict,
        "This payment was already received.",
    )
    NOT_LATE = "payment.not_late", Conflict, "This payment did not arrive late."
    NOT_SUCCEEDED = (
        "payment.tender_not_succeeded",
        Conflict,
        "The QR or card payment has not been received. Wait for it, or pay another way.",
    )
    USED = (
        "payment.tender_used",
        Conflict,
        "This QR or card payment already paid another order.",
    )
    MISMATCH = (
        "payment.tender_mismatch",
        Conflict,
        "This QR or card payment was for another basket or amount. Start a new one.",
    )
    NO_PROVIDER = (
        "payment.no_provider",
        Unavailable,
        "This way of paying is not set up at this store. Pay another way.",
    )
    UNKNOWN_PROVIDER = (
        "payment.unknown_provider",
        NotFound,
        "There is no such payment provider at this store.",
    )
    PROVIDER_DOWN = (
        "payment.provider_unavailable",
        Unavailable,
        "The payment provider cannot be reached. Retry, or pay another way.",
    )
    BAD_CALLBACK = "payment.bad_callback", InvalidInput, "The provider's message is not valid."
    BAD_SIGNATURE = (
        "payment.bad_signature",
        Forbidden,
        "The provider's message was not signed with this store's secret.",
    )
    BAD_SETUP = (
        "payment.bad_setup",
        InvalidInput,
        "The store's payment settings are not valid. Check them on the store PC.",
    )
