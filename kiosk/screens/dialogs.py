"""Dialogs shared by the counters: a simple form, a choice, manager PIN, problem report; the
quick cash tenders the pay screen (``kiosk.screens.pay``) offers.

Every dialog says what it acts on (``subject``: "Quantity for: Jasmine rice 5 kg"), keeps the
keyboard and the mouse while it is open (a grab; the first field has the focus), fits the screen
(1024x768 and up), shows the on-screen keypad beside numeric fields, and gives the focus back to
the counter's scan field when it closes.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.rtl_entry import RtlEntry
from kiosk.widgets import TOUCH_PX, Keypad

__all__ = [
    "FormDialog",
    "quantity_up_to",
    "ManagerPinDialog",
    "FeedbackDialog",
    "ChoiceDialog",
    "quick_tenders",
    "NUMERIC_FIELDS",
    "focus_scan_field",
]

# form fields typed with digits: a FormDialog with one of these shows the keypad beside it
NUMERIC_FIELDS = frozenset({"qty", "kg", "weight", "pct", "amount", "price", "cash", "pin"})


def focus_scan_field(app) -> None:
    """Give the keyboard back to the counter's scan field (if the screen has one)."""
    entry = getattr(getattr(app, "screen", None), "entry", None)
    try:
        if entry is not None and entry.winfo_exists():
            entry.focus_set()
    except tk.TclError:
        pass


class _Dialog(ttk.Toplevel):
    """A dialog over the till: a heading, what it acts on (``subject``), its fields (``pane``),
    optionally a keypad beside them, an error line and its buttons."""

    def __init__(self, app, title: str, subject: str = "") -> None:
        super().__init__(title=shown(title), transient=app)
        self.app = app
        # a frame of its own: over the till window even where no window manager draws one
        self.configure(
            highlightthickness=2, highlightbackground="#6c757d", highlightcolor="#6c757d"
        )
        scale = float(getattr(app, "ui_scale", 1.0))
        self.outer = ttk.Frame(self, padding=round(14 * scale))
        self.outer.pack(fill="both", expand=True)
        ttk.Label(self.outer, text=shown(title), font=app.mid_font).pack(anchor=app.text_anchor)
        self.subject_label = ttk.Label(
            self.outer, text=shown(subject), bootstyle="primary", wraplength=round(640 * scale)
        )
        if subject:
            self.subject_label.pack(anchor=app.text_anchor, pady=(2, 0))
        self.middle = ttk.Frame(self.outer)
        self.middle.pack(fill="both", expand=True, pady=(8, 0))
        self.pane: ttk.Frame | ttk.Labelframe = ttk.Frame(self.middle)
        self.pane.pack(side=app.side("left"), fill="both", expand=True)
        self.keypad: Keypad | None = None
        self.first_field: ttk.Entry | None = None
        self.error = ttk.Label(
            self.outer, text="", bootstyle="danger", wraplength=round(640 * scale)
        )
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bind("<Escape>", lambda e: self.cancel())
        self.after_idle(self._grab)

    def _grab(self, tries: int = 40) -> None:
        """Take the keyboard and mouse once the window is on screen (Tk refuses it before)."""
        try:
            if self.winfo_exists():
                self.grab_set()
                self.take_focus()
        except tk.TclError:
            if tries > 0:
                self.after(25, lambda: self._grab(tries - 1))

    def take_focus(self) -> None:
        """The first field gets the keyboard."""
        if self.first_field is not None and self.first_field.winfo_exists():
            self.first_field.focus_force()

    def add_keypad(self, on_enter: Callable[[], None], decimal: bool = True) -> Keypad:
        scale = float(getattr(self.app, "ui_scale", 1.0))
        self.keypad = Keypad(
            self.middle,
            target=self.keypad_target,
            on_enter=on_enter,
            decimal=decimal,
            font=("Noto Sans", round(18 * scale), "bold"),
            key_px=round(TOUCH_PX * scale),
        )
        self.keypad.pack(side=self.app.side("right"), fill="y", padx=(12, 0))
        return self.keypad

    def keypad_target(self) -> ttk.Entry | None:
        """The entry the keypad types into: the focused one of this dialog, else the first."""
        try:
            w = self.focus_get()
        except (KeyError, tk.TclError):
            w = None
        if isinstance(w, ttk.Entry) and w.winfo_toplevel() is self:
            return w
        last = self.keypad.last_entry if self.keypad is not None else None
        if last is not None and last.winfo_exists():
            return last
        return self.first_field

    def row(
        self, label: str, parent: Any = None, label_width: int = 22, **entry_kw: Any
    ) -> ttk.Entry:
        f = ttk.Frame(parent if parent is not None else self.pane)
        f.pack(fill="x", pady=3)
        ttk.Label(f, text=shown(label), width=label_width, anchor=self.app.text_anchor).pack(
            side=self.app.side("left")
        )
        e = RtlEntry(f, **entry_kw)  # Arabic shown joined, right to left
        e.pack(side=self.app.side("left"), fill="x", expand=True)
        if self.first_field is None:
            self.first_field = e
        return e

    def buttons(self, ok_text: str, ok: Callable[[], None]) -> ttk.Button:
        self.error.pack(fill="x", pady=4)
        f = ttk.Frame(self.outer)
        f.pack(fill="x", pady=(8, 0))
        self.ok_button = ttk.Button(
            f, text=shown(ok_text), bootstyle="success", command=ok, takefocus=False
        )
        self.ok_button.pack(side=self.app.side("right"), padx=4)
        ttk.Button(
            f, text=T("Cancel"), bootstyle="secondary", command=self.cancel, takefocus=False
        ).pack(side=self.app.side("right"), padx=4)
        return self.ok_button

    def place_on_screen(self) -> None:
        """Centre on the screen, never larger than it (a 1024x768 till)."""
        self.update_idletasks()
        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        w, h = min(self.winfo_reqwidth(), sw), min(self.winfo_reqheight(), sh)
        self.geometry(f"{w}x{h}+{max((sw - w) // 2, 0)}+{max((sh - h) // 2, 0)}")

    def show_error(self, exc_or_text: Any) -> None:
        from kiosk.errors import error_text

        text = exc_or_text if isinstance(exc_or_text, str) else error_text(exc_or_text)
        if self.winfo_exists():
            self.error.configure(text=shown(text))

    def cancel(self) -> None:
        if self.app.dialog is self:
            self.app.dialog = None
        try:
            self.grab_release()
        except tk.TclError:
            pass
        self.destroy()
        focus_scan_field(self.app)


class FormDialog(_Dialog):
    """A few labelled fields; ``on_ok(values)`` returns an error text or None (closes).
    ``subject`` says what the form acts on; ``keypad`` shows the on-screen keypad beside the
    fields (by default when a field is numeric: see ``NUMERIC_FIELDS``)."""

    def __init__(
        self,
        app,
        title: str,
        fields: list[tuple[str, str, str]],
        on_ok: Callable[[dict[str, str]], str | None],
        ok_text: str = N_("OK"),
        subject: str = "",
        keypad: bool | None = None,
    ) -> None:
        super().__init__(app, title, subject)
        self.entries: dict[str, ttk.Entry] = {}
        for key, label, default in fields:
            e = self.row(label, width=24)
            e.insert(0, default)
            self.entries[key] = e
        self.on_ok = on_ok
        if keypad is None:
            keypad = any(key in NUMERIC_FIELDS for key, _label, _default in fields)
        if keypad:
            self.add_keypad(self.submit)
        self.buttons(_(ok_text), self.submit)
        self.bind("<Return>", lambda e: self.submit())
        self.bind("<KP_Enter>", lambda e: self.submit())
        self.place_on_screen()
        self.take_focus()
        if self.first_field is not None:
            self.first_field.select_range(0, "end")

    def submit(self) -> None:
        values = {k: e.get().strip() for k, e in self.entries.items()}
        problem = self.on_ok(values)
        if problem:
            self.show_error(problem)
        else:
            self.cancel()


class ChoiceDialog(_Dialog):
    """Pick one of several items (e.g. a parked basket)."""

    def __init__(
        self,
        app,
        title: str,
        items: list[tuple[str, str]],
        on_pick: Callable[[str], None],
        subject: str = "",
    ) -> None:
        super().__init__(app, title, subject)
        self.buttons_by_key: dict[str, ttk.Button] = {}
        if not items:
            ttk.Label(self.pane, text=T("Nothing here.")).pack(pady=8)
        for key, text in items:

            def pick(k: str = key) -> None:
                self.cancel()
                on_pick(k)

            b = ttk.Button(
                self.pane, text=shown(text), bootstyle="info-outline", command=pick, takefocus=False
            )
            b.pack(fill="x", pady=3)
            self.buttons_by_key[key] = b
        ttk.Button(
            self.pane, text=T("Cancel"), bootstyle="secondary", command=self.cancel, takefocus=False
        ).pack(pady=(10, 0))
        self.place_on_screen()
        self.focus_force()


class ManagerPinDialog(_Dialog):
    def __init__(
        self,
        app,
        check: Callable,
        on_cancel: Callable[[], None] | None,
        subject: str = "",
    ) -> None:
        super().__init__(app, _("Manager approval"), subject)
        ttk.Label(
            self.pane,
            text=T("A manager must approve this. Manager, enter your number and PIN."),
        ).pack(pady=(0, 8))
        self.manager = self.row(_("Manager number"), width=16)
        self.pin = self.row(_("PIN"), width=16, show="•")
        self.check = check
        self.on_cancel = on_cancel
        self.add_keypad(self.submit, decimal=False)
        self.buttons(_("Approve"), self.submit)
        self.bind("<Return>", lambda e: self.submit())
        self.bind("<KP_Enter>", lambda e: self.submit())
        self.place_on_screen()
        self.take_focus()

    def submit(self) -> None:
        manager, pin = self.manager.get().strip(), self.pin.get().strip()
        if not manager or not pin:
            self.show_error(_("Enter your staff number and PIN."))
            return
        self.ok_button.configure(state="disabled")

        def done(exc: BaseException | None) -> None:
            if exc is None:
                if self.winfo_exists():
                    self.on_cancel = None
                    self.cancel()
                return
            if self.winfo_exists():
                self.ok_button.configure(state="normal")
                self.pin.delete(0, "end")
                self.show_error(exc)

        self.check(manager, pin, done)

    def cancel(self) -> None:
        cb, self.on_cancel = self.on_cancel, None
        super().cancel()
        if cb:
            cb()


FEEDBACK_KINDS = {
    "device": N_("Device (printer, scanner, scale…)"),
    "price": N_("Wrong price"),
    "stock": N_("Stock problem"),
    "other": N_("Something else"),
}


class FeedbackDialog(_Dialog):
    """异常反馈: any staff member reports a problem; it is journaled at the store."""

    def __init__(self, app, subject: str = "") -> None:
        super().__init__(app, _("Report a problem"), subject)
        self.kind = ttk.StringVar(value="device")
        for key, label in FEEDBACK_KINDS.items():
            ttk.Radiobutton(self.pane, text=T(label), value=key, variable=self.kind).pack(
                anchor=app.text_anchor, pady=2
            )
        self.sku = self.row(_("Product (SKU or barcode)"), width=24)
        ttk.Label(self.pane, text=T("What happened?")).pack(anchor=app.text_anchor, pady=(6, 0))
        self.text = ttk.Text(self.pane, width=48, height=5, font=app.base_font)
        self.text.pack(fill="both", expand=True)
        self.buttons(_("Send"), self.submit)
        self.place_on_screen()
        self.first_field = self.sku
        self.take_focus()

    def submit(self) -> None:
        message = self.text.get("1.0", "end").strip()
        if not message:
            self.show_error(_("Describe the problem."))
            return
        self.app.send_feedback(self.kind.get(), message, self.sku.get().strip())
        self.cancel()


def quick_tenders(due: int, currency: str) -> list[int]:
    """Exact amount, then the next round amounts a customer is likely to hand over."""
    unit = 10 ** i18n.minor_digits(currency)
    notes = [n * unit for n in (1, 5, 10, 20, 50, 100, 500, 1000)]
    if due <= 0:
        return []
    out = [due]
    for n in notes:
        nxt = -(-due // n) * n
        if nxt > due and nxt not in out:
            out.append(nxt)
        if len(out) >= 5:
            break
    return out


def quantity_up_to(text: str, most: int) -> int | None:
    """A whole quantity from 0 to ``most`` typed in a form, or None (the form says it is not
    valid)."""
    try:
        q = int(text)
    except ValueError:
        return None
    return q if 0 <= q <= most else None
