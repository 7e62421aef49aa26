"""What the customer sees: the till's fan-out to the customer window (a second monitor,
``kiosk.customer_window``) and the 2 x 20 pole display (``hw.display``).

The till owns one ``CustomerDisplays`` as ``app.customer`` and tells it three things:

* ``basket(view)`` — the basket as the store answered it (from ``BasketView.apply``);
* ``paid(total, paid, change)`` (or ``paid_order(order)``) — after payment;
* ``idle()`` — nobody is being served.

Each call only records the state and schedules one redraw (``after_idle``), so a burst of scans
costs one redraw, and nothing here can stop a sale: every error is caught and shown on the till's
status bar ("Pole display: not reachable"). The pole display sends from its own thread
(``hw.display.BackgroundDisplay``); a pole that is unplugged or off only changes that status line.

Language: the customer's, not the cashier's: ``customer_lang`` from the till's settings, else the
store's language (its ``locale``), else the till's own. The pole shows text in that language only
where its character set can draw it, else in English (names: the English name, else the name
transliterated, else the SKU). Settings: ``kiosk/till_settings.py``.
"""

from __future__ import annotations

import logging
import tkinter as tk
from typing import Any

import ttkbootstrap as ttk

from hw.display import latin, make_display, two_columns
from kiosk import i18n, till_settings
from kiosk.i18n import N_, _, shown

__all__ = ["CustomerDisplays", "THANKS_AFTER_MS"]

log = logging.getLogger(__name__)
THANKS_AFTER_MS = 8000  # the pole shows paid/change this long, then "Thank you"


class CustomerDisplays:
    """The customer window and the pole display, fed by the till (``app.customer``)."""

    def __init__(
        self,
        app: Any,
        window: str | None = None,
        pole: dict[str, Any] | None = None,
        lang: str | None = None,
    ) -> None:
        saved = till_settings.load(app.data_dir)
        self.app = app
        self.lang_setting = lang or saved.get("customer_lang") or ""
        self.state = "idle"
        self.view: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []  # the last lines the customer saw (kept after pay)
        self.money: dict[str, int] = {}
        self.pole_item: tuple[str, int] | None = None
        self.pole_sent: tuple[str, str] | None = None
        self.thanked = False  # the pole moved on from paid/change to "Thank you"
        self.thanks_after_ms = THANKS_AFTER_MS
        self.problems: dict[str, str] = {}
        self._after: dict[str, str] = {}
        self.window: Any = None
        self.pole: Any = None
        self.label = ttk.Label(app.statusbar, text="", bootstyle="danger")
        spec = window if window is not None else saved.get("customer_display")
        try:
            on, geometry = till_settings.parse_window(spec)
            if on:
                from kiosk.customer_window import CustomerWindow

                self.window = CustomerWindow(app, geometry)
        except (ValueError, tk.TclError) as exc:
            log.warning("customer window: %s", exc)
            self._problem("window", N_("Customer window: could not open"))
        settings = pole if pole is not None else saved.get("pole_display")
        if settings:
            try:
                self.pole = make_display(settings, on_state=self._pole_state)
            except Exception as exc:  # a bad setting or a missing serial port: sell anyway
                log.warning("pole display: %s", exc)
                self._problem("pole", N_("Pole display: not set up"))
        self._schedule()
        self._wait_store()

    # ---------------------------------------------------------------- what the till tells it
    def basket(self, view: dict[str, Any]) -> None:
        try:
            lines = list(view.get("lines") or [])
            if not lines:
                if self.state != "paid":  # the empty basket after a sale keeps the thank-you
                    self._set("idle")
                return
            self.pole_item = self._scanned(lines)
            self.view, self.lines = view, lines
            self.money = {"total": int(view.get("total", 0))}
            self._set("basket")
        except Exception:
            log.exception("customer display: basket")

    def paid(self, total: int, paid: int, change: int) -> None:
        try:
            self.money = {"total": int(total), "paid": int(paid), "change": int(change)}
            self.thanked = False
            self._set("paid")
            self._later("thanks", self.thanks_after_ms, self._thanks)
        except Exception:
            log.exception("customer display: paid")

    def paid_order(self, order: dict[str, Any]) -> None:
        """``paid`` from a completed order: paid is the cash handed over plus the other tenders."""
        payments = order.get("payments") or ()
        handed = sum(int(p.get("tendered") or p.get("amount") or 0) for p in payments)
        self.paid(int(order.get("total", 0)), handed, int(order.get("change", 0)))

    def idle(self) -> None:
        self._set("idle")

    def qr(self, payload: str, amount: int) -> None:
        """A payment's QR code over the customer window until ``qr_done`` (kiosk.qr_image)."""
        self.qr_done()
        if self.window is not None and payload:
            from kiosk.qr_image import QrOverlay

            caption = shown(i18n.translator(self.lang).gettext(N_("Scan to pay")), self.lang)
            money = shown(i18n.money(amount, self.app.currency, self.lang), self.lang)
            self.qr_shown: Any = QrOverlay(self.window, payload, caption, money)

    def qr_done(self) -> None:
        shown_qr, self.qr_shown = getattr(self, "qr_shown", None), None
        if shown_qr is not None:
            shown_qr.close()

    # ---------------------------------------------------------------- state and redraw
    def _set(self, state: str) -> None:
        if state != "paid":
            self._cancel("thanks")
        if state == "idle":  # the lines stay: paid() right after the emptied basket shows them
            self.money, self.pole_item = {}, None
        self.state = state
        self._schedule()

    def _schedule(self) -> None:
        if "draw" not in self._after:
            self._after["draw"] = self.app.after_idle(self._draw)

    def _later(self, key: str, ms: int, fn: Any) -> None:
        self._cancel(key)
        self._after[key] = self.app.after(ms, lambda: (self._after.pop(key, None), fn()))

    def _cancel(self, key: str) -> None:
        aid = self._after.pop(key, None)
        if aid is not None:
            try:
                self.app.after_cancel(aid)
            except tk.TclError:
                pass

    def _wait_store(self) -> None:
        """Redraw once the store's configuration (shop name, language, currency) is in."""
        if self.app.store:
            self._after.pop("store", None)
            self._schedule()
        else:
            self._later("store", 250, self._wait_store)

    @property
    def lang(self) -> str:
        store_lang = str(self.app.store.get("locale") or "") if self.app.store else ""
        return i18n.base(self.lang_setting or store_lang or self.app.device_lang)

    @property
    def shop(self) -> str:
        return str((self.app.store or {}).get("name") or "")

    def _draw(self) -> None:
        self._after.pop("draw", None)
        lang = self.lang
        tr = i18n.translator(lang).gettext
        if self.window is not None:
            try:
                self._draw_window(lang, tr)
            except tk.TclError as exc:
                log.warning("customer window: %s", exc)
                self.window = None
                self._problem("window", N_("Customer window: could not open"))
        if self.pole is not None:
            self._draw_pole(lang, tr)
        if self.problems:
            self._show_problems()

    def _draw_window(self, lang: str, tr: Any) -> None:
        cur = self.app.currency
        rows = []
        for ln in self.lines:
            names = ln.get("names") or {}
            name = names.get(lang) or names.get("en") or next(iter(names.values()), "")
            qty = int(ln.get("qty", 0))
            rows.append(
                (
                    shown(name, lang),
                    shown(
                        i18n.weight(qty, lang)
                        if ln.get("unit") == "kg"
                        else i18n.number(qty, lang),
                        lang,
                    ),
                    shown(i18n.money(int(ln.get("total", 0)), cur, lang), lang),
                )
            )
        off = int((self.view or {}).get("member_discount") or 0) if self.state == "basket" else 0
        if off:  # the member's tier discount, a line of its own (kiosk.screens.sale_member)
            rows.append(
                (
                    shown(tr(N_("Member discount (included)")), lang),
                    "",
                    shown(i18n.money(-off, cur, lang), lang),
                )
            )
        money = {k: shown(i18n.money(v, cur, lang), lang) for k, v in self.money.items()}
        self.window.draw(self.state, lang, tr, self.shop, rows, money)

    # ---------------------------------------------------------------- the pole display
    def _scanned(self, lines: list[dict[str, Any]]) -> tuple[str, int]:
        """The line the last scan touched: new, or with a changed total; else the newest."""
        before = {ln.get("line_id"): ln.get("total") for ln in self.lines}
        for ln in reversed(lines):
            if before.get(ln.get("line_id")) != ln.get("total"):
                return self._pole_name(ln), int(ln.get("total", 0))
        return self._pole_name(lines[-1]), int(lines[-1].get("total", 0))

    def _pole_name(self, ln: dict[str, Any]) -> str:
        draws = self.pole.can_draw if self.pole is not None else (lambda s: s.isascii())
        names = ln.get("names") or {}
        for name in (names.get(self.lang), names.get("en")):
            if name and draws(name):
                return str(name)
        name = latin(str(names.get("en") or next(iter(names.values()), "")))
        return name or str(ln.get("sku", ""))

    def _draw_pole(self, lang: str, tr: Any) -> None:
        pole = self.pole
        cols = pole.columns

        def word(msg: str) -> str:
            text = tr(msg)
            return text if pole.can_draw(text) else msg

        def cash(amount: int) -> str:
            text = i18n.money(amount, self.app.currency, lang)
            if pole.can_draw(text):
                return text
            return i18n.money(amount, self.app.currency, "en")

        shop = self.shop if pole.can_draw(self.shop) else latin(self.shop)
        m = self.money
        if self.state == "basket" and self.pole_item is not None:
            name, amount = self.pole_item
            frame = (
                two_columns(name, cash(amount), cols),
                two_columns(word(N_("Total")), cash(m.get("total", 0)), cols),
            )
        elif self.state == "paid" and self.thanked:
            frame = (word(N_("Thank you")), shop)
        elif self.state == "paid":
            frame = (
                two_columns(word(N_("Paid")), cash(m.get("paid", 0)), cols),
                two_columns(word(N_("Change")), cash(m.get("change", 0)), cols),
            )
        else:
            frame = (word(N_("Welcome")), shop)
        if frame == self.pole_sent:
            return
        self.pole_sent = frame
        try:
            pole.show(*frame)
        except Exception as exc:  # a display without a background thread (fake, none)
            log.debug("pole display: %s", exc)
            self._problem("pole", N_("Pole display: not reachable"))

    def _thanks(self) -> None:
        if self.state == "paid":
            self.thanked = True
            self._schedule()

    def _pole_state(self, ok: bool, detail: str) -> None:
        """From the pole's thread: report on the Tk thread (through the worker's result queue)."""
        msg = "" if ok else N_("Pole display: not reachable")
        self.app.worker.results.put((self._problem, ("pole", msg)))

    # ---------------------------------------------------------------- the till's status line
    def _problem(self, part: str, msg: str) -> None:
        """``msg`` (untranslated; empty = fixed) about ``part`` on the till's status bar."""
        if msg:
            self.problems[part] = msg
        else:
            self.problems.pop(part, None)
        self._show_problems()

    def _show_problems(self) -> None:
        """The status line, in the cashier's language of the moment."""
        try:
            if self.problems:
                self.label.configure(text=shown(" · ".join(_(m) for m in self.problems.values())))
                if not self.label.winfo_manager():
                    # before the message, which takes whatever room is left: a long message
                    # must not push the display's problem off the status bar
                    where = {"before": self.app.message} if self.app.message.winfo_manager() else {}
                    self.label.pack(side=self.app.side("left"), padx=6, **where)
            else:
                self.label.configure(text="")
                self.label.pack_forget()
        except tk.TclError:  # the till is closing
            pass

    @property
    def status_text(self) -> str:
        return str(self.label.cget("text"))

    def close(self) -> None:
        for key in list(self._after):
            self._cancel(key)
        if self.pole is not None:
            try:
                self.pole.close()
            except Exception:
                pass
        if self.window is not None:
            try:
                self.window.destroy()
            except tk.TclError:
                pass
