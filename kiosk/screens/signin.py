"""Sign-in: staff number and PIN; the till's language can be chosen before signing in, and each
staff member's own language takes over once signed in."""

from __future__ import annotations

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import LANG_NAMES, LANGS, T, shown

__all__ = ["SignInScreen"]


class SignInScreen(ttk.Frame):
    def __init__(self, parent, app) -> None:
        super().__init__(parent, padding=40)
        self.app = app
        box = ttk.Frame(self)
        box.place(relx=0.5, rely=0.42, anchor="center")
        ttk.Label(box, text="kassa", font=("Noto Sans", 40, "bold"), bootstyle="primary").pack(
            pady=(0, 4)
        )
        name = app.store.get("name") or ""
        self.store_label = ttk.Label(box, text=shown(name))
        self.store_label.pack()
        ttk.Label(box, text=T("Sign in"), font=app.mid_font).pack(pady=(20, 10))
        anchor = app.text_anchor
        ttk.Label(box, text=T("Staff number")).pack(anchor=anchor)
        self.staff = ttk.Entry(box, width=24, font=app.mid_font, justify="center")
        self.staff.pack(pady=4)
        ttk.Label(box, text=T("PIN")).pack(anchor=anchor)
        self.pin = ttk.Entry(box, width=24, show="•", font=app.mid_font, justify="center")
        self.pin.pack(pady=4)
        self.button = ttk.Button(
            box, text=T("Sign in"), bootstyle="primary", command=self.submit, width=20
        )
        self.button.pack(pady=12)
        self.error = ttk.Label(box, text="", bootstyle="danger")
        self.error.pack()
        langs = ttk.Frame(box)
        langs.pack(pady=(24, 0))
        self.lang_buttons = {}
        for code in LANGS:
            b = ttk.Button(
                langs,
                text=shown(LANG_NAMES[code]),
                bootstyle="secondary" if code != i18n.current() else "info",
                command=lambda c=code: app.set_device_language(c),
            )
            b.pack(side=app.side("left"), padx=4)
            self.lang_buttons[code] = b
        self.staff.bind("<Return>", lambda e: self.pin.focus_set())
        self.pin.bind("<Return>", lambda e: self.submit())
        self.staff.focus_set()

    def submit(self) -> None:
        staff, pin = self.staff.get().strip(), self.pin.get().strip()
        if not staff or not pin:
            self.error.configure(text=T("Enter your staff number and PIN."))
            return
        self.button.configure(state="disabled")
        self.error.configure(text=T("Signing in…"), bootstyle="secondary")

        def done(exc):
            if not self.winfo_exists():
                return
            self.button.configure(state="normal")
            if exc is not None:
                from kiosk.errors import error_text

                self.pin.delete(0, "end")
                self.error.configure(text=shown(error_text(exc)), bootstyle="danger")

        self.app.sign_in(staff, pin, done)
