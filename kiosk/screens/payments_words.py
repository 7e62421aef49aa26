"""What the manager counter's Payments tab says, in words (no Tk: tested on its own): money a
provider took that no sale holds (``GET /v1/payments/refunds``), and each line of a statement's
reconciliation (``POST /v1/payments/reconcile``) — matched, amount differs, missing from the
statement, not in our records — with a sentence saying what to do about it."""

from __future__ import annotations

import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from kiosk import i18n
from kiosk.i18n import N_, _

__all__ = [
    "STATUS_WORDS",
    "KIND_WORDS",
    "refund_why",
    "refunds_summary",
    "pair_sentence",
    "reconcile_summary",
    "short_when",
]

STATUS_WORDS = {
    "amount_differs": N_("Amount differs"),
    "missing": N_("Missing from the statement"),
    "extra": N_("Not in our records"),
    "matched": N_("Matched"),
}
KIND_WORDS = {"qr": N_("QR"), "card": N_("Card")}


def short_when(ts_us: int, zone: str) -> str:
    """A time for a table's column: the short date and the time, in the store's zone."""
    try:
        tz: _dt.tzinfo = ZoneInfo(zone)
    except Exception:  # an unknown zone shows UTC
        tz = _dt.UTC
    dt = _dt.datetime.fromtimestamp(int(ts_us) / 1_000_000, _dt.UTC).astimezone(tz)
    return format_datetime(dt, "short", locale=i18n.locale_of())


def refund_why(p: dict[str, Any]) -> str:
    """Why a payment is on the list to give back."""
    if p.get("late") or p.get("state") == "late_success":
        return _("Paid after the till gave up")
    return _("The sale was paid another way")


def refunds_summary(rows: list[dict[str, Any]], currency: str) -> str:
    if not rows:
        return _("Nothing to give back: every payment taken belongs to a sale.")
    total = sum(int(p.get("amount") or 0) for p in rows)
    return _("Payments to refund or void at the provider: {n}, {total} in all.").format(
        n=i18n.number(len(rows)), total=i18n.money(total, currency)
    )


def _money(v: Any, currency: str) -> str:
    return "" if v is None else i18n.money(int(v), currency)


def pair_sentence(r: dict[str, Any], currency: str, zone: str) -> str:
    """One reconciliation line as a sentence: what it means and what to do."""
    status = r.get("status")
    ref = str(r.get("reference") or "") or _("(no reference)")
    ours, theirs = (
        _money(r.get("journal_amount"), currency),
        _money(r.get("statement_amount"), currency),
    )
    at = r.get("journal_at_us") or r.get("statement_at_us")
    when = i18n.when(int(at), zone) if at else ""
    order = str(r.get("order_number") or "") or "—"
    if status == "matched":
        how = _("by reference") if r.get("how") == "reference" else _("by amount and date")
        return _("{ref}: {amount} on {when}, order {order}, is in the statement ({how}).").format(
            ref=ref, amount=ours, when=when, order=order, how=how
        )
    if status == "amount_differs":
        return _(
            "{ref}: we recorded {ours} (order {order}), the statement says {theirs}: "
            "{difference} apart. Ask the provider."
        ).format(
            ref=ref,
            ours=ours,
            order=order,
            theirs=theirs,
            difference=i18n.money(abs(int(r.get("difference") or 0)), currency),
        )
    if status == "missing":
        return _(
            "{ref}: we took {ours} on {when} (order {order}), but the statement does not show "
            "it. Ask the provider whether it was settled."
        ).format(ref=ref, ours=ours, when=when, order=order)
    return _(
        "{ref}: the statement shows {theirs} on {when} (its line {line}), but no payment "
        "here matches it."
    ).format(ref=ref, theirs=theirs, when=when, line=i18n.number(int(r.get("line") or 0)))


def reconcile_summary(rep: dict[str, Any]) -> str:
    s, cur = rep.get("summary") or {}, str(rep.get("currency") or "")
    counts = _(
        "{matched} matched · {differs} amount differs · {missing} missing from the statement"
        " · {extra} not in our records · fees {fees}"
    ).format(
        matched=i18n.number(int(s.get("matched") or 0)),
        differs=i18n.number(int(s.get("amount_differs") or 0)),
        missing=i18n.number(int(s.get("missing") or 0)),
        extra=i18n.number(int(s.get("extra") or 0)),
        fees=i18n.money(int(s.get("fees") or 0), cur),
    )
    period = _("Statement of {first} to {last}, {rows} rows.").format(
        first=rep.get("from", ""),
        last=rep.get("to", ""),
        rows=i18n.number(int(rep.get("rows") or 0)),
    )
    return f"{period}\n{counts}"
