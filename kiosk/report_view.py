"""A report on the till's screen: a ``ReportDoc`` (``kiosk.report_doc``) as a title, its lines and
one table per section (figures at the end of their column, right-to-left in Arabic), in a frame
that scrolls; with buttons to print it on the receipt printer and to save it as a PDF.

Used by the manager counter's reports tab and by a cashier's own report (``kiosk.report_own``).
"""

from __future__ import annotations

import tkinter as tk
from datetime import datetime
from pathlib import Path
from tkinter import font as tkfont
from typing import Any

import ttkbootstrap as ttk

from hw.report_print import ReportDoc, Table, save_pdf, submit_report
from kiosk.i18n import T, _, shown
from kiosk.widgets import TOUCH_PX

__all__ = ["ReportView", "report_actions"]


class ReportView(ttk.Frame):
    """Shows one ``ReportDoc``; ``show(doc)`` replaces what is shown."""

    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent)
        self.app = app
        self.doc: ReportDoc | None = None
        self.canvas = tk.Canvas(self, highlightthickness=0, borderwidth=0)
        bar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=bar.set)
        bar.pack(side=app.side("right"), fill="y")
        self.canvas.pack(side=app.side("left"), fill="both", expand=True)
        self.inner = ttk.Frame(self.canvas, padding=(4, 0))
        self._win = self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self.inner.bind(
            "<Configure>", lambda e: self.canvas.configure(scrollregion=self.canvas.bbox("all"))
        )
        self.canvas.bind(
            "<Configure>", lambda e: self.canvas.itemconfigure(self._win, width=e.width)
        )
        self.canvas.bind_all("<Button-4>", lambda e: self._scroll(e, -3), add="+")
        self.canvas.bind_all("<Button-5>", lambda e: self._scroll(e, 3), add="+")
        self.trees: list[ttk.Treeview] = []
        self.title_label: ttk.Label | None = None

    def _scroll(self, event: Any, step: int) -> None:
        try:
            if str(event.widget).startswith(str(self)):
                self.canvas.yview_scroll(step, "units")
        except tk.TclError:
            pass

    def clear(self) -> None:
        for w in self.inner.winfo_children():
            w.destroy()
        self.trees = []

    def show(self, doc: ReportDoc) -> None:
        self.clear()
        self.doc = doc
        app = self.app
        self.title_label = ttk.Label(self.inner, text=shown(doc.title), font=app.mid_font)
        self.title_label.pack(anchor=app.text_anchor, pady=(2, 4))
        for line in doc.lines:
            ttk.Label(self.inner, text=shown(line), wraplength=900, justify=app.side("left")).pack(
                anchor=app.text_anchor
            )
        tables = [t for t in doc.tables if t.rows]
        # wide screens: the totals beside the other tables; narrow ones: one under another
        first = second = self.inner
        need = self._width(tables[0]) + max((self._width(t) for t in tables[1:]), default=0) + 60
        if len(tables) > 1 and need <= self.canvas.winfo_width():
            cols = ttk.Frame(self.inner)
            cols.pack(fill="x", anchor=app.text_anchor)
            first, second = ttk.Frame(cols), ttk.Frame(cols)
            first.pack(side=app.side("left"), anchor="n")
            second.pack(side=app.side("left"), anchor="n", padx=(24, 0) if not app.rtl else (0, 24))
        for i, t in enumerate(tables):
            self._table(t, first if i == 0 else second)
        self.canvas.yview_moveto(0)

    @staticmethod
    def _column_width(t: Table, i: int) -> int:
        body = tkfont.nametofont("TkDefaultFont")
        head = tkfont.nametofont("TkHeadingFont")
        texts = [shown(r[i]) for r in t.rows if i < len(r)]
        return max([body.measure(x) for x in texts] + [head.measure(shown(t.columns[i]))])

    def _width(self, t: Table) -> int:
        return sum(self._column_width(t, i) + 28 for i in range(len(t.columns)))

    def _table(self, t: Table, parent: Any) -> None:
        app = self.app
        ttk.Label(parent, text=shown(t.title), font=("Noto Sans", 14, "bold")).pack(
            anchor=app.text_anchor, pady=(10, 2)
        )
        cols = [f"c{i}" for i in range(len(t.columns))]
        tree = ttk.Treeview(parent, columns=cols, show="headings", height=len(t.rows))
        for i, c in enumerate(cols):
            width = self._column_width(t, i)
            anchor: Any = ("w" if app.rtl else "e") if t.is_numeric(i) else app.text_anchor
            tree.heading(c, text=shown(t.columns[i]), anchor=anchor)
            tree.column(c, width=width + 28, minwidth=width + 16, anchor=anchor, stretch=i == 0)
        if app.rtl:
            tree.configure(displaycolumns=tuple(reversed(cols)))
        for r in t.rows:
            tree.insert("", "end", values=[shown(x) for x in r])
        tree.pack(anchor=app.text_anchor)
        self.trees.append(tree)


def report_actions(parent: Any, app: Any, view: ReportView) -> dict[str, ttk.Button]:
    """The "Print" and "Save as PDF" buttons of a report view (packed into ``parent``)."""
    out = {
        "print": ttk.Button(
            parent,
            text=T("Print"),
            bootstyle="secondary",
            takefocus=False,
            command=lambda: print_report(app, view.doc),
        ),
        "pdf": ttk.Button(
            parent,
            text=T("Save as PDF"),
            bootstyle="secondary",
            takefocus=False,
            command=lambda: export_pdf(app, view.doc),
        ),
    }
    for b in out.values():
        b.pack(side=app.side("right"), padx=4, ipady=max(0, (TOUCH_PX - 36) // 2))
    return out


def print_report(app: Any, doc: ReportDoc | None) -> None:
    if doc is None:
        app.notify(_("Show a report first."))
        return
    if app.print_queue is None:
        app.notify(_("Printer: not set up"))
        return
    submit_report(app.print_queue, doc)
    app.notify(_("The report is printing."), error=False)


def pdf_path(app: Any, doc: ReportDoc) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(app.data_dir) / "reports" / f"report-{stamp}.pdf"


def export_pdf(app: Any, doc: ReportDoc | None) -> None:
    """Save the report as a PDF in the till's reports folder and say where (on a worker)."""
    if doc is None:
        app.notify(_("Show a report first."))
        return
    path = pdf_path(app, doc)

    def ok(saved: Path) -> None:
        app.last_pdf = saved
        app.notify(_("Saved as PDF: {path}").format(path=str(saved)), error=False)

    app.worker.read(lambda: save_pdf(doc, path), ok, app.fail, "pdf")
