"""Codes of members across the chain: a store's float, HQ's authorisations and grants."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput, NotFound, Unavailable

__all__ = ["Chain"]


class Chain(Code):
    FLOAT_EXCEEDED = (
        "chain.float_exceeded",
        Conflict,
        "This store may spend only part of this member's money without HQ. Connect to HQ, "
        "or pay the rest another way.",
    )
    POOL_TOO_LOW = (
        "chain.pool_too_low",
        Conflict,
        "The member's money is not enough for this payment.",
    )
    HQ_UNREACHABLE = (
        "chain.hq_unreachable",
        Unavailable,
        "HQ cannot be reached: only the money this store holds for the member can be spent.",
    )
    BAD_KIND = (
        "chain.bad_kind",
        InvalidInput,
        "The kind of member money is wallet or points.",
    )
    KEY_REUSED = (
        "chain.key_reused",
        Conflict,
        "This request id was already used for another request.",
    )
    GRANT_TWICE = (
        "chain.grant_twice",
        Conflict,
        "HQ's grant was already received.",
    )
    UNKNOWN_MEMBER = (
        "chain.unknown_member",
        NotFound,
        "HQ does not know this member yet.",
    )
    BAD_ROW = (
        "chain.bad_row",
        InvalidInput,
        "Some rows of the member file are wrong: see the row numbers.",
    )
