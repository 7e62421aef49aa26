"""A report from the store (X, Z, a cashier's own) laid out for people: a ``hw.report_print``
``ReportDoc`` with translated labels, money as money and counts as counts.

The same document is shown on screen (``kiosk.report_view``), printed on the receipt printer and
saved as a PDF (``hw.report_print``). Labels and value formats are in ``kiosk.report_labels``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hw.report_print import ReportDoc, Table
from kiosk import i18n
from kiosk.i18n import _
from kiosk.report_labels import TENDERS, label, value_text

__all__ = ["build_doc", "report_title", "report_warning"]

TILL_COLUMNS = (
    "till",
    "orders",
    "net_sales",
    "refunded",
    "expected_cash",
    "counted_cash",
    "cash_difference",
)
STAFF_COLUMNS = ("staff", "orders", "net_sales", "discounts", "refunded", "voids")
TENDER_COLUMNS = ("tender", "payments", "sales", "refund_count", "refunds", "net")
HOUR_COLUMNS = ("hour", "orders", "net_sales", "refunds", "refunded")
REFUND_COLUMNS = ("local_ts", "amount", "cash", "card", "wallet", "reason")
VOID_COLUMNS = ("local_ts", "lines", "amount", "reason")
# shown in the title and the lines above the tables, or used for the warning
_ABOUT = {
    "kind",
    "store_id",
    "business_day",
    "till",
    "staff",
    "currency",
    "as_of_seq",
    "journal_seq",
    "lagging",
    "quarantined",
    "quarantined_events",
    "closed_tills",
}


def report_title(kind: str, scope: str) -> str:
    if kind == "cashier":
        return _("My report")
    title = _("X report") if kind == "x" else _("Z report")
    where = _("this till") if scope == "till" else _("store")
    return f"{title} · {where}"


def report_warning(data: Any) -> str:
    """What a report's reader must know: it lags the journal, or events are missing from it."""
    if not isinstance(data, dict):
        return ""
    out = []
    if data.get("lagging"):
        out.append(
            _(
                "This report is behind the journal: it counts events up to no. {as_of} of "
                "{journal}. Show it again in a moment."
            ).format(
                as_of=i18n.number(int(data.get("as_of_seq") or 0)),
                journal=i18n.number(int(data.get("journal_seq") or 0)),
            )
        )
    if data.get("quarantined"):
        out.append(
            _(
                "{n} events could not be included in the reports and are missing from "
                "these figures. Ask for support."
            ).format(n=i18n.number(int(data["quarantined"])))
        )
    return " ".join(out)


def _cell(key: str, value: Any, currency: str) -> str:
    if key == "local_ts" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%H:%M")
        except ValueError:
            return value
    return value_text(key, value, currency)


def rows_table(key: str, rows: list[dict], columns: tuple[str, ...], currency: str) -> Table:
    """A list of records as a table of ``columns`` (those the records have)."""
    have = [c for c in columns if any(c in r for r in rows)]
    return Table(
        label(key),
        [label(c) for c in have],
        [[_cell(c, r.get(c), currency) for c in have] for r in rows],
        [i > 0 and c not in ("reason", "local_ts") for i, c in enumerate(have)],
    )


def tender_table(totals: dict[str, Any], currency: str) -> Table:
    rows = []
    for t, name in TENDERS.items():
        sales, refunds = totals.get(f"{t}_sales") or 0, totals.get(f"{t}_refunds") or 0
        rows.append(
            [
                _(name),
                value_text("sales", sales, currency),
                value_text("refunds_given", refunds, currency),
                value_text("net", sales - refunds, currency),
            ]
        )
    return Table(
        label("by_tender"),
        [label("tender"), label("sales"), label("refunds"), label("net")],
        rows,
        [False, True, True, True],
    )


def build_doc(data: dict[str, Any], kind: str, scope: str, currency: str = "") -> ReportDoc:
    """The report ``data`` (``GET /v1/reports/{kind}``) as a document in the current language."""
    cur = currency or str(data.get("currency") or "")
    lines = []
    for key in ("business_day", "till", "staff"):
        if data.get(key):
            lines.append(f"{label(key)}: {value_text(key, data[key], cur)}")
    if data.get("closed_tills"):
        lines.append(
            f"{label('closed_tills')}: {value_text('closed_tills', data['closed_tills'], cur)}"
        )
    warning = report_warning(data)
    if warning:
        lines.append(warning)
    known = _ABOUT | {"totals", "by_till", "by_staff", "by_hour", "by_tender"}
    known |= {"refund_list", "void_list"}
    for key, value in data.items():  # a field added on the server later: generic label
        if key not in known and not isinstance(value, dict | list):
            lines.append(f"{label(key)}: {value_text(key, value, cur)}")
    totals = data.get("totals") or {}
    tables = [
        Table(
            label("totals"),
            [_("Figure"), _("Value")],
            [[label(k), value_text(k, v, cur)] for k, v in totals.items()],
            [False, True],
        )
    ]
    if data.get("by_tender"):
        tables.append(rows_table("by_tender", data["by_tender"], TENDER_COLUMNS, cur))
    elif totals:
        tables.append(tender_table(totals, cur))
    if kind != "cashier":
        tables.append(rows_table("by_till", data.get("by_till") or [], TILL_COLUMNS, cur))
        tables.append(rows_table("by_staff", data.get("by_staff") or [], STAFF_COLUMNS, cur))
    lists: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("by_hour", HOUR_COLUMNS),
        ("refund_list", REFUND_COLUMNS),
        ("void_list", VOID_COLUMNS),
    )
    for key, cols in lists:
        if data.get(key):
            tables.append(rows_table(key, data[key], cols, cur))
    return ReportDoc(report_title(kind, scope), i18n.current(), lines, tables)
