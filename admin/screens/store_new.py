"""The "New store" tab of Stores & licences: a store made from HQ's base data, as ``kassa admin
store create`` makes it (``POST /v1/hq/stores``, admin only). The setup file is saved in the
chosen folder (owner-only); the setup code is shown once, to be told to the installer apart from
the file, and the first manager's PIN appears at the store when it is set up with the code."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from tkinter import filedialog
from typing import Any

import ttkbootstrap as ttk

from kiosk.errors import error_text
from kiosk.i18n import LANG_NAMES, LANGS, N_, T, _, shown

__all__ = ["NewStoreTab", "save_setup"]

STORE_FIELDS = (
    ("store", N_("Store id"), "", 10),
    ("name", N_("Store name"), "", 20),
    ("zone", N_("Time zone"), "Asia/Bangkok", 16),
    ("currency", N_("Currency"), "THB", 6),
    ("group", N_("Price group"), "default", 12),
    ("cloud_url", N_("HQ address for the store"), "", 22),
)
LICENCE_FIELDS = (
    ("tills", N_("Tills"), "2", 5),
    ("days", N_("Days"), "365", 5),
    ("grace", N_("Grace days offline"), "7", 5),
    ("features", N_("Features (comma separated)"), "", 12),
    ("manager_id", N_("First manager's id"), "m1", 8),
    ("manager_name", N_("First manager's name"), "Manager", 12),
)


def save_setup(folder: Path, file_name: str, bundle_b64: str) -> Path:
    """Write the setup file (owner-only) into ``folder``; never over an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(file_name).name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(bundle_b64))
    return path


class NewStoreTab(ttk.Frame):
    def __init__(self, parent: Any, screen: Any) -> None:
        super().__init__(parent, padding=6)
        self.screen, self.app = screen, screen.app
        cols = ttk.Frame(self)
        cols.pack(fill="x")
        side = self.app.side("left")
        left, right = ttk.Frame(cols), ttk.Frame(cols)
        left.pack(side=side, anchor="n", padx=(0, 4))
        right.pack(side=side, anchor="n")
        self.entries: dict[str, ttk.Entry] = {}
        for frame, fields in ((left, STORE_FIELDS), (right, LICENCE_FIELDS)):
            for row, (key, label, default, width) in enumerate(fields):
                e = screen.field(frame, label, row, width)
                e.insert(0, default)
                self.entries[key] = e
        self.entries["cloud_url"].insert(0, self.app.api.base)
        screen.label(right, T("Language"), len(LICENCE_FIELDS))
        self.names = [shown(LANG_NAMES[c]) for c in LANGS]
        self.lang = ttk.Combobox(right, values=self.names, state="readonly", width=10)
        self.lang.set(self.names[0])
        self.lang.grid(row=len(LICENCE_FIELDS), column=screen.entry_col, sticky="we", pady=2)
        where = ttk.Frame(self)
        where.pack(fill="x", pady=(8, 0))
        rtl = self.app.rtl  # label, folder, button in reading order
        ttk.Label(where, text=T("Save the setup file in")).grid(
            row=0, column=2 if rtl else 0, sticky="e" if rtl else "w", padx=8
        )
        self.folder = ttk.Entry(where, width=40)
        self.folder.insert(0, str(Path.home()))
        self.folder.grid(row=0, column=1, sticky="we", pady=2)
        ttk.Button(
            where, text=T("Choose…"), bootstyle="secondary", takefocus=False, command=self.choose
        ).grid(row=0, column=0 if rtl else 2, padx=6)
        bar = screen.toolbar(self)
        screen.action(bar, N_("Create store"), "stores.create", self.create, "success")
        self.result = ttk.Text(self, height=5, wrap="word")
        self.result.pack(fill="x", pady=(6, 0))
        self.result.configure(state="disabled")
        self.text_colour = str(self.result.cget("foreground"))
        self.made: dict[str, Any] | None = None

    def choose(self) -> None:
        folder = filedialog.askdirectory(parent=self, initialdir=self.folder.get() or None)
        if folder:
            self.folder.delete(0, "end")
            self.folder.insert(0, folder)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: e.get().strip() for k, e in self.entries.items()}
        out["manager_lang"] = LANGS[self.names.index(self.lang.get())]
        return out

    def create(self) -> None:
        body, folder = self.body(), Path(self.folder.get().strip() or Path.home())
        made = self.made
        if made is not None and made.get("store") == body["store"] and not made.get("saved"):
            self.created(made, folder)  # made at HQ, its file not saved yet: save it now
            return
        if (folder / f"{body['store']}.setup").exists():
            self.show(
                _("{path} exists already: choose another folder.").format(
                    path=folder / f"{body['store']}.setup"
                ),
                error=True,
            )
            return
        self.app.call(
            lambda: self.app.api.post("/v1/hq/stores", body),
            lambda res: self.created(res, folder),
            self.refused,
            label="create store",
        )

    def created(self, res: dict[str, Any], folder: Path) -> None:
        self.made = res
        lines = [
            _("Store {store} created.").format(store=res["store"]),
            _("Setup code: {code} (tell it to the installer apart from the file).").format(
                code=res["setup_code"]
            ),
        ]
        try:
            path = save_setup(folder, str(res["file_name"]), str(res["bundle"]))
        except OSError as exc:  # made at HQ: the same file is saved by pressing again
            lines.append(
                _("The setup file could not be saved ({error}): choose another folder and "
                  "press Create store again.").format(error=exc.strerror or exc)
            )  # fmt: skip
            self.show("\n".join(lines), error=True)
            return
        res["saved"] = str(path)
        lines.append(_("Setup file: {path}").format(path=path))
        lines.append(
            _("First manager: {manager} (the PIN appears at the store).").format(
                manager=res["manager"]
            )
        )
        self.show("\n".join(lines))
        self.screen.say(lines[0])
        self.screen.load()

    def refused(self, exc: BaseException) -> None:
        text = error_text(exc)
        body = getattr(exc, "details", {}) or {}  # HQ's answer: {code, message, details}
        field = body.get("field") or (body.get("details") or {}).get("field")
        labels = {key: label for key, label, _d, _w in STORE_FIELDS + LICENCE_FIELDS}
        if field in self.entries:  # which field, in words, and the cursor put there
            self.entries[field].focus_set()
            text = f"{T(labels[field])}: {text}"
        self.show(text, error=True)

    def show(self, text: str, error: bool = False) -> None:
        if not self.winfo_exists():
            return
        self.result.configure(state="normal", foreground="#b02a37" if error else self.text_colour)
        self.result.delete("1.0", "end")
        self.result.insert("1.0", shown(text))
        self.result.configure(state="disabled")
        if error:
            self.app.notify(text)
