"""Import and export HQ's products as CSV or XLSX. An import is all or nothing: the file is
first checked (``dry_run=1``), bad rows are listed with their row number and what is wrong, and
only a file without any bad row can be applied. Files are chosen in the system's file dialog."""

from __future__ import annotations

from pathlib import Path
from tkinter import filedialog
from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table
from kiosk.errors import error_text
from kiosk.i18n import N_, T, _, shown

__all__ = ["ImportExportScreen", "format_of"]

TYPES = [("CSV", "*.csv"), ("Excel", "*.xlsx")]


def format_of(path: str | Path) -> str:
    return "xlsx" if str(path).lower().endswith(".xlsx") else "csv"


class ImportExportScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Import / export products"))
        bar = self.toolbar()
        self.action(bar, N_("Export CSV…"), "products.read", lambda: self.export("csv"))
        self.action(bar, N_("Export XLSX…"), "products.read", lambda: self.export("xlsx"))
        self.action(bar, N_("Check a file…"), "products.edit", self.choose, "secondary")
        self.apply_button = self.action(bar, N_("Apply"), "products.edit", self.apply, "success")
        self.apply_button.configure(state="disabled")
        self.status = ttk.Label(self, text=T("Choose a CSV or XLSX file to check."), wraplength=900)
        self.status.pack(fill="x", pady=6)
        self.rows = Table(
            self,
            [("row", N_("Row"), 6), ("code", N_("Problem"), 22), ("message", N_("Details"), 50)],
            height=14,
            rtl=app.rtl,
        )
        self.rows.pack(fill="both", expand=True)
        self.file: Path | None = None

    def export(self, fmt: str) -> None:
        path = filedialog.asksaveasfilename(
            parent=self, defaultextension="." + fmt, filetypes=TYPES, initialfile="products." + fmt
        )
        if path:
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: str) -> None:
        def write(data: bytes) -> None:
            path.write_bytes(data)
            self.say(_("Exported to {path}.").format(path=path))

        self.app.call(
            lambda: self.app.api.download("/v1/hq/products/export", format=fmt),
            write,
            label="export",
        )

    def choose(self) -> None:
        path = filedialog.askopenfilename(parent=self, filetypes=TYPES)
        if path:
            self.check(Path(path))

    def check(self, path: Path) -> None:
        """Send the file with ``dry_run=1``: list its bad rows, or allow applying it."""
        self.file = path
        self.apply_button.configure(state="disabled")
        self._send(path, True)

    def apply(self) -> None:
        if self.file is not None:
            self.apply_button.configure(state="disabled")
            self._send(self.file, False)

    def _send(self, path: Path, dry: bool) -> None:
        data, fmt = path.read_bytes(), format_of(path)
        ctype = "text/csv" if fmt == "csv" else "application/octet-stream"
        self.app.call(
            lambda: self.app.api.upload(
                "/v1/hq/products/import", data, ctype, format=fmt, dry_run=1 if dry else 0
            ),
            lambda res: self.answered(res, dry),
            self.refused,
            label="import",
        )

    def answered(self, res: dict[str, Any], dry: bool) -> None:
        if not self.winfo_exists():
            return
        self.rows.fill([])
        n = res.get("count", 0)
        if dry:
            text = _("{n} rows are fine. Apply them all?").format(n=n)
            self.apply_button.configure(
                state="normal" if self.app.can("products.edit") else "disabled"
            )
        else:
            text = _("Imported {n} rows (version {version}).").format(
                n=n, version=res.get("version", "")
            )
            self.file = None
        self.status.configure(text=shown(text), bootstyle="success")

    def refused(self, exc: BaseException) -> None:
        if not self.winfo_exists():
            return
        details = getattr(exc, "details", {}) or {}
        bad = details.get("rows") or []
        self.rows.fill(bad)
        text = error_text(exc)
        if bad:
            text = _(
                "{n} rows are wrong; nothing was imported. Correct them and check again."
            ).format(n=details.get("bad_rows", len(bad)))
        self.status.configure(text=shown(text), bootstyle="danger")
        self.app.last_error = text
