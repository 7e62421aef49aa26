"""The manager counter's operation log: who did what, from which till and address, newest first.

Filters: staff, till, area (kinds of events), period (today, the last 7 days… or dates typed
From/To, days in the store's zone) and free text; pages of ``PAGE`` rows read back from the
journal's end over ``GET /v1/audit?order=newest`` (never everything at once: a Treeview takes
almost a second for 100k rows), ‹ Newer / Older › to move between them. Each row is a sentence
(``oplog_words.describe``) with the time in the store's zone. ``OplogTab(notebook, app)`` adds
itself to the manager counter's notebook."""

from __future__ import annotations

import datetime as _dt
import tkinter.font as tkfont
from typing import Any
from zoneinfo import ZoneInfo

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import T, _, shown
from kiosk.screens.oplog_words import AREAS, PERIODS, describe

__all__ = ["OplogTab", "PAGE", "period_range", "fetch_page", "elide", "wrapped"]

PAGE = 100
DEFAULT_PERIOD = "7"  # the last 7 days
BUTTON_PAD = (14, 12)  # ≥ 48 px tall at the till's fonts
MAX_CALLS = 10  # requests per page (each scans up to 20,000 events) before showing what is found


def _day_start(day: _dt.date, zone: str) -> int:
    try:
        tz: _dt.tzinfo = ZoneInfo(zone)
    except Exception:
        tz = _dt.UTC
    return int(_dt.datetime.combine(day, _dt.time(), tz).timestamp() * 1_000_000)


def period_range(
    period: str, zone: str, start: str = "", end: str = "", today: _dt.date | None = None
) -> tuple[int, int]:
    """``(since, until)`` in UTC µs (0: open) for a period key of ``PERIODS``, or for the days
    ``start``..``end`` (``YYYY-MM-DD``, both included) when either is given; days are the
    store's (``zone``). Raises ValueError on a date that is not one."""
    if start or end:
        since = _day_start(_dt.date.fromisoformat(start), zone) if start else 0
        until = _day_start(_dt.date.fromisoformat(end) + _dt.timedelta(days=1), zone) if end else 0
        return since, until
    if today is None:
        try:
            today = _dt.datetime.now(ZoneInfo(zone)).date()
        except Exception:
            today = _dt.datetime.now(_dt.UTC).date()
    tomorrow = today + _dt.timedelta(days=1)
    first = {"today": today, "yesterday": today - _dt.timedelta(days=1)}.get(period)
    if period in ("7", "30"):
        first = today - _dt.timedelta(days=int(period) - 1)
    if first is None:
        return 0, 0
    last = today if period == "yesterday" else tomorrow
    return _day_start(first, zone), _day_start(last, zone)


def fetch_page(api: Any, query: dict[str, Any], before: int) -> dict[str, Any]:
    """One page of the log before seq ``before`` (0: the newest): asks on (bounded) until it has
    ``PAGE`` rows or the journal's start. Runs on the worker thread."""
    rows: list[dict] = []
    done, pos = False, before
    for _i in range(MAX_CALLS):
        out = api.get("/v1/audit", order="newest", limit=PAGE - len(rows), before=pos, **query)
        rows += out.get("events") or []
        pos, done = int(out.get("next_before") or 0), bool(out.get("done"))
        if done or len(rows) >= PAGE or pos <= 1:
            done = done or pos <= 1
            break
    return {"rows": rows, "before": before, "next_before": pos, "done": done}


def elide(text: str, px: int, measure: Any) -> str:
    """``text`` cut at its logical end (with "…") so that, shaped, it fits ``px`` pixels (a
    Treeview clips the right edge, which in Arabic is where a sentence begins)."""
    if px <= 0 or measure(shown(text)) <= px:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits
        mid = (lo + hi + 1) // 2
        if measure(shown(text[:mid].rstrip() + "…")) <= px:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrapped(text: str, px: int, measure: Any) -> str:
    """``text`` broken into logical lines that fit ``px`` pixels once shaped (Tk's own wrapping
    of a right-to-left line, already in visual order, would put its start on the last line)."""
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if cur and px > 0 and measure(shown(cand)) > px:
            lines.append(cur)
            cur = word
        else:
            cur = cand
    return "\n".join([*lines, cur])


class OplogTab(ttk.Frame):
    """The operation log tab (one frame of the manager counter's notebook)."""

    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=8)
        self.app = app
        notebook.add(self, text=T("Operation log"))
        self.rows: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}
        self.staff_choices: dict[str, str] = {}  # what the staff box shows → staff id
        self.cursors: list[int] = []  # ``before`` of every page shown so far (0 = the newest)
        self.next_before = 0
        self.done = True
        self._build()
        self.app.worker.read(self.app.api.staff_list, self._staff_names, lambda _e: None, "oplog")
        self.search()

    # ---------------------------------------------------------------- widgets
    def _build(self) -> None:
        app = self.app
        side = app.side("left")
        top = ttk.Frame(self)
        top.pack(fill="x", pady=(0, 4))
        self.staff_box = self._choice(top, T("Staff"), [T("All staff")], 13, True)
        self.till_box = self._choice(top, T("Till"), [T("All tills")], 9, True)
        self.area_box = self._choice(top, T("Area"), [T(a) for a in AREAS.values()], 20)
        row = ttk.Frame(self)
        row.pack(fill="x", pady=(0, 6))
        self.period_box = self._choice(row, T("Period"), [T(p) for p in PERIODS.values()], 11)
        self.period_box.set(T(PERIODS[DEFAULT_PERIOD]))
        self.start_entry = self._entry(row, T("First day"), 9)
        self.end_entry = self._entry(row, T("Last day"), 9)
        self.text_entry = self._entry(row, T("Text"), 4, expand=True)
        self.text_entry.bind("<Return>", lambda _e: self.search())
        self.search_button = self._button(row, T("Search"), "primary", self.search)
        cols = ("when", "staff", "till", "ip", "what")
        heads = (T("Time"), T("Staff"), T("Till"), T("Address"), T("What was done"))
        widths = (225, 140, 70, 115, 420)
        box = ttk.Frame(self)
        self.tree = ttk.Treeview(box, columns=cols, show="headings", height=12)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side=app.side("right"), fill="y")
        for c, h, w in zip(cols, heads, widths, strict=True):
            self.tree.heading(c, text=h, anchor=app.text_anchor)
            self.tree.column(c, width=w, minwidth=50, anchor=app.text_anchor, stretch=c == "what")
        if app.rtl:
            self.tree.configure(displaycolumns=tuple(reversed(cols)))
        bar = ttk.Frame(self)
        bar.pack(side="bottom", fill="x", pady=(6, 0))
        self.detail = ttk.Label(self, text="", anchor=app.text_anchor, justify=side)
        self.detail.pack(side="bottom", fill="x", pady=(6, 0))
        self.detail.bind("<Configure>", lambda _e: self._show_detail())
        self.measure = tkfont.nametofont("TkDefaultFont").measure
        self.tree.pack(side=side, fill="both", expand=True)
        box.pack(fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._show_detail())
        self.newest_button = self._button(bar, T("Newest"), "info-outline", self.search)
        self.newer_button = self._button(bar, T("‹ Newer"), "secondary", self.newer)
        self.older_button = self._button(bar, T("Older ›"), "secondary", self.older)
        self.page_label = ttk.Label(bar, text="")
        self.page_label.pack(side=side, padx=12)

    def _choice(
        self, parent: ttk.Frame, label: str, values: list[str], width: int, free: bool = False
    ) -> ttk.Combobox:
        app = self.app
        ttk.Label(parent, text=label).pack(side=app.side("left"), padx=(8, 2))
        box = ttk.Combobox(
            parent,
            values=values,
            width=width,
            state="normal" if free else "readonly",
            font=app.mid_font,
            justify="right" if app.rtl else "left",
        )
        box.set(values[0])
        box.pack(side=app.side("left"), padx=4, ipady=4)
        box.bind("<<ComboboxSelected>>", lambda _e: self.search())
        if free:
            box.bind("<Return>", lambda _e: self.search())
        return box

    def _entry(self, parent: ttk.Frame, label: str, width: int, expand: bool = False) -> ttk.Entry:
        app = self.app
        ttk.Label(parent, text=label).pack(side=app.side("left"), padx=(8, 2))
        e = ttk.Entry(
            parent, width=width, font=app.mid_font, justify="right" if app.rtl else "left"
        )
        e.pack(side=app.side("left"), padx=4, ipady=6, fill="x", expand=expand)
        return e

    def _button(self, parent: ttk.Frame, text: str, style: str, cmd: Any) -> ttk.Button:
        b = ttk.Button(
            parent, text=text, bootstyle=style, command=cmd, takefocus=False, padding=BUTTON_PAD
        )
        b.pack(side=self.app.side("left"), padx=4)
        return b

    # ---------------------------------------------------------------- filters
    def _picked(self, box: ttk.Combobox, table: dict[str, str]) -> str:
        return next((k for k, v in table.items() if T(v) == box.get()), "")

    def query(self) -> dict[str, Any]:
        """The filters as ``GET /v1/audit`` takes them (raises ValueError on a bad date)."""
        staff = self.staff_box.get().strip()
        staff = "" if staff == T("All staff") else self.staff_choices.get(staff, staff)
        till = self.till_box.get().strip()
        till = "" if till == T("All tills") else till
        since, until = period_range(
            self._picked(self.period_box, PERIODS),
            self.app.zone,
            self.start_entry.get().strip(),
            self.end_entry.get().strip(),
        )
        q = {
            "staff": staff,
            "till": till,
            "kind": self._picked(self.area_box, AREAS),
            "q": self.text_entry.get().strip()[:64],
            "since": since,
            "until": until,
        }
        return {k: v for k, v in q.items() if v}

    # ---------------------------------------------------------------- pages
    def search(self) -> None:
        self.cursors = []
        self._load(0)

    def older(self) -> None:
        if not self.done:
            self._load(self.next_before)

    def newer(self) -> None:
        if len(self.cursors) >= 2:
            self.cursors.pop()  # the page shown
            self._load(self.cursors.pop())

    def _load(self, before: int) -> None:
        try:
            query = self.query()
        except ValueError:
            self.app.notify(_("Type dates as YYYY-MM-DD, for example 2026-11-30."))
            return
        api = self.app.api
        self.page_label.configure(text=shown(_("Loading…")))
        self.app.worker.read(lambda: fetch_page(api, query, before), self._show, self._failed)

    def _failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            self.page_label.configure(text="")
            self.app.fail(exc)

    def _show(self, page: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        self.cursors.append(int(page["before"]))
        self.next_before, self.done = int(page["next_before"]), bool(page["done"])
        self.tree.delete(*self.tree.get_children())
        self.rows = {}
        tills = set(self.till_box.cget("values")[1:])
        for r in page["rows"]:
            iid = str(r["seq"])
            self.rows[iid] = r
            tills.add(str(r.get("till") or ""))
            self.tree.insert("", "end", iid=iid, values=self._values(r))
        self.till_box.configure(values=[T("All tills"), *sorted(t for t in tills if t)])
        n = len(page["rows"])
        text = (
            _("No operations match.")
            if not n and len(self.cursors) == 1
            else _("Page {page} · {n} operations").format(
                page=i18n.number(len(self.cursors)), n=i18n.number(n)
            )
        )
        self.page_label.configure(text=shown(text))
        self.older_button.configure(state="disabled" if self.done else "normal")
        self.newer_button.configure(state="normal" if len(self.cursors) >= 2 else "disabled")
        self._show_detail()

    def _values(self, r: dict[str, Any]) -> tuple[str, ...]:
        staff = str(r.get("staff") or "")
        return (
            shown(i18n.when(int(r["ts"]), self.app.zone)),
            shown(elide(self.names.get(staff, staff), self._px("staff"), self.measure)),
            str(r.get("till") or ""),
            str(r.get("ip") or ""),
            shown(elide(describe(r, self.app.currency), self._px("what"), self.measure)),
        )

    def _px(self, column: str) -> int:
        return int(self.tree.column(column, "width")) - 12

    def _staff_names(self, rows: Any) -> None:
        if not self.winfo_exists() or not isinstance(rows, list):
            return
        for r in rows:
            if isinstance(r, dict) and r.get("staff"):
                self.names[str(r["staff"])] = str(r.get("name") or r["staff"])
        self.staff_choices = {
            shown(f"{name} ({sid})"): sid for sid, name in sorted(self.names.items())
        }
        self.staff_box.configure(values=[T("All staff"), *self.staff_choices])
        for iid, r in self.rows.items():
            self.tree.item(iid, values=self._values(r))

    def _show_detail(self) -> None:
        sel = self.tree.selection()
        r = self.rows.get(sel[0]) if sel else None
        if r is None:
            self._detail(_("Select an operation to read it whole."))
            return
        staff = str(r.get("staff") or "")
        text = _("{when} · {staff} at till {till} from {ip}: {what}").format(
            when=i18n.when(int(r["ts"]), self.app.zone),
            staff=self.names.get(staff, staff) or "—",
            till=r.get("till") or "—",
            ip=r.get("ip") or "—",
            what=describe(r, self.app.currency),
        )
        self._detail(text)

    def _detail(self, text: str) -> None:
        px = self.detail.winfo_width() - 8
        self.detail.configure(text=shown(wrapped(text, px if px > 50 else 0, self.measure)))
