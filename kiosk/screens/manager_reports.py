"""The manager counter's reports tab: X/Z reports of this till or the store, their warnings,
and how far the upload to HQ is. Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, T, _, shown

__all__ = ["ReportsTab", "flatten_report", "report_warning", "upload_text"]


REPORT_WORDS = {
    "sales": N_("Sales"),
    "refunds": N_("Refunds"),
    "discounts": N_("Discounts"),
    "tax": N_("Tax"),
    "orders": N_("Orders"),
    "expected_cash": N_("Expected cash"),
    "counted_cash": N_("Counted cash"),
    "difference": N_("Difference"),
    "cash": N_("Cash"),
    "card": N_("Card"),
    "wallet": N_("Member wallet"),
    "topups": N_("Wallet top-ups"),
    "float": N_("Opening float"),
    "voids": N_("Voids"),
}
_MONEYISH = (
    "sales",
    "refund",
    "discount",
    "tax",
    "cash",
    "card",
    "wallet",
    "topup",
    "spend",
    "float",
    "amount",
    "total",
    "expected",
    "counted",
    "difference",
    "net",
    "gross",
    "rounding",
    "change",
)


UPLOAD_ERRORS = {
    "HQ unreachable": N_("HQ unreachable"),
    "slow line": N_("slow line"),
    "answer lost": N_("answer lost"),
    "connection cut": N_("connection cut"),
    "refused": N_("refused"),
}


def upload_text(up: dict) -> str:
    """One line for the manager: how far the upload to HQ is (the store's health report)."""
    if not up.get("configured"):
        return _("Upload: not linked to HQ")
    n = up.get("backlog_events") or 0
    text = _("Upload: {n} events waiting").format(n=n) if n else _("Upload: up to date")
    if n and up.get("rate_events_s"):
        text += " · " + _("{rate} events/s, about {minutes} min left").format(
            rate=round(up["rate_events_s"]), minutes=max(1, round((up.get("eta_s") or 0) / 60))
        )
    if n and up.get("in_flight"):
        text += " · " + _("sending {events} events").format(events=up["in_flight"]["events"])
    if up.get("last_error"):
        kind = up.get("last_error_kind")
        text += " · " + _("last error: {error}").format(
            error=_(UPLOAD_ERRORS[kind]) if kind in UPLOAD_ERRORS else up["last_error"]
        )
    return text


def flatten_report(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(flatten_report(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(flatten_report(v, f"{prefix}[{i}]"))
    else:
        out.append((prefix, data))
    return out


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


class ReportsTab(ttk.Frame):
    """The reports tab's widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    reports_tab: ttk.Frame

    # ---------------------------------------------------------------- reports
    def _reports(self) -> None:
        app, f = self.app, self.reports_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.report_buttons = {}
        for key, label, kind, scope in (
            ("x_till", T("X report: this till"), "x", "till"),
            ("x_store", T("X report: store"), "x", "store"),
            ("z_till", T("Z report: this till"), "z", "till"),
            ("z_store", T("Z report: store"), "z", "store"),
        ):
            b = ttk.Button(
                row,
                text=label,
                bootstyle="info",
                command=lambda k=kind, s=scope: self.load_report(k, s),
            )
            b.pack(side=app.side("left"), padx=4)
            self.report_buttons[key] = b
        self.report_title = ttk.Label(f, text="", font=app.mid_font)
        self.report_title.pack(anchor=app.text_anchor, pady=6)
        self.report_warning = ttk.Label(f, text="", bootstyle="danger", wraplength=900)
        self.report_warning.pack(anchor=app.text_anchor)
        self.report_tree = ttk.Treeview(f, columns=("item", "value"), show="headings", height=16)
        self.report_tree.heading("item", text=T("Item"), anchor=app.text_anchor)
        self.report_tree.heading("value", text=T("Value"), anchor="e")
        self.report_tree.column("item", width=420, anchor=app.text_anchor)
        self.report_tree.column("value", width=220, anchor="e")
        if app.rtl:
            self.report_tree.configure(displaycolumns=("value", "item"))
        self.report_tree.pack(fill="both", expand=True)
        self.upload_label = ttk.Label(f, text="")
        self.upload_label.pack(anchor=app.text_anchor, pady=(6, 0))
        self.load_upload()

    def load_upload(self) -> None:
        """The upload to HQ, from the store's health report, every 10 s while this screen lives."""

        def ok(health: dict) -> None:
            if self.winfo_exists():
                self.upload_label.configure(text=shown(upload_text(health.get("upload") or {})))

        if self.winfo_exists():
            self.app.worker.read(self.app.api.health, ok, lambda exc: None, "health")
            self.after(10_000, self.load_upload)

    def load_report(self, kind: str, scope: str) -> None:
        def ok(data: Any) -> None:
            if not self.winfo_exists():
                return
            title = _("X report") if kind == "x" else _("Z report")
            where = _("this till") if scope == "till" else _("store")
            self.report_title.configure(text=shown(f"{title} · {where}"))
            self.show_report(data)

        self.app.worker.read(lambda: self.app.api.report(kind, scope), ok, self.app.fail, "report")

    def show_report(self, data: Any) -> None:
        self.report_tree.delete(*self.report_tree.get_children())
        self.report_warning.configure(text=shown(report_warning(data)))
        cur = self.app.currency
        for key, value in flatten_report(data):
            last = key.split(".")[-1]
            label = _(REPORT_WORDS[last]) if last in REPORT_WORDS else key
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and any(w in key.lower() for w in _MONEYISH)
                and "count" not in last
            ):
                text = i18n.money(value, cur)
            elif isinstance(value, int) and not isinstance(value, bool):
                text = i18n.number(value)
            else:
                text = "" if value is None else str(value)
            self.report_tree.insert("", "end", values=(shown(label), shown(text)))
