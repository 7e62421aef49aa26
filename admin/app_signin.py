"""The admin app's sign-in screen: user, password and language; a refusal is shown under the
fields in the chosen language (a wrong password, too many attempts, HQ unreachable)."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.errors import error_text
from kiosk.i18n import LANG_NAMES, LANGS, T, _, shown

__all__ = ["SignInScreen"]


class SignInScreen(ttk.Frame):
    def __init__(self, parent: Any, app: Any, error: str = "") -> None:
        super().__init__(parent, padding=24)
        self.app = app
        box = ttk.Frame(self)
        box.place(relx=0.5, rely=0.42, anchor="center")
        ttk.Label(box, text=T("kassa HQ"), font=app.big_font).pack(pady=(0, 4))
        ttk.Label(box, text=T("Sign in with your HQ account.")).pack(pady=(0, 16))
        anchor = app.text_anchor
        ttk.Label(box, text=T("User"), anchor=anchor).pack(fill="x")
        self.user = ttk.Entry(box, width=32, justify="right" if app.rtl else "left")
        self.user.pack(fill="x", pady=(0, 8), ipady=6)
        self.user.insert(0, app.default_user)
        ttk.Label(box, text=T("Password"), anchor=anchor).pack(fill="x")
        self.password = ttk.Entry(box, width=32, show="•")
        self.password.pack(fill="x", pady=(0, 8), ipady=6)
        self.password.bind("<Return>", lambda _e: self.sign_in())
        ttk.Label(box, text=T("Language"), anchor=anchor).pack(fill="x")
        self.lang = ttk.Combobox(box, values=_lang_names(), state="readonly", width=30)
        self.lang.set(shown(LANG_NAMES[i18n.current()]))
        self.lang.pack(fill="x", pady=(0, 12))
        self.lang.bind("<<ComboboxSelected>>", self._language)
        self.button = ttk.Button(
            box, text=T("Sign in"), bootstyle="primary", takefocus=False, command=self.sign_in
        )
        self.button.pack(fill="x")
        self.error = ttk.Label(box, text=shown(error), bootstyle="danger", wraplength=420)
        self.error.pack(fill="x", pady=(12, 0))
        (self.password if app.default_user else self.user).focus_set()

    def _language(self, _event: Any = None) -> None:
        code = LANGS[_lang_names().index(self.lang.get())]
        user = self.user.get()
        i18n.set_language(code)
        self.app.default_user = user
        self.app.show_signin()

    def sign_in(self) -> None:
        user, password = self.user.get().strip(), self.password.get()
        if not user or not password:
            self.show_error(_("Type your user name and password."))
            return
        self.button.configure(state="disabled")
        self.error.configure(text=T("Signing in…"), bootstyle="secondary")
        self.app.call(
            lambda: self.app.api.login(user, password),
            self.app.signed_in,
            lambda exc: self.show_error(error_text(exc)),
            label="login",
        )

    def show_error(self, text: str) -> None:
        if not self.winfo_exists():
            return
        self.app.last_error = text
        self.button.configure(state="normal")
        self.password.delete(0, "end")
        self.error.configure(text=shown(text), bootstyle="danger")


def _lang_names() -> list[str]:
    """Each language's own name as Tk draws it (Arabic shaped, right to left)."""
    return [shown(LANG_NAMES[c]) for c in LANGS]
