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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain import day as _day
from domain import licence as _licence  # noqa: F401 - licence.* kinds are known where events are checked
from domain import staff as _staff
from domain.book_records import Member, OrderRecord, decide_refund, find_member
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import (
    BasketVoided,
    LineAdded,
    LineDiscounted,
    MemberRegistered,
    OrderCompleted,
    OrderDiscounted,
    OrderFrozen,
    OrderRefunded,
    OrderUnfrozen,
    QuantityChanged,
    StockAdjusted,
    StockCounted,
    StockReceived,
    WalletToppedUp,
)
from domain.exchange import check_exchanged
from domain.exchange_events import OrderExchanged
from domain.money import (
    CEILING,
    DEFAULT_LIMITS,
    Limits,
    check_amount,
    check_quantity,
)
from domain.numbering import Numbers
from domain.stock import StockBook

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
_STOCK_TYPES = (OrderCompleted, OrderRefunded, StockReceived, StockAdjusted, StockCounted)


def check_bounds(body: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse (``amount.too_large`` / ``quantity.too_large``) an event whose amounts or quantities
    exceed ``limits`` or ``CEILING``: the ledger's last word, whatever path the event came by."""
    if isinstance(body, LineAdded):
        check_amount(body.unit_price, limits.max_unit_price, "unit_price")
        check_quantity(body.qty, limits.line_limit(body.unit), "qty")
    elif isinstance(body, QuantityChanged):
        check_quantity(body.qty, max(limits.max_line_qty, limits.max_line_weight_g), "qty")
    elif isinstance(body, (LineDiscounted, OrderDiscounted)):
        check_amount(body.value, CEILING, "discount")
    elif isinstance(body, BasketVoided):
        check_amount(body.amount, CEILING, "amount")
    elif isinstance(body, OrderCompleted):
        check_amount(body.total, limits.max_order_total, "total")
        for v in (body.subtotal, body.discount, body.tax, body.rounding, body.change):
            check_amount(v, CEILING, "amount")
        for ln in body.lines:
            check_amount(ln.unit_price, limits.max_unit_price, "unit_price")
            check_quantity(ln.qty, limits.line_limit(ln.unit), "qty")
            for v in (ln.base, ln.discount, ln.amount, ln.tax, ln.total):
                check_amount(v, CEILING, "amount")
        for p in body.payments:
            for v in (p.amount, p.tendered):
                check_amount(v, limits.max_tender, "tender")
            check_amount(p.change, CEILING, "change")
    elif isinstance(body, OrderRefunded):
        for v in (
            body.amount,
            body.rounding,
            *(rl.amount for rl in body.lines),
            *(rl.tax for rl in body.lines),
            *(t.amount for t in body.tenders),
        ):
            check_amount(v, CEILING, "amount")
        for rl in body.lines:
            check_quantity(rl.qty, CEILING, "qty")
    elif isinstance(body, WalletToppedUp):
        check_amount(body.amount, limits.max_topup, "amount")
    elif isinstance(body, StockReceived):
        check_quantity(body.qty, limits.max_stock_qty, "qty")
    elif isinstance(body, StockAdjusted):
        check_quantity(body.delta, limits.max_stock_qty, "delta")
    elif isinstance(body, StockCounted):
        check_quantity(body.counted, limits.max_stock_qty, "counted")
        check_quantity(body.previous, CEILING, "previous")
    elif isinstance(body, _day.DayOpened):
        check_amount(body.float, limits.max_tender, "float")
    elif isinstance(body, _day.DayClosed):
        check_amount(body.counted_cash, limits.max_tender, "counted_cash")


@dataclass(frozen=True, slots=True)
class BookRules:
    """The store's settings a book enforces, given when it is built (the store's ledger actor
    passes ``require_open_day=True`` and the limits of ``store.json``)."""

    require_open_day: bool = False  # a till sells, refunds and tops up only while its day is open
    limits: Limits = DEFAULT_LIMITS  # no amount or quantity beyond these is journaled


class Book:
    """Mutable projection used by the ledger to check and complete events before they commit."""

    def __init__(self, rules: BookRules = BookRules()) -> None:
        self.rules = rules
        self.wallets: dict[str, int] = {}
        self.members: dict[str, Member] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.open_baskets: dict[str, str] = {}  # basket id -> till
        self.closed_baskets: set[str] = set()
        self.numbers = Numbers()  # short order/refund numbers: counters and the index
        self.till_orders: dict[str, int] = self.numbers.orders
        self.staff = _staff.StaffBook()
        self.days = _day.DayBook()
        self.stock = StockBook()

    # ------------------------------------------------------------ queries
    def balance(self, member: str) -> int:
        return self.wallets.get(member, 0)

    def order(self, order_id: str) -> OrderRecord:
        rec = self.orders.get(order_id)
        if rec is None:
            raise NotFound("order.not_found", f"no order {order_id}", order_id=order_id)
        return rec

    def find_member(self, key: str) -> Member:
        return find_member(self.members, key)

    def staff_state(self) -> dict[str, Any]:
        """Staff accounts, permissions, sessions and days: what the gateway mirrors."""
        return {**self.staff.state(), "days": self.days.state()}

    # ------------------------------------------------------------ check (before commit)
    def check(self, body: Any, till: str) -> Any:
        """Raise if committing ``body`` would break an invariant; return the body to commit."""
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
            return self._check_completed(body, till)
        if isinstance(body, OrderExchanged):  # a refund and a sale in one (domain.exchange)
            return check_exchanged(self, body, till)
        if isinstance(body, OrderRefunded):
            self._check_refund(body)
            body = replace(body, number=body.number or self.numbers.next_refund(till))
        elif isinstance(body, WalletToppedUp):
            if body.amount <= 0:
                raise InvalidInput("wallet.bad_amount", "top up a positive amount")
            if body.member not in self.members:
                raise NotFound("member.not_found", "no such member", member=body.member)
            after = check_amount(self.balance(body.member) + body.amount, CEILING, "balance")
            return replace(body, balance_after=after)
        elif isinstance(body, MemberRegistered):
            if body.member in self.members:
                raise Conflict("member.exists", "this member id is taken", member=body.member)
            for m in self.members.values():
                if body.card and body.card == m.card:
                    raise Conflict("member.card_taken", "this card belongs to another member")
        elif isinstance(body, (LineAdded, BasketVoided)) and body.basket in self.closed_baskets:
            raise Conflict("basket.closed", "this basket was completed or voided")
        elif isinstance(body, OrderFrozen):
            self.order(body.order_id)
        elif isinstance(body, OrderUnfrozen) and not self.order(body.order_id).frozen:
            raise Conflict("order.not_frozen", "this order is not frozen")
        return body

    def _check_completed(self, o: OrderCompleted, till: str) -> OrderCompleted:
        if o.order_id in self.orders or o.order_id in self.closed_baskets:
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
        for member, amount in need.items():
            if member not in self.members:
                raise NotFound("member.not_found", "no such member", member=member)
            if self.balance(member) < amount:
                raise Conflict(
                    "wallet.insufficient_funds",
                    "the wallet balance is too low",
                    member=member,
                    balance=self.balance(member),
                    asked=amount,
                )
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
        if staff and till:
            self.staff.touch(staff, till, ts)
        if isinstance(body, OrderExchanged):  # its returned part, then its sold part
            for part in body.parts():
                self.apply(part, staff, till, ts, seq)
        if isinstance(body, _STOCK_TYPES):
            self.stock.apply(body)
        if isinstance(body, _STAFF_TYPES):
            self.staff.apply(body, ts)
        elif isinstance(body, _DAY_TYPES):
            self.days.apply(body, ts)
        elif isinstance(body, LineAdded):
            if body.basket not in self.closed_baskets:
                self.open_baskets[body.basket] = till
        elif isinstance(body, OrderCompleted):
            self.open_baskets.pop(body.order_id, None)
            self.closed_baskets.add(body.order_id)
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
        elif isinstance(body, BasketVoided):
            self.open_baskets.pop(body.basket, None)
            self.closed_baskets.add(body.basket)
        elif isinstance(body, OrderRefunded):
            rec = self.orders[body.order_id]
            rec.refunds.append(body.refund_id)
            rec.refund_numbers.append(body.number)
            self.numbers.refund_done(till, body.number, body.order_id)
            for rl in body.lines:
                rec.refunded_qty[rl.line_id] = rec.refunded_qty.get(rl.line_id, 0) + rl.qty
                rec.refunded_amount[rl.line_id] = rec.refunded_amount.get(rl.line_id, 0) + rl.amount
            for t in body.tenders:
                left = t.amount
                for idx, p in enumerate(rec.order.payments):
                    if (p.kind, p.member, p.reference) != (t.kind, t.member, t.reference):
                        continue
                    take = min(left, p.amount - rec.refunded_tender[idx])
                    rec.refunded_tender[idx] += take
                    left -= take
                if t.kind == "wallet":
                    self.wallets[t.member] = self.wallets.get(t.member, 0) + t.amount
        elif isinstance(body, OrderFrozen):
            rec = self.orders[body.order_id]
            rec.frozen, rec.frozen_reason = True, body.reason
        elif isinstance(body, OrderUnfrozen):
            rec = self.orders[body.order_id]
            rec.frozen, rec.frozen_reason = False, ""
        elif isinstance(body, MemberRegistered):
            self.members[body.member] = Member(body.member, body.name, body.phone, body.card)
            self.wallets.setdefault(body.member, 0)
        elif isinstance(body, WalletToppedUp):
            self.wallets[body.member] = self.wallets.get(body.member, 0) + body.amount
