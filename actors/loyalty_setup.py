"""store.json's ``loyalty`` rules reach the journal: the ledger journals them as
``loyalty.rules_set`` (``set_by="config"``) at start when they differ from the rules in force, so
that every reader of the journal (the book, HQ) derives the same points from the same events."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from actors.ledger import Ledger, Request, command_hash
from domain.loyalty import LoyaltyRulesSet, rules_from_dict

__all__ = ["journal_store_rules"]


def journal_store_rules(ledger: Ledger, loyalty: dict[str, Any]) -> bool:
    """Journal ``loyalty`` (store.json's) unless those are the rules in force; whether it did."""
    rules = rules_from_dict(loyalty)
    if ledger.book.loyalty.rules == rules:
        return False
    digest = hashlib.sha256(msgspec.json.encode(rules, order="sorted")).hexdigest()[:24]
    cid = f"loyalty-config-{ledger.seq}-{digest}"  # once per journal position and rules
    args = msgspec.to_builtins(rules)
    ledger.submit(
        Request(cid, command_hash("loyalty.rules", args), LoyaltyRulesSet(rules, "config"))
    )
    return True
