"""The manager counter's Health tab: the store's alerts on top in a warning colour (what is wrong
and what to do, with the figure that raised it), then the figures in words with their units —
disk, memory, CPU, journal, commit time, uploads to HQ, catalogue, licence — from
``GET /v1/alerts`` (``actors.metrics``), refreshed every 30 s. While an alert is raised a banner
above the tabs says so on every tab; touching it opens Health. Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk
from ttkbootstrap.widgets.scrolled import ScrolledFrame

from kiosk import i18n
from kiosk.app_devices import printer_rows
from kiosk.errors import code_text
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.manager_replenish import low_stock_detail
from kiosk.widgets import TOUCH_PX

__all__ = ["HealthTab", "ALERT_NAMES", "alert_detail", "figure_rows", "size_text"]

REFRESH_MS = 30_000
MB = 1024 * 1024
ALERT_NAMES = {  # a few words each, for tables (HQ's admin app)
    "disk.low": N_("Disk nearly full"),
    "upload.lagging": N_("Sales not reaching HQ"),
    "licence.grace_low": N_("Licence grace running out"),
    "commit.slow": N_("Slow to record sales"),
    "stock.low": N_("Low stock"),
    "printer.not_ready": N_("Printer cannot print"),
}
LICENCE_WORDS = {
    "licence.ok": N_("valid"),
    "licence.grace": N_("working offline"),
    "licence.check_overdue": N_("not checked online for too long"),
    "licence.missing": N_("not installed"),
    "licence.expired": N_("ended"),
}


def size_text(n: Any) -> str:
    """Bytes as MB below 10 GB, else GB (binary units, as the disk tools show them)."""
    if not isinstance(n, (int, float)):
        return "—"
    if n < 10 * 1024 * MB:
        return _("{n} MB").format(n=i18n.number(round(n / MB)))
    return _("{n} GB").format(n=i18n.number(round(n / (1024 * MB))))


def _num(v: Any) -> str:
    return i18n.number(round(v)) if isinstance(v, (int, float)) else "—"


def _dec(v: Any) -> str:
    """One decimal (a percentage, hours); two below 1, so 0.02 % does not read as 0."""
    from decimal import Decimal

    if not isinstance(v, (int, float)):
        return "—"
    return i18n.number(Decimal(str(round(float(v), 2 if abs(v) < 1 else 1))))


def printer_detail(v: dict[str, Any]) -> str:
    """The tills whose printer cannot print, each with its state in words."""
    from kiosk.app_devices import PRINTER_WORDS

    parts = []
    for n in range(1, min(int(v.get("count") or 0), 5) + 1):
        state = str(v.get(f"printer_{n}") or "")
        words = _(PRINTER_WORDS[state]) if state in PRINTER_WORDS else state
        if v.get(f"failed_{n}"):
            words = _("{n} receipts not printed").format(n=_num(v.get(f"failed_{n}")))
        parts.append(_("till {till}: {state}").format(till=v.get(f"till_{n}"), state=words))
    return "; ".join(parts)


def alert_detail(alert: dict[str, Any]) -> str:
    """The figure behind an alert and its threshold, in words."""
    v, code = alert.get("values") or {}, alert.get("code")
    if code == "disk.low":
        return _("{free} free ({pct} %); the alert is under {limit} or {limit_pct} %.").format(
            free=size_text((v.get("free_mb") or 0) * MB),
            pct=_dec(v.get("free_pct")),
            limit=size_text((v.get("limit_mb") or 0) * MB),
            limit_pct=_dec(v.get("limit_pct")),
        )
    if code == "upload.lagging":
        text = _("{n} events waiting, the oldest {h} hours old; the alert is over {limit} hours.")
        return text.format(
            n=_num(v.get("events")), h=_dec(v.get("hours")), limit=_dec(v.get("limit_h"))
        )
    if code == "licence.grace_low":
        return _("{days} grace days left; the alert is under {limit} days.").format(
            days=_num(v.get("days")), limit=_num(v.get("limit_days"))
        )
    if code == "commit.slow":
        text = _(
            "99 % of sales were recorded within {ms} ms in the last {m} minutes; "
            "the alert is over {limit} ms."
        )
        return text.format(
            ms=_num(v.get("p99_ms")), m=_num(v.get("minutes")), limit=_num(v.get("limit_ms"))
        )
    if code == "stock.low":
        return low_stock_detail(v)
    if code == "printer.not_ready":
        return printer_detail(v)
    return ""


def _licence(f: dict[str, Any]) -> str:
    code = str(f.get("licence_code") or "")
    word = _(LICENCE_WORDS.get(code, N_("a business day cannot open")))
    days = f.get("licence_grace_days_left")
    if code in ("licence.ok", "licence.grace") and isinstance(days, int):
        return _("{state}, {days} grace days left").format(state=word, days=_num(days))
    return word


def _uploads(f: dict[str, Any]) -> str:
    if not f.get("upload_linked"):
        return _("not linked to HQ")
    n = f.get("upload_backlog_events") or 0
    if not n:
        return _("everything sent")
    hours = f.get("upload_lag_hours") or 0
    if hours < 1:
        return _("{n} events waiting, the oldest {m} minutes old").format(
            n=_num(n), m=_num(hours * 60)
        )
    return _("{n} events waiting, the oldest {h} hours old").format(n=_num(n), h=_dec(hours))


def figure_rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, value in words with its unit) for each figure of ``GET /v1/alerts``."""
    free, total = f.get("disk_free_bytes"), f.get("disk_total_bytes")
    pct = 100 * free / total if isinstance(free, int) and total else None
    p99 = f.get("commit_p99_ms")
    version = f.get("catalogue_version")
    minutes = _num((f.get("alert_window_s") or 300) / 60)
    return [
        (
            _("Disk free"),
            _("{free} of {total} ({pct} %)").format(
                free=size_text(free), total=size_text(total), pct=_dec(pct)
            ),
        ),
        (
            _("Memory"),
            _("server {used}; PC {free} free of {total}").format(
                used=size_text(f.get("server_resident_bytes")),
                free=size_text(f.get("system_memory_available_bytes")),
                total=size_text(f.get("system_memory_total_bytes")),
            ),
        ),
        (
            _("CPU"),
            _("server {a} %; PC {b} %").format(
                a=_num(f.get("cpu_percent")), b=_num(f.get("system_cpu_percent"))
            ),
        ),
        (
            _("Journal"),
            _("{size}, {n} events").format(
                size=size_text(f.get("journal_bytes")), n=_num(f.get("journal_seq"))
            ),
        ),
        (
            _("Time to record a sale"),
            _("99 % within {ms} ms ({n} in the last {m} minutes)").format(
                ms=_dec(p99), n=_num(f.get("commits_in_window")), m=minutes
            )
            if isinstance(p99, (int, float))
            else _("nothing recorded in the last {m} minutes").format(m=minutes),
        ),
        (_("Sales to HQ"), _uploads(f)),
        (
            _("Catalogue from HQ"),
            _("version {v}").format(v=_num(version)) if version is not None else _("none yet"),
        ),
        (_("Licence"), _licence(f)),
    ]


def _set_wrapped(label: Any, text: str) -> None:
    """Show ``text`` (logical order) in ``label``, wrapped to its width as it changes."""
    label.kassa_text = text
    _rewrap(label, label.winfo_width())


def _on_resize(event: Any) -> None:
    _rewrap(event.widget, event.width)


def _rewrap(label: Any, width: int) -> None:
    """Tk wraps the drawn (visual) order, which puts a right-to-left sentence's first line last:
    such text is cut into lines in reading order here, each line then prepared to be drawn."""
    import tkinter.font as tkfont

    text = getattr(label, "kassa_text", None)
    if text is None:
        return
    room = max(100, width - 16)
    if not i18n.has_rtl(text):
        label.configure(text=text, wraplength=room)
        return
    font = tkfont.Font(font=label.cget("font") or "TkDefaultFont")
    lines, line = [], ""
    for word in text.split(" "):
        longer = f"{line} {word}" if line else word
        if line and font.measure(shown(longer)) > room:
            lines.append(line)
            line = word
        else:
            line = longer
    lines.append(line)
    label.configure(text="\n".join(shown(x) for x in lines), wraplength=0)


class HealthTab(ttk.Frame):
    """The Health tab's widgets (a part of ``ManagerScreen``)."""

    app: Any
    tabs: ttk.Notebook
    health_tab: ttk.Frame

    def _health(self) -> None:
        app, f = self.app, self.health_tab
        self.health_data: dict[str, Any] = {}
        self.health_banner = ttk.Label(
            self, text="", bootstyle="inverse-danger", padding=10, font=("TkDefaultFont", 14)
        )
        self.health_banner.bind("<Button-1>", lambda _e: self.tabs.select(self.health_tab))
        self.health_banner.bind("<Configure>", _on_resize)
        self.health_alerts = ttk.Frame(f)
        self.health_alerts.pack(fill="x")
        bar = ttk.Frame(f)  # Refresh stays on screen; the figures scroll above it
        bar.pack(side="bottom", fill="x", pady=6)
        self.health_figures = ScrolledFrame(f, padding=0)
        self.health_figures.container.pack(fill="both", expand=True, pady=8)
        self.health_figures.columnconfigure(1, weight=1)
        self.health_when = ttk.Label(bar, text="")
        self.health_when.pack(side=app.side("left"), padx=4)
        ttk.Button(
            bar,
            text=T("Refresh"),
            bootstyle="info-outline",
            takefocus=False,
            command=self.load_health,
        ).pack(side=app.side("right"), padx=4, ipady=max(0, (TOUCH_PX - 30) // 2), ipadx=8)
        self._health_tick()

    def _health_tick(self) -> None:
        """Load now and again every ``REFRESH_MS`` while the screen lives."""
        if self.winfo_exists():
            self.load_health()
            self.after(REFRESH_MS, self._health_tick)

    def load_health(self) -> None:
        def ok(data: Any) -> None:
            if self.winfo_exists():
                self.show_health(data or {})

        self.app.worker.read(lambda: self.app.api.get("/v1/alerts"), ok, self.app.fail, "health")

    def show_health(self, data: dict[str, Any]) -> None:
        app = self.app
        self.health_data = data
        for w in self.health_alerts.winfo_children() + self.health_figures.winfo_children():
            w.destroy()
        alerts = data.get("alerts") or []
        for a in alerts:
            box = ttk.Frame(self.health_alerts, bootstyle="warning", padding=8)
            box.pack(fill="x", pady=(0, 6))
            for text, size in ((code_text(str(a.get("code"))), 14), (alert_detail(a), 12)):
                label = ttk.Label(
                    box,
                    bootstyle="inverse-warning",
                    font=("TkDefaultFont", size, "bold" if size == 14 else ""),
                    anchor=app.text_anchor,
                    justify=app.side("left"),
                )
                label.pack(fill="x")
                label.bind("<Configure>", _on_resize)
                _set_wrapped(label, text)
        if not alerts:
            ttk.Label(
                self.health_alerts,
                text=T("No alerts: the store is healthy."),
                bootstyle="success",
                font=("TkDefaultFont", 14),
                anchor=app.text_anchor,
            ).pack(fill="x")
        name_col, value_col = (2, 1) if app.rtl else (0, 1)
        rows = figure_rows(data.get("figures") or {})
        rows += printer_rows(data.get("devices") or {}, app.zone)  # each till's, as it reported
        for row, (name, value) in enumerate(rows):
            ttk.Label(
                self.health_figures, text=shown(name), font=("TkDefaultFont", 12, "bold")
            ).grid(row=row, column=name_col, sticky=app.text_anchor, padx=6, pady=3)
            ttk.Label(self.health_figures, text=shown(value), font=("TkDefaultFont", 12)).grid(
                row=row, column=value_col, sticky=app.text_anchor, padx=6, pady=3
            )
        ev = data.get("evaluated_us")
        self.health_when.configure(
            text=shown(_("Checked {when}").format(when=i18n.when(ev, app.zone))) if ev else ""
        )
        if not alerts:
            self.health_banner.pack_forget()
            return
        text = _("Health alerts: {n}. {first} Touch here to see the Health tab.").format(
            n=i18n.number(len(alerts)), first=code_text(str(alerts[0]["code"]))
        )
        self.health_banner.configure(anchor=app.text_anchor, justify=app.side("left"))
        _set_wrapped(self.health_banner, text)
        self.health_banner.pack(fill="x", before=self.tabs, padx=6)
