"""Events of the member desk (issue 15): a member's details changed. ``member.registered`` stays
in ``domain.events``."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import register

__all__ = ["MemberUpdated"]


@register("member.updated")
@dataclass(frozen=True, slots=True)
class MemberUpdated:
    """Every field as it is after the change (not a patch): a reader needs no earlier state."""

    member: str
    name: str
    phone: str = ""
    card: str = ""
    consent: bool = False
