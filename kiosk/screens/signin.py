"""Sign-in: staff number and PIN (typed, or tapped on the on-screen keypad); the till's language
can be chosen before signing in, and each staff member's own language takes over once signed in.
The shop's name and the till's id show as soon as the store answers."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import LANG_NAMES, LANGS, T, _, shown
from kiosk.widgets import Keypad

__all__ = ["SignInScreen"]

WATCH_MS = 200  # how often the screen looks whether the store's configuration has come


class SignInScreen(ttk.Frame):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, padding=24)
        self.app = app
        box = ttk.Frame(self)
        box.place(relx=0.5, rely=0.45, anchor="center")
        form = ttk.Frame(box)
        form.pack(side=app.side("left"), padx=24)
        ttk.Label(form, text="kassa", font=("Noto Sans", 40, "bold"), bootstyle="primary").pack(
            pady=(0, 4)
        )
        self.store_label = ttk.Label(form, text="", font=app.mid_font)
        self.store_label.pack()
        self.till_label = ttk.Label(form, text="", bootstyle="secondary")
        self.till_label.pack()
        ttk.Label(form, text=T("Sign in"), font=app.mid_font).pack(pady=(16, 8))
        anchor = app.text_anchor
        ttk.Label(form, text=T("Staff number")).pack(anchor=anchor)
        self.staff = ttk.Entry(form, width=20, font=app.mid_font, justify="center")
        self.staff.pack(pady=4, ipady=6)
        ttk.Label(form, text=T("PIN")).pack(anchor=anchor)
        self.pin = ttk.Entry(form, width=20, show="•", font=app.mid_font, justify="center")
        self.pin.pack(pady=4, ipady=6)
        self.button = ttk.Button(
            form,
            text=T("Sign in"),
            bootstyle="primary",
            command=self.submit,
            width=20,
            takefocus=False,
            padding=(14, 14),
        )
        self.button.pack(pady=10)
        self.error = ttk.Label(form, text="", bootstyle="danger", wraplength=380)
        self.error.pack()
        langs = ttk.Frame(form)
        langs.pack(pady=(16, 0))
        self.lang_buttons = {}
        for code in LANGS:
            b = ttk.Button(
                langs,
                text=shown(LANG_NAMES[code]),
                bootstyle="secondary" if code != i18n.current() else "info",
                command=lambda c=code: app.set_device_language(c),
                takefocus=False,
                padding=(10, 12),
            )
            b.pack(side=app.side("left"), padx=4)
            self.lang_buttons[code] = b
        self.field: ttk.Entry = self.staff  # where the keypad's digits go: the field last used
        self.keypad = Keypad(
            box, target=lambda: self.field, on_enter=self._keypad_enter, decimal=False
        )
        self.keypad.pack(side=app.side("left"), padx=24)
        self.staff.bind("<FocusIn>", lambda e: self._use(self.staff), add="+")
        self.pin.bind("<FocusIn>", lambda e: self._use(self.pin), add="+")
        self.staff.bind("<Return>", lambda e: self.pin.focus_set())
        self.pin.bind("<Return>", lambda e: self.submit())
        self.staff.focus_set()
        self._watch: str | None = None
        self.show_store()

    def show_store(self) -> None:
        """The shop's name and the till's id; until the store answers, say the till is waiting."""
        self._watch = None
        if not self.winfo_exists():
            return
        name = str(self.app.store.get("name") or "")
        self.till_label.configure(text=shown(_("Till {till}").format(till=self.app.till)))
        if name:
            self.store_label.configure(text=shown(name))
            return
        self.store_label.configure(text=T("Waiting for the store…"))
        self._watch = self.after(WATCH_MS, self.show_store)

    def destroy(self) -> None:
        if self._watch is not None:
            self.after_cancel(self._watch)
            self._watch = None
        super().destroy()

    def _use(self, entry: ttk.Entry) -> None:
        self.field = entry

    def _keypad_enter(self) -> None:
        if self.field is self.staff:
            self.field = self.pin
            self.pin.focus_set()
        else:
            self.submit()

    def submit(self) -> None:
        staff, pin = self.staff.get().strip(), self.pin.get().strip()
        if not staff or not pin:
            self.error.configure(text=T("Enter your staff number and PIN."))
            return
        self.button.configure(state="disabled")
        self.error.configure(text=T("Signing in…"), bootstyle="secondary")

        def done(exc: BaseException | None) -> None:
            if not self.winfo_exists():
                return
            self.button.configure(state="normal")
            if exc is not None:
                from kiosk.errors import error_text

                self.pin.delete(0, "end")
                self.error.configure(text=shown(error_text(exc)), bootstyle="danger")

        self.app.sign_in(staff, pin, done)
