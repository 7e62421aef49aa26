"""A till: its open basket and its parked baskets. A plain class; ``actors.remote`` makes it an
actor.

Each cashier command is parsed into its typed command (``domain.till_commands``) and decided by
its handler (``domain.till_handlers``) into a ``Request`` for the ledger (``prepare``); the state
changes only once the ledger acknowledges the event (``commit``). After a crash the till is rebuilt
from the events of its open baskets, so what the cashier had in the basket is still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from actors.ledger import Ack, Request, command_hash
from actors.wire import Method
from domain.basket import Basket, apply_basket, price_basket
from domain.catalogue import CatalogueIndex
from domain.errors import KassaError
from domain.events import BasketParked, BasketResumed, BasketVoided, Envelope, OrderCompleted
from domain.store import StoreConfig
from domain.till_commands import parse_till_command
from domain.till_handlers import TILL_HANDLERS, Counter

__all__ = ["Till", "Who", "execute", "TILL_METHODS"]


@dataclass(frozen=True, slots=True)
class Who:
    """Who asks: staff account, role's discount limit, till and client IP (from the gateway)."""

    staff: str = ""
    ip: str = ""
    limit_bp: int = 10000
    approved_by: str = ""

    def __reduce__(self) -> tuple:  # (Ray's calls) one tuple, not pickle's dataclass path
        return Who, (self.staff, self.ip, self.limit_bp, self.approved_by)


# a till actor's internal socket (actors.wire): "do" (cid, op, args, who) and "view", answered with
# the plain dicts the gateway sends on; args stay plain here (Till.prepare parses them)
TILL_METHODS = {
    "do": Method(tuple[str, str, Any, Who], dict[str, Any]),
    "view": Method(None, dict[str, Any]),
}


class Till:
    def __init__(self, till_id: str, config: StoreConfig, catalogue: CatalogueIndex) -> None:
        self.till_id = till_id
        self.config = config
        self.catalogue = catalogue
        self.baskets: dict[str, Basket] = {}
        self.current: str | None = None
        self.seen: dict[str, int] = {}  # basket id -> highest seq applied to it
        # the journal's seq when this till was rebuilt: every event up to it is already reflected
        # (its basket is here, or it was closed), so a repeated id answered with such an event
        # changes nothing
        self.floor = 0

    # ------------------------------------------------------------ rebuild
    def rebuild(self, envs: list[Envelope], floor: int = 0) -> None:
        """Rebuild from the events of this till's open baskets; ``floor`` is the journal's seq
        they were read at (``Ledger.till_state``)."""
        self.floor = floor
        self.baskets.clear()
        self.current = None
        last_seen: dict[str, int] = {}
        for env in envs:
            body = env.decoded()
            self._apply(body)
            bid = getattr(body, "basket", None) or getattr(body, "order_id", None)
            if bid:
                last_seen[bid] = env.seq
        self.seen = dict(last_seen)
        live = [b for b in self.baskets.values() if not b.parked]
        if live:
            self.current = max(live, key=lambda b: last_seen.get(b.basket_id, 0)).basket_id

    # ------------------------------------------------------------ views
    @property
    def basket(self) -> Basket | None:
        return self.baskets.get(self.current) if self.current else None

    def view(self) -> dict[str, Any]:
        b = self.basket
        parked = [
            {
                "basket": x.basket_id,
                "lines": len(x.lines),
                "total": price_basket(x, self.config.prices_include_tax).total,
            }
            for x in self.baskets.values()
            if x.parked
        ]
        if b is None:
            return {
                "till": self.till_id,
                "basket": None,
                "lines": [],
                "subtotal": 0,
                "discount": 0,
                "tax": 0,
                "total": 0,
                "currency": self.config.currency,
                "parked": parked,
            }
        p = price_basket(b, self.config.prices_include_tax)
        return {
            "till": self.till_id,
            "basket": b.basket_id,
            "lines": msgspec.to_builtins(p.lines),
            "subtotal": p.subtotal,
            "discount": p.discount,
            "tax": p.tax,
            "total": p.total,
            "currency": self.config.currency,
            "parked": parked,
            "order_discount": {"kind": b.discount_kind, "value": b.discount_value},
            "member": {"member": b.member, "tier": b.tier, "discount_bp": b.member_bp},
            "member_discount": p.member_discount,
        }

    # ------------------------------------------------------------ commands → requests
    def fingerprint(self, op: str, args: Any) -> bytes:
        """What the cashier asked for: a retried id must ask for the same thing."""
        return command_hash(op, {"till": self.till_id, "args": args})

    def prepare(self, cid: str, op: str, args: dict, who: Who) -> Request:
        """The ledger request for a cashier's command: parsed into its typed command, decided by
        its handler (``domain.till_handlers``) against this till's baskets."""
        cmd = parse_till_command(op, args)
        at = Counter(
            self.till_id,
            self.basket,
            self.baskets,
            self.config,
            self.catalogue,
            who.limit_bp,
            who.approved_by,
        )
        body = TILL_HANDLERS[type(cmd)](cmd, at)
        return Request(
            id=cid,
            cmd=self.fingerprint(op, args),
            body=body,
            staff=who.staff,
            till=self.till_id,
            ip=who.ip,
        )

    # ------------------------------------------------------------ acknowledged events → state
    def _apply(self, body: Any) -> None:
        if isinstance(body, OrderCompleted):
            self.baskets.pop(body.order_id, None)
            if self.current == body.order_id:
                self.current = None
            return
        if isinstance(body, BasketVoided):
            self.baskets.pop(body.basket, None)
            if self.current == body.basket:
                self.current = None
            return
        bid = getattr(body, "basket", None)
        if bid is None:
            return
        b = self.baskets.get(bid) or Basket(basket_id=bid, till=self.till_id)
        b = apply_basket(b, body)
        self.baskets[bid] = b
        if isinstance(body, BasketParked) and self.current == bid:
            self.current = None
        elif isinstance(body, BasketResumed) or (not b.parked and self.current is None):
            self.current = bid

    def commit(self, ack: Ack) -> dict[str, Any]:
        bid = getattr(ack.body, "basket", None) or getattr(ack.body, "order_id", None)
        # a retry's first answer may never have reached this till (the ledger died after
        # committing): apply a duplicate unless this basket already saw that event
        if not ack.duplicate or (bid and ack.seq > max(self.seen.get(bid, 0), self.floor)):
            self._apply(ack.body)
            if bid:
                self.seen[bid] = max(self.seen.get(bid, 0), ack.seq)
        out = {"seq": ack.seq, "event": ack.kind, "duplicate": ack.duplicate, "view": self.view()}
        if isinstance(ack.body, OrderCompleted):
            out["order"] = {**msgspec.to_builtins(ack.body), "ts": ack.ts}  # for the receipt
        else:
            out["result"] = msgspec.to_builtins(ack.body)
        return out


async def execute(core: Till, call: Any, cid: str, op: str, args: dict, who: Who) -> dict[str, Any]:
    """Run one cashier command: decide, have the ledger commit it, apply the answer.

    ``call(method, payload)`` reaches the ledger ("submit" a Request, "lookup" an id). A retry of
    a command that was committed but whose answer was lost may find the basket moved on (paid,
    parked…), so when deciding fails the ledger is asked for the first answer before refusing.
    """
    try:
        req = core.prepare(cid, op, args, who)
    except KassaError:
        ack = await call("lookup", (cid, core.fingerprint(op, args)))
        if ack is None:
            raise
    else:
        ack = await call("submit", req)
    return core.commit(ack)
