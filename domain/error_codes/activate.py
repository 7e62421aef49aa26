"""Codes of licence activation ("second authentication") and of the licence's features
(``domain.licence_activation``, ``cloud.activation``, ``actors.licence_activation``)."""

from __future__ import annotations

from domain.error_codes.base import LOCAL, Code
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound

__all__ = ["LicenceActivation", "Activation"]


class LicenceActivation(Code):
    NOT_ACTIVATED = (
        "licence.not_activated",
        LOCAL,
        "The licence is not activated on this PC. Ask HQ to approve the activation; "
        "tell them the install id.",
    )
    FEATURE_NOT_LICENSED = (
        "licence.feature_not_licensed",
        Forbidden,
        "The store's licence does not include this. Ask HQ for a licence with it.",
    )


class Activation(Code):
    BAD_REQUEST = (
        "activation.bad_request",
        InvalidInput,
        "This activation request is not valid. Make a new one on the store PC.",
    )
    BAD_SIGNATURE = (
        "activation.bad_signature",
        InvalidInput,
        "This activation is not from HQ, or it was changed. Ask HQ again.",
    )
    OTHER_INSTALL = (
        "activation.other_install",
        Conflict,
        "This activation is for another PC or licence. Ask HQ to approve this PC.",
    )
    LICENCE_IN_USE = (
        "activation.licence_in_use",
        Conflict,
        "The licence is active on another PC. Release that PC first, or move the licence.",
    )
    NOT_PENDING = (
        "activation.not_pending",
        Conflict,
        "This activation was already decided. The store must ask again.",
    )
    NOT_FOUND = "activation.not_found", NotFound, "HQ has no such activation request."
    PENDING = "activation.pending", LOCAL, "Waiting for HQ to approve the activation."
    DENIED = (
        "activation.denied",
        LOCAL,
        "HQ denied the activation of this PC. Call HQ.",
    )
    RELEASED = (
        "activation.released",
        LOCAL,
        "HQ moved this licence to another PC. Ask HQ to approve this PC again.",
    )
    NOT_NEEDED = (
        "activation.not_needed",
        LOCAL,
        "This licence needs no activation.",
    )
