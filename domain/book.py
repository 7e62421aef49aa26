"""The store's book: the part of the journal's projection that guards invariants at commit time.

The ledger owns one ``Book`` and, for every event it is about to commit, calls ``Book.check``
(which may complete the body, e.g. give an order its number or a top-up its resulting balance) and,
once the event is durable, ``Book.apply``. Because commits are serialised in the ledger, these
invariants hold whatever number of tills sell at once:

* a member wallet never goes below zero;
* an order's payments equal its total plus its cash rounding, and a basket completes at most once;
* a refund never gives back more than was paid for a line, nor more than a tender received;
* a frozen order refuses refunds until unfrozen;
* no amount or quantity exceeds the store's limits (``domain.money.Limits``, set by the ledger
  actor from ``store.json``) nor ``CEILING``: a journal never holds a value a read model cannot
  store;
* staff accounts, permissions and sign-in sessions (``domain.staff``) and each till's business day
  (``domain.day``) change only through their events; with ``BookRules.require_open_day`` (the
  store's ledger passes it; off for a book built without rules) a till sells, refunds and takes
  top-ups only while its day is open.

The book also keeps stock levels (``domain.stock.StockBook``), so that a stock count is decided
against the level as of the events committed before it (``domain.commands.CountStock``).
Order and member records and the refund decision are in ``domain.book_records`` (re-exported here).

Memory stays bounded: ``evict`` drops the orders (and closed baskets) older than a horizon, and a
book ``attach``-ed to an archive (the journal, by aggregate) reads such an order back, as of the
last event it applied, when a refund, a freeze or a look-up asks for it. ``domain.book_snapshot``
encodes and decodes a book at a journal position.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain import day as _day
from domain import licence as _licence  # noqa: F401 - licence.* kinds are known where events are checked
from domain import staff as _staff
from domain.book_bounds import check_bounds
from domain.book_records import (
    Archive,
    Member,
    NumberIndex,
    OrderRecord,
    OrderTable,
    decide_refund,
    find_member,
)
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import (
    BasketVoided,
    LineAdded,
    MemberRegistered,
    OrderCompleted,
    OrderFrozen,
    OrderRefunded,
    OrderUnfrozen,
    StockAdjusted,
    StockCounted,
    StockReceived,
    WalletToppedUp,
)
from domain.exchange import check_exchanged
from domain.exchange_events import OrderExchanged
from domain.loyalty import LoyaltyRules
from domain.loyalty_book import LOYALTY_TYPES, LoyaltyBook
from domain.member_desk import check_registered, check_updated, member_of
from domain.member_events import FLOAT_IN, FloatCapsSet, FloatReturned, MemberUpdated
from domain.member_float import Floats
from domain.money import (
    CEILING,
    DEFAULT_LIMITS,
    Limits,
    check_amount,
)
from domain.numbering import Numbers
from domain.payment_events import PAYMENT_TYPES
from domain.stock import StockBook
from domain.stock_docs import STOCK_DOC_TYPES
from domain.tender_flow import TenderBook

__all__ = [
    "Book",
    "BookRules",
    "OrderRecord",
    "decide_refund",
    "Member",
    "find_member",
    "check_bounds",
]


_STAFF_TYPES = (
    _staff.StaffCreated,
    _staff.StaffUpdated,
    _staff.StaffPinChanged,
    _staff.StaffLocked,
    _staff.StaffUnlocked,
    _staff.PermissionsChanged,
    _staff.SignedIn,
    _staff.SignedOut,
    _staff.SignInFailed,
    _staff.ActionApproved,
    _staff.PinAttempted,
    _staff.PinAccepted,
)
_DAY_TYPES = (_day.DayOpened, _day.DayClosed, _day.ZReportRecorded)
_MONEY_TYPES = (LineAdded, OrderCompleted, OrderRefunded, WalletToppedUp)
_STOCK_TYPES: tuple[type, ...] = (OrderCompleted, OrderRefunded, StockReceived, StockAdjusted)
_STOCK_TYPES += (StockCounted, *STOCK_DOC_TYPES)  # counts approved, transfers (stock_docs)


@dataclass(frozen=True, slots=True)
class BookRules:
    """The store's settings a book enforces, given when it is built (the store's ledger actor
    passes ``require_open_day=True`` and the limits of ``store.json``)."""

    require_open_day: bool = False  # a till sells, refunds and tops up only while its day is open
    limits: Limits = DEFAULT_LIMITS  # no amount or quantity beyond these is journaled
    loyalty: LoyaltyRules | None = None  # store.json's rules: the ledger journals them at start


class Book:
    """Mutable projection used by the ledger to check and complete events before they commit."""

    def __init__(self, rules: BookRules = BookRules()) -> None:
        self.rules = rules
        self.wallets: dict[str, int] = {}
        self.members: dict[str, Member] = {}
        self.orders = OrderTable()  # order id -> record (older ones: see ``attach``)
        self.open_baskets: dict[str, str] = {}  # basket id -> till
        self.closed_baskets: dict[str, int] = {}  # completed or voided basket id -> its seq
        self.numbers = Numbers(index=NumberIndex())  # order/refund numbers: counters and index
        self.till_orders: dict[str, int] = self.numbers.orders
        self.staff = _staff.StaffBook()
        self.days = _day.DayBook()
        self.stock = StockBook()
        self.tenders = TenderBook()  # QR and card tenders by key (domain.tender_flow)
        self.loyalty = LoyaltyBook()  # points and coupons (domain.loyalty_book)
        self.floats = Floats()  # members' money this store may spend (domain.member_float)
        self.seq = 0  # the last event applied
        self.archive: Archive | None = None

    # ------------------------------------------------------------ memory bounded by a horizon
    def attach(self, archive: Archive) -> None:
        """Orders (and closed baskets, numbers) dropped by ``evict`` are looked up in ``archive``
        (the journal, by aggregate) as of the last event applied, on first use."""
        self.archive = archive
        self.orders.load = self._load_order
        if isinstance(self.numbers.index, NumberIndex):
            self.numbers.index.load = archive.number

    def _load_order(self, order_id: str) -> OrderRecord | None:
        if self.archive is None:
            return None
        old = Book()
        for body, staff, till, ts, seq in self.archive.order_events(order_id, self.seq):
            old.apply(body, staff, till, ts, seq)
        return dict.get(old.orders, order_id)

    def _closed(self, basket: str) -> bool:
        if basket in self.closed_baskets:
            return True
        if self.archive is None or basket in self.open_baskets:
            return False
        return self.archive.closed(basket, self.seq)  # once per new basket, once orders left

    def horizon(self, keep: int) -> int:
        """The seq below which orders fall out of memory when the newest ``keep`` stay (0: none)."""
        if len(self.orders) <= keep:
            return 0
        return sorted(r.seq for r in self.orders.values())[-keep] if keep else self.seq + 1

    def numbers_below(self, below: int) -> list[tuple[str, str]]:
        """(number, order id) of the orders ``evict(below)`` drops: an archive keeps them first."""
        gone = {oid for oid, r in self.orders.items() if r.seq < below}
        return [(k, oid) for k, oid in self.numbers.index.items() if oid in gone]

    def evict(self, below: int) -> int:
        """Drop orders and closed baskets committed before seq ``below``; how many orders."""
        gone = [oid for oid, r in self.orders.items() if r.seq < below]
        for oid in gone:
            del self.orders[oid]
        drop = set(gone)
        for k in [k for k, oid in self.numbers.index.items() if oid in drop]:
            del self.numbers.index[k]
        for b in [b for b, s in self.closed_baskets.items() if s < below]:
            del self.closed_baskets[b]
        return len(gone)

    # ------------------------------------------------------------ queries
    def balance(self, member: str) -> int:
        return self.wallets.get(member, 0)

    @property
    def points(self) -> dict[str, int]:
        return self.loyalty.points

    def order(self, order_id: str) -> OrderRecord:
        rec: OrderRecord | None = self.orders.get(order_id)
        if rec is None:
            raise NotFound("order.not_found", f"no order {order_id}", order_id=order_id)
        return rec

    def find_member(self, key: str) -> Member:
        return find_member(self.members, key)

    def staff_state(self) -> dict[str, Any]:
        """Staff accounts, permissions, sessions and days: what the gateway mirrors."""
        return {**self.staff.state(), "days": self.days.state()}

    # ------------------------------------------------------------ check (before commit)
    def check(self, body: Any, till: str, now_us: int = 0) -> Any:
        """Raise if committing ``body`` would break an invariant; return the body to commit
        (``now_us``: the commit's time, for coupons' validity; 0: the last event's)."""
        check_bounds(body, self.rules.limits)
        if self.rules.require_open_day and till and isinstance(body, _MONEY_TYPES):
            self.days.require_open(till)
        if isinstance(body, _STAFF_TYPES):
            return self.staff.check(body)
        if isinstance(body, _DAY_TYPES):
            baskets = 0
            if isinstance(body, _day.DayClosed):
                baskets = sum(1 for t in self.open_baskets.values() if t == body.till)
            return self.days.check(body, baskets)
        if isinstance(body, OrderCompleted):
            return self._check_completed(body, till, now_us)
        if isinstance(body, LOYALTY_TYPES):
            return self.loyalty.check(body)
        if isinstance(body, PAYMENT_TYPES):
            return self.tenders.check(body, self.closed_baskets)
        if isinstance(body, OrderExchanged):  # a refund and a sale in one (domain.exchange)
            return check_exchanged(self, body, till)
        if isinstance(body, OrderRefunded):
            self._check_refund(body)
            body = replace(body, number=body.number or self.numbers.next_refund(till))
        elif isinstance(body, WalletToppedUp):
            if body.amount <= 0:
                raise InvalidInput("wallet.bad_amount", "top up a positive amount")
            if body.member not in self.members and not self.floats.caps.limited:
                raise NotFound("member.not_found", "no such member", member=body.member)
            after = check_amount(self.balance(body.member) + body.amount, CEILING, "balance")
            return replace(body, balance_after=after)
        elif isinstance(body, (*FLOAT_IN, FloatCapsSet, FloatReturned)):
            return self.floats.check(body)
        elif isinstance(body, MemberRegistered):  # the member desk's rules (domain.member_desk)
            return check_registered(self.members, body)
        elif isinstance(body, MemberUpdated):
            return check_updated(self.members, body)
        elif isinstance(body, (LineAdded, BasketVoided)) and self._closed(body.basket):
            raise Conflict("basket.closed", "this basket was completed or voided")
        elif isinstance(body, OrderFrozen):
            self.order(body.order_id)
        elif isinstance(body, OrderUnfrozen) and not self.order(body.order_id).frozen:
            raise Conflict("order.not_frozen", "this order is not frozen")
        return body

    def _check_completed(self, o: OrderCompleted, till: str, now_us: int = 0) -> OrderCompleted:
        if o.order_id in self.orders or self._closed(o.order_id):
            raise Conflict(
                "order.already_completed",
                "this basket was already paid or voided",
                order_id=o.order_id,
            )
        if not o.lines:
            raise Conflict("basket.empty", "nothing to pay for")
        if sum(ln.total for ln in o.lines) != o.total:
            raise InvalidInput("order.bad_total", "line totals do not add up")
        if sum(p.amount for p in o.payments) != o.total + o.rounding:
            raise Conflict(
                "payment.unbalanced",
                "payments must equal the total",
                total=o.total,
                paid=sum(p.amount for p in o.payments),
            )
        need: dict[str, int] = {}
        for p in o.payments:
            if p.amount <= 0:
                raise InvalidInput("payment.bad_amount", "payment amounts are positive")
            if p.kind == "wallet":
                need[p.member] = need.get(p.member, 0) + p.amount
        for member in need:
            if member not in self.members and not self.floats.caps.limited:  # chain: any store's
                raise NotFound("member.not_found", "no such member", member=member)
        self.floats.check_spends(o)  # within this store's float (HQ authorised the rest)
        self.loyalty.check_order(o, self.members, now_us, self.floats.caps.points)
        o = self.tenders.check_order(o)  # QR / provider card: succeeded, unused, this basket's
        return replace(o, number=o.number or self.numbers.next_order(till))

    def _check_refund(self, r: OrderRefunded) -> None:
        rec = self.order(r.order_id)
        if rec.frozen:
            raise Conflict("order.frozen", "this order is frozen", reason=rec.frozen_reason)
        if r.refund_id in rec.refunds:
            raise Conflict("refund.duplicate", "this refund was already made")
        by_id = {ln.line_id: ln for ln in rec.order.lines}
        for rl in r.lines:
            ln = by_id.get(rl.line_id)
            if ln is None:
                raise NotFound(
                    "refund.line_not_found", "order has no such line", line_id=rl.line_id
                )
            if (
                rec.refunded_qty.get(rl.line_id, 0) + rl.qty > ln.qty
                or rec.refunded_amount.get(rl.line_id, 0) + rl.amount > ln.total
                or rl.amount < 0
            ):
                raise Conflict(
                    "refund.exceeds_paid",
                    "cannot refund more than was paid for a line",
                    line_id=rl.line_id,
                )
        refunded = rec.refunded_tender or [0] * len(rec.order.payments)
        room: dict[tuple[str, str, str], int] = {}
        for idx, p in enumerate(rec.order.payments):
            key = (p.kind, p.member, p.reference)
            room[key] = room.get(key, 0) + p.amount - refunded[idx]
        for t in r.tenders:
            key = (t.kind, t.member, t.reference)
            room[key] = room.get(key, 0) - t.amount
            if room[key] < 0 or t.amount < 0:
                raise Conflict(
                    "refund.exceeds_paid",
                    "cannot give back more than a tender received",
                    tender=t.kind,
                )

    # ------------------------------------------------------------ apply (after commit)
    def apply(self, body: Any, staff: str, till: str, ts: int, seq: int) -> None:
        self._apply(body, staff, till, ts, seq)
        self.seq = seq  # after: an order fetched from the archive meanwhile is as of seq - 1

    def _apply(self, body: Any, staff: str, till: str, ts: int, seq: int) -> None:
        if staff and till:
            self.staff.touch(staff, till, ts)
        if isinstance(body, OrderExchanged):  # its returned part, then its sold part
            for part in body.parts():
                self.apply(part, staff, till, ts, seq)
        if isinstance(body, _STOCK_TYPES):
            self.stock.apply(body)
        self.floats.apply(body)
        if isinstance(body, (*FLOAT_IN, FloatReturned)) and body.kind == "wallet":
            sign = -1 if isinstance(body, FloatReturned) else 1  # back to HQ's pool
            self.wallets[body.member] = self.wallets.get(body.member, 0) + sign * body.amount
        if isinstance(body, (OrderCompleted, *PAYMENT_TYPES)):
            self.tenders.apply(body, till, ts)
        if isinstance(body, _STAFF_TYPES):
            self.staff.apply(body, ts)
        elif isinstance(body, _DAY_TYPES):
            self.days.apply(body, ts)
        elif isinstance(body, LineAdded):
            if body.basket not in self.closed_baskets:
                self.open_baskets[body.basket] = till
        elif isinstance(body, OrderCompleted):
            self.open_baskets.pop(body.order_id, None)
            self.closed_baskets[body.order_id] = seq
            self.numbers.order_done(till, body.number, body.order_id)
            self.orders[body.order_id] = OrderRecord(
                order=body,
                staff=staff,
                till=till,
                ts=ts,
                seq=seq,
                refunded_tender=[0] * len(body.payments),
            )
            for p in body.payments:
                if p.kind == "wallet":
                    self.wallets[p.member] = self.wallets.get(p.member, 0) - p.amount
            self.loyalty.apply_order(body, ts)
        elif isinstance(body, BasketVoided):
            self.open_baskets.pop(body.basket, None)
            self.closed_baskets[body.basket] = seq
        elif isinstance(body, OrderRefunded):
            rec = self.orders[body.order_id]  # an evicted order comes back from the archive
            before, before_total = list(rec.refunded_tender), rec.refunded_total
            rec.record_refund(body)
            self.numbers.refund_done(till, body.number, body.order_id)
            for t in body.tenders:
                if t.kind == "wallet":
                    self.wallets[t.member] = self.wallets.get(t.member, 0) + t.amount
            self.loyalty.apply_refund(body, rec, before, before_total)
        elif isinstance(body, OrderFrozen):
            rec = self.orders[body.order_id]
            rec.frozen, rec.frozen_reason = True, body.reason
        elif isinstance(body, OrderUnfrozen):
            rec = self.orders[body.order_id]
            rec.frozen, rec.frozen_reason = False, ""
        elif isinstance(body, MemberRegistered):
            self.members[body.member] = member_of(body)
            self.wallets.setdefault(body.member, 0)
        elif isinstance(body, MemberUpdated):
            self.members[body.member] = member_of(body, self.members.get(body.member))
        elif isinstance(body, WalletToppedUp):
            self.wallets[body.member] = self.wallets.get(body.member, 0) + body.amount
        elif isinstance(body, LOYALTY_TYPES):
            self.loyalty.apply(body, ts)
        if self.loyalty.moved:  # points earned, spent, given back: the chain rule (member_float)
            self.floats.points(self.loyalty.take_moves())
