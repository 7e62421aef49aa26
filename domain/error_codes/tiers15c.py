"""Codes of a member's tier across the chain (issue 15, tiers15c)."""

from __future__ import annotations

from domain.error_codes.base import T_NOT_USABLE, Code
from domain.errors import InvalidInput

__all__ = ["MemberHistoryCode"]


class MemberHistoryCode(Code):
    BAD = "member.bad_history", InvalidInput, T_NOT_USABLE
