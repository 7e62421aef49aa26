"""The manager counter's Payments tab (permission ``payments.view``), two pages:

* **To give back** — money a provider took that no sale holds: a late success after the till gave
  up, or a success whose basket was paid another way (``GET /v1/payments/refunds``), with when,
  till, tender, amount, the provider's reference and why; the manager refunds or voids each at the
  provider.
* **Statement** — a provider's settlement statement (CSV/XLSX, a path or **Choose…**) with its
  column mapping, optionally a first and last day, sent to the store (``POST
  /v1/payments/reconcile``) and shown in words: what needs looking at first (amount differs,
  missing from the statement, not in our records), then what matched; the selected line as a
  sentence (``kiosk.screens.payments_words``).

``PaymentsTab.for_staff(notebook, app)`` adds it to the manager counter's notebook for staff with
``payments.view``."""

from __future__ import annotations

import tkinter.font as tkfont
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import T, _, shown
from kiosk.screens.manager_oplog import BUTTON_PAD, wrapped
from kiosk.screens.payments_words import (
    KIND_WORDS,
    STATUS_WORDS,
    pair_sentence,
    reconcile_summary,
    refund_why,
    refunds_summary,
    short_when,
)

__all__ = ["PaymentsTab", "MAX_STATEMENT", "read_statement_file"]

MAX_STATEMENT = 8 * 1024 * 1024  # as the store takes (actors.reconcile_store.MAX_STATEMENT)
LOOK = ("amount_differs", "missing", "extra")  # lines that need looking at
SAMPLE_US = 1_798_761_599_000_000  # 2026-12-31 23:59:59 UTC: a wide date for column widths


def read_statement_file(path: str) -> bytes:
    """The statement's bytes (on the worker: a USB stick may be slow)."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(_("A statement is a .csv or .xlsx file."))
    if p.stat().st_size > MAX_STATEMENT:
        raise ValueError(_("The statement is larger than 8 MB: export a shorter period."))
    return p.read_bytes()


class PaymentsTab(ttk.Frame):
    """The Payments tab (one frame of the manager counter's notebook)."""

    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=8)
        self.app = app
        notebook.add(self, text=T("Payments"))
        self.pages = ttk.Notebook(self)
        self.pages.pack(fill="both", expand=True)
        self.back_page = ttk.Frame(self.pages, padding=8)
        self.statement_page = ttk.Frame(self.pages, padding=8)
        self.pages.add(self.back_page, text=T("To give back"))
        self.pages.add(self.statement_page, text=T("Statement"))
        self.refunds: list[dict[str, Any]] = []
        self.pairs: dict[str, dict[str, Any]] = {}
        self.report: dict[str, Any] = {}
        self.texts: dict[str, tuple[str, Any]] = {}  # label -> (its logical text, measure)
        self._build_back()
        self._build_statement()
        self.load_refunds()
        self.app.worker.read(
            lambda: self.app.api.get("/v1/payments/statement-mappings"),
            self._mappings,
            lambda _e: None,
            "mappings",
        )

    @classmethod
    def for_staff(cls, notebook: ttk.Notebook, app: Any) -> PaymentsTab | None:
        """The tab, for staff who may see payments (``payments.view``); else none."""
        return cls(notebook, app) if app.can("payments.view") else None

    # ---------------------------------------------------------------- widgets
    def _button(self, parent: ttk.Frame, text: str, style: str, cmd: Any) -> ttk.Button:
        b = ttk.Button(
            parent, text=text, bootstyle=style, command=cmd, takefocus=False, padding=BUTTON_PAD
        )
        b.pack(side=self.app.side("left"), padx=4)
        return b

    def _tree(self, parent: ttk.Frame, cols: dict[str, tuple[str, list[str]]]) -> ttk.Treeview:
        """Columns as wide as their heading or the widest of their samples, in the tree's font
        (the till's fonts grow with its screen)."""
        app = self.app
        box = ttk.Frame(parent)
        box.pack(fill="both", expand=True, pady=6)
        tree = ttk.Treeview(box, columns=tuple(cols), show="headings", height=10)
        scroll = ttk.Scrollbar(box, orient="vertical", command=tree.yview)
        tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side=app.side("right"), fill="y")
        first, measure = next(iter(cols)), tkfont.nametofont("TkDefaultFont").measure
        for c, (head, samples) in cols.items():
            width = max(measure(shown(t)) for t in (head, *samples)) + 32
            tree.heading(c, text=head, anchor=app.text_anchor)
            tree.column(c, width=width, minwidth=50, anchor=app.text_anchor, stretch=c == first)
        if app.rtl:
            tree.configure(displaycolumns=tuple(reversed(cols)))
        tree.tag_configure("look", foreground="#c0392b")
        tree.pack(side=app.side("left"), fill="both", expand=True)
        return tree

    def _label(self, parent: ttk.Frame, font: Any = None, **kw: Any) -> ttk.Label:
        """A label whose text is broken into lines by logical order (``set_text``): Tk's own
        wrapping of right-to-left text, already in visual order, would put its start last."""
        app = self.app
        lab = ttk.Label(parent, text="", anchor=app.text_anchor, justify=app.side("left"), **kw)
        if font is not None:
            lab.configure(font=font)
        measure = (
            tkfont.Font(font=font).measure if font else tkfont.nametofont("TkDefaultFont").measure
        )
        lab.pack(fill="x", pady=(4, 0))
        self.texts[str(lab)] = ("", measure)
        lab.bind("<Configure>", lambda _e: self.set_text(lab, self.text_of(lab)))
        return lab

    def text_of(self, label: ttk.Label) -> str:
        """The label's text in logical order, before it was broken into lines and shaped."""
        return str(self.texts[str(label)][0])

    def set_text(self, label: ttk.Label, text: str) -> None:
        measure = self.texts[str(label)][1]
        self.texts[str(label)] = (text, measure)
        px = label.winfo_width() - 8
        px = px if px > 50 else 900
        lines = (wrapped(part, px, measure) for part in text.split("\n"))
        label.configure(text=shown("\n".join(lines)))

    def _build_back(self) -> None:
        f, app = self.back_page, self.app
        top = ttk.Frame(f)
        top.pack(fill="x")
        self.refresh_button = self._button(top, T("Refresh"), "info", self.load_refunds)
        self.back_summary = ttk.Label(top, text="", font=app.mid_font)
        self.back_summary.pack(side=app.side("left"), padx=12)
        self.back_tree = self._tree(
            f,
            {
                "why": (
                    T("Why"),
                    [_("Paid after the till gave up"), _("The sale was paid another way")],
                ),
                "when": (T("Time"), [short_when(SAMPLE_US, app.zone)]),
                "till": (T("Till"), ["T00"]),
                "kind": (T("Tender"), [T(w) for w in KIND_WORDS.values()]),
                "amount": (T("Amount"), [i18n.money(9_999_999, app.currency)]),
                "reference": (T("Provider reference"), ["SIM-XXXXXXXX"]),
            },
        )
        hint = self._label(f, bootstyle="secondary")
        self.set_text(
            hint,
            _(
                "Refund or void each at the provider (its app or the terminal): "
                "no sale here holds this money."
            ),
        )

    def _build_statement(self) -> None:
        f, app = self.statement_page, self.app
        row = ttk.Frame(f)
        row.pack(fill="x")
        ttk.Label(row, text=T("Statement file")).pack(side=app.side("left"))
        self.path_entry = ttk.Entry(row, width=40, font=app.mid_font)
        self.path_entry.pack(side=app.side("left"), padx=6, ipady=6, fill="x", expand=True)
        self.choose_button = self._button(row, T("Choose…"), "secondary", self.choose_file)
        row2 = ttk.Frame(f)
        row2.pack(fill="x", pady=(6, 0))
        ttk.Label(row2, text=T("Provider")).pack(side=app.side("left"))
        self.provider_box = ttk.Combobox(row2, values=[], width=16, state="readonly")
        self.provider_box.pack(side=app.side("left"), padx=6, ipady=6)
        self.day_entries = []
        for label in (T("First day"), T("Last day")):
            ttk.Label(row2, text=label).pack(side=app.side("left"), padx=(8, 2))
            e = ttk.Entry(row2, width=10, font=app.mid_font)
            e.pack(side=app.side("left"), padx=4, ipady=6)
            self.day_entries.append(e)
        self.reconcile_button = self._button(row2, T("Reconcile"), "primary", self.reconcile)
        self.summary_label = self._label(f, font=app.mid_font)
        money = i18n.money(9_999_999, app.currency)
        self.pair_tree = self._tree(
            f,
            {
                "status": (T("Result"), [T(w) for w in STATUS_WORDS.values()]),
                "reference": (T("Reference"), ["SIM-XXXXXXXX"]),
                "ours": (T("Recorded here"), [money]),
                "theirs": (T("In the statement"), [money]),
                "order": (T("Order"), ["T00-000000"]),
                "when": (T("Time"), [short_when(SAMPLE_US, app.zone)]),
            },
        )
        self.pair_tree.bind("<<TreeviewSelect>>", lambda _e: self._show_pair())
        self.pair_detail = self._label(f)

    # ---------------------------------------------------------------- to give back
    def load_refunds(self) -> None:
        def ok(res: dict[str, Any]) -> None:
            if self.winfo_exists():
                self.show_refunds(list(res.get("payments") or []))

        self.app.worker.read(lambda: self.app.api.get("/v1/payments/refunds"), ok, self.app.fail)

    def show_refunds(self, rows: list[dict[str, Any]]) -> None:
        cur, zone = self.app.currency, self.app.zone
        self.refunds = sorted(rows, key=lambda p: -int(p.get("ended_us") or 0))
        self.back_tree.delete(*self.back_tree.get_children())
        for p in self.refunds:
            at = int(p.get("ended_us") or p.get("started_us") or 0)
            kind = str(p.get("kind") or "")
            self.back_tree.insert(
                "",
                "end",
                values=(
                    shown(refund_why(p)),
                    shown(short_when(at, zone)) if at else "",
                    str(p.get("till") or ""),
                    T(KIND_WORDS[kind]) if kind in KIND_WORDS else kind,
                    shown(i18n.money(int(p.get("amount") or 0), cur)),
                    str(p.get("reference") or ""),
                ),
                tags=("look",),
            )
        self.back_summary.configure(text=shown(refunds_summary(self.refunds, cur)))

    # ---------------------------------------------------------------- statement
    def _mappings(self, res: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        names = [str(m["name"]) for m in res.get("mappings") or () if m.get("name")]
        self.provider_box.configure(values=names)
        if names and not self.provider_box.get():
            self.provider_box.set(names[0])

    def choose_file(self) -> None:
        from tkinter import filedialog

        path = filedialog.askopenfilename(
            parent=self, filetypes=[("CSV / XLSX", "*.csv *.xlsx"), ("*", "*")]
        )
        if path:
            self.path_entry.delete(0, "end")
            self.path_entry.insert(0, path)

    def reconcile(self) -> None:
        path, provider = self.path_entry.get().strip(), self.provider_box.get().strip()
        if not path or not provider:
            self.app.notify(_("Choose the statement file and its provider first."))
            return
        first, last = (e.get().strip() for e in self.day_entries)
        query = {"provider": provider, "name": Path(path).name[:200], "from": first, "to": last}
        query = {k: v for k, v in query.items() if v}
        api = self.app.api

        def send() -> Any:
            raw = read_statement_file(path)
            return api.request("POST", "/v1/payments/reconcile", raw, query, timeout=300)

        def ok(rep: dict[str, Any]) -> None:
            if self.winfo_exists():
                self.show_report(rep)

        def err(exc: BaseException) -> None:
            if not self.winfo_exists():
                return
            self.set_text(self.summary_label, "")
            if isinstance(exc, (ValueError, OSError)):
                self.app.notify(
                    str(exc) if isinstance(exc, ValueError) else _("Cannot read the file.")
                )
            else:
                self.app.fail(exc)

        self.set_text(self.summary_label, _("Reconciling…"))
        self.app.worker.read(send, ok, err, "reconcile")

    def show_report(self, rep: dict[str, Any]) -> None:
        cur, zone = str(rep.get("currency") or self.app.currency), self.app.zone
        self.report = rep
        self.pair_tree.delete(*self.pair_tree.get_children())
        self.pairs = {}
        for i, r in enumerate(rep.get("pairs") or ()):
            status = str(r.get("status") or "")
            at = r.get("journal_at_us") or r.get("statement_at_us")
            iid = str(i)
            self.pairs[iid] = r
            money = (
                shown(i18n.money(int(v), cur)) if v is not None else "—"
                for v in (r.get("journal_amount"), r.get("statement_amount"))
            )
            self.pair_tree.insert(
                "",
                "end",
                iid=iid,
                values=(
                    T(STATUS_WORDS.get(status, status)),
                    str(r.get("reference") or ""),
                    *money,
                    str(r.get("order_number") or ""),
                    shown(short_when(int(at), zone)) if at else "",
                ),
                tags=("look",) if status in LOOK else (),
            )
        text = reconcile_summary(rep)
        if rep.get("more"):
            text += "\n" + _("{n} more matched lines are not listed.").format(
                n=i18n.number(int(rep["more"]))
            )
        self.set_text(self.summary_label, text)
        first = next(iter(self.pairs), None)
        if first is not None:
            self.pair_tree.selection_set(first)
        self._show_pair()

    def _show_pair(self) -> None:
        sel = self.pair_tree.selection()
        r = self.pairs.get(sel[0]) if sel else None
        if r is None:
            self.set_text(self.pair_detail, "")
            return
        cur = str(self.report.get("currency") or self.app.currency)
        self.set_text(self.pair_detail, pair_sentence(r, cur, self.app.zone))
