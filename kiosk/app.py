"""The till window: sign-in, then the counter(s) of the signed-in role, a status bar, receipts.

Nothing here waits on the network or the printer. Calls to the store go through ``Worker`` (two
background lanes); their answers come back on the Tk thread because ``_pump`` drains the worker's
result queue every 25 ms with ``after()``. The print queue (``hw.queue.PrintQueue``) prints on its
own thread and reports its state through the same result queue.

Garbage collection runs on the Tk thread only (``_collect``): Python's automatic collector runs in
whichever thread happens to allocate, and a Tk variable or window freed from a lane thread either
fails (``main thread is not in main loop``) or, for a whole interpreter, aborts the process.

``TillApp`` (its state, the network state, collection, screens, sign-in, shutdown) is built on
``app_view.TillView`` (fonts, direction, money, messages, dialogs), ``app_feedback.FeedbackOutbox``
(problem reports) and ``app_store.StoreStatus`` (store configuration, printer, licence).
"""

from __future__ import annotations

import gc
import logging
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.app_store import StoreStatus
from kiosk.client import ApiError, Session, StoreClient, Worker, session_from
from kiosk.errors import error_text
from kiosk.i18n import T, _, shown
from kiosk.staff import COUNTERS, ROLE_COUNTERS, ROLE_NAMES, action_label, can, demo_sign_in

__all__ = ["TillApp", "error_text", "STORE_PIN_FILE"]
STORE_PIN_FILE = "store-tls.json"  # in the till's folder: the store CA pinned at first pairing

log = logging.getLogger(__name__)

# Windows closed while a lane thread was still running (see TillApp.close).
_KEPT: list[Any] = []
# Open windows; while there is one, automatic garbage collection is off and _collect runs it.
_OPEN: set[int] = set()
GC_TICK_MS = 200


def _take_gc(app: Any) -> None:
    if not _OPEN:
        gc.disable()
    _OPEN.add(id(app))


def _give_gc(app: Any) -> None:
    _OPEN.discard(id(app))
    gc.collect()
    if not _OPEN:
        gc.enable()


class TillApp(StoreStatus):
    def __init__(
        self,
        server: str,
        till: str,
        lang: str = "en",
        printer: dict[str, Any] | None = None,
        data_dir: str | Path | None = None,
        themename: str = "bootstrap-light",
        size: tuple[int, int] = (1200, 760),
        position: tuple[int, int] | None = None,
        demo_staff: bool = True,
        customer_display: str | None = None,
        pole_display: dict[str, Any] | None = None,
    ) -> None:
        i18n.set_language(lang)
        super().__init__(title="kassa", themename=themename, size=size, position=position)
        self.window_size = size
        self.device_lang = i18n.current()
        self.till = till
        self.data_dir = Path(data_dir or Path.home() / ".kassa" / f"till-{till}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.api = StoreClient(server, till, pin_file=self.data_dir / STORE_PIN_FILE)
        self.worker = Worker(on_net=self._net_changed)
        self.printer_settings = dict(printer or {"kind": "dummy"})
        self.allow_demo_staff = demo_staff
        self.store: dict[str, Any] = {}
        self.session: Session | None = None
        self.counter = ""
        self.screen: ttk.Frame | None = None
        self.dialog: tk.Toplevel | None = None
        self.print_queue = None
        self.printer_state: Any = None
        self.online = True
        self.last_error = ""
        self.feedback_outbox = self.data_dir / "feedback-outbox.jsonl"
        self._setup_fonts()
        self.body = ttk.Frame(self)
        self.body.pack(side="top", fill="both", expand=True)
        self.statusbar = ttk.Frame(self, padding=(8, 4))
        # packed before the body: when a screen asks for more room than the window has, the body
        # shrinks, never the status bar (the store, printer and display states stay in view)
        self.statusbar.pack(side="bottom", fill="x", before=self.body)
        self.net_label = ttk.Label(self.statusbar, text="")
        self.printer_label = ttk.Label(self.statusbar, text="")
        self.who_label = ttk.Label(self.statusbar, text="")
        self.message = ttk.Label(self.statusbar, text="", bootstyle="danger")
        self.message.bind("<Configure>", self._wrap_message, add="+")
        self.licence_label = ttk.Label(self.statusbar, text="", bootstyle="warning")
        self.licence: dict = {}
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.after(25, self._pump)
        _take_gc(self)
        self._gc_ticks = 0
        self.after(GC_TICK_MS, self._collect)
        self._load_store()
        self.after(1500, self._poll_licence)
        from kiosk.customer_display import CustomerDisplays  # second monitor and pole display

        self.customer = CustomerDisplays(self, customer_display, pole_display)
        self.show_signin()

    # ---------------------------------------------------------------- network state
    def _net_changed(self, online: bool, detail: str) -> None:
        self.online = online
        if online:
            self.net_label.configure(
                text=T("Store: online, secure connection")
                if self.api.https
                else T("Store: online"),
                bootstyle="success",
            )
        else:
            self.net_label.configure(
                text=T("Store unreachable: retrying, the basket is kept"), bootstyle="danger"
            )

    def _pump(self) -> None:
        try:
            self.worker.pump()
        finally:
            self.after(25, self._pump)

    def _collect(self) -> None:
        """The collector's work, on the Tk thread: the young generation when it is due (as the
        automatic collector would), everything every ~30 s."""
        try:
            self._gc_ticks += 1
            if self._gc_ticks % 150 == 0:
                gc.collect()
            elif gc.get_count()[0] >= gc.get_threshold()[0]:
                gc.collect(1 if self._gc_ticks % 10 == 0 else 0)
        finally:
            self.after(GC_TICK_MS, self._collect)

    def _wrap_message(self, event: Any) -> None:
        width = max(120, event.width)
        if int(self.message.cget("wraplength") or 0) != width:
            self.message.configure(wraplength=width)

    # ---------------------------------------------------------------- screens
    def _layout_status(self) -> None:
        for w in (
            self.net_label,
            self.printer_label,
            self.licence_label,
            self.who_label,
            self.message,
        ):
            w.pack_forget()
        self.net_label.pack(side=self.side("left"), padx=6)
        self.printer_label.pack(side=self.side("left"), padx=6)
        self.licence_label.pack(side=self.side("left"), padx=6)
        self._show_licence()
        self.who_label.pack(side=self.side("right"), padx=6)
        # a long message wraps onto a second line of the status bar instead of being cut
        self.message.pack(side=self.side("left"), padx=12, fill="x", expand=True)
        self.message.configure(
            anchor="e" if self.rtl else "w", justify="right" if self.rtl else "left"
        )
        self._net_changed(self.online, "")
        if self.printer_state is not None:
            self._printer_changed(self.printer_state)
        else:
            self.printer_label.configure(
                text=shown(_("Printer: {state}").format(state=_("starting")))
            )

    def _swap(self, factory: Callable[[ttk.Frame], ttk.Frame]) -> ttk.Frame:
        self.close_dialog()
        if self.screen is not None:
            self.screen.destroy()
        self.screen = factory(self.body)
        self.screen.pack(fill="both", expand=True)
        self._layout_status()
        return self.screen

    def show_signin(self) -> None:
        from kiosk.screens.signin import SignInScreen

        self.counter = ""
        self.who_label.configure(text=shown(_("Till {till}").format(till=self.till)))
        self._swap(lambda parent: SignInScreen(parent, self))

    def counters(self) -> tuple[str, ...]:
        return ROLE_COUNTERS.get(self.session.role, ("sale",)) if self.session else ()

    def show_counter(self, name: str | None = None) -> None:
        if self.session is None:
            return self.show_signin()
        allowed = self.counters()
        name = name or allowed[0]
        if name not in allowed:
            self.notify(_("Your role may not do this. Ask a manager."))
            return None
        self.counter = name
        s = self.session
        self.who_label.configure(
            text=shown(
                _("{name} · {role} · till {till}").format(
                    name=s.name, role=_(ROLE_NAMES.get(s.role, s.role)), till=self.till
                )
            )
        )
        self.notify("", error=False)
        cls: type[ttk.Frame]
        if name == "sale":
            from kiosk.screens.sale import SaleScreen

            cls = SaleScreen
        elif name == "aftersales":
            from kiosk.screens.aftersales import AfterSalesScreen

            cls = AfterSalesScreen
        else:
            from kiosk.screens.manager import ManagerScreen

            cls = ManagerScreen
        self._swap(lambda parent: cls(parent, self))
        return None

    def header(self, parent: ttk.Frame, title: str) -> ttk.Frame:
        """A counter's top bar: title, the role's other counters, report a problem, sign out."""
        bar = ttk.Frame(parent, padding=(8, 6), bootstyle="secondary")
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text=shown(title), font=self.mid_font, bootstyle="@secondary").pack(
            side=self.side("left"), padx=8
        )
        ttk.Button(bar, text=T("Sign out"), bootstyle="light", command=self.sign_out).pack(
            side=self.side("right"), padx=4
        )
        ttk.Button(
            bar, text=T("Report a problem"), bootstyle="warning", command=self.open_feedback
        ).pack(side=self.side("right"), padx=4)
        if self.counter == "sale" and self.can("reports.own"):  # a cashier's own report
            from kiosk.report_own import open_own_report

            self.own_report_button = ttk.Button(
                bar,
                text=T("My report"),
                bootstyle="info",
                takefocus=False,
                command=lambda: open_own_report(self),
            )
            self.own_report_button.pack(side=self.side("right"), padx=4)
        for c in self.counters():
            if c != self.counter:
                ttk.Button(
                    bar,
                    text=T(COUNTERS[c]),
                    bootstyle="info",
                    command=lambda c=c: self.show_counter(c),
                ).pack(side=self.side("right"), padx=4)
        return bar

    # ---------------------------------------------------------------- sign-in / out
    def can(self, action: str) -> bool:
        s = self.session
        return s is not None and can(s.role, s.permissions, action)

    def sign_in(self, staff: str, pin: str, done: Callable[[BaseException | None], None]) -> None:
        def call() -> Session:
            try:
                return self.api.sign_in(staff, pin)
            except ApiError as exc:
                if exc.code != "auth.unsupported" or not self.allow_demo_staff:
                    raise
                out = demo_sign_in(staff, pin)
                if out is None:
                    raise ApiError("auth.bad_pin", "wrong staff or PIN", 401) from None
                return session_from(out, staff)

        def ok(session: Session) -> None:
            self.session = session
            self.api.session = session
            i18n.set_language(session.lang)  # each staff member's own language
            done(None)
            self.show_counter()
            self._flush_feedback()
            self.report_printer()

        def err(exc: BaseException) -> None:
            done(exc)

        self.worker.read(call, ok, err, "sign-in")

    def sign_out(self) -> None:
        client = self.api
        self.worker.read(client.sign_out, None, None, "sign-out")
        self.session = None
        i18n.set_language(self.device_lang)
        self.show_signin()

    def set_device_language(self, lang: str) -> None:
        self.device_lang = i18n.set_language(lang)
        if self.session is None:
            self.show_signin()

    # ---------------------------------------------------------------- manager approval
    def approve(
        self,
        action: str,
        on_ok: Callable[[dict], None],
        on_cancel: Callable[[], None] | None = None,
        subject: str = "",
    ) -> None:
        """Ask a manager's staff number and PIN for one action; ``on_ok(approval)`` gets what to
        send with the retried action. The dialog says what is approved: ``subject``, else the
        action in words."""
        from kiosk.screens.dialogs import ManagerPinDialog

        def check(manager: str, pin: str, done: Callable[[BaseException | None], None]) -> None:
            def call() -> dict:
                try:
                    res = self.api.approve(manager, pin, action)
                    return {"approval": res.get("approval") or {"staff": manager, "pin": pin}}
                except ApiError as exc:
                    if (
                        exc.code not in ("http.not_found", "http.method_not_allowed")
                        or not self.allow_demo_staff
                    ):
                        raise
                    out = demo_sign_in(manager, pin)
                    if out is None:
                        raise ApiError("auth.bad_credentials", "wrong PIN", 401) from None
                    if out["staff"]["role"] not in ("manager", "admin"):
                        raise ApiError("auth.forbidden", "not a manager", 403) from None
                    return {"approved_by": manager}

            def ok(approval: dict) -> None:
                done(None)
                on_ok(approval)

            self.worker.read(call, ok, done, "approve")

        what = subject or action_label(action)
        self.open_dialog(
            ManagerPinDialog(self, check, on_cancel, subject=_("Approve: {what}").format(what=what))
        )

    # ---------------------------------------------------------------- shutdown
    def close(self) -> None:
        """Close the window for good. The worker lanes are joined first (a request in flight ends
        within the client's timeout); Tk's garbage is then collected here on the Tk thread. Were a
        lane still running, the window is kept referenced for the life of the process instead:
        Tcl aborts the whole process when its interpreter is freed from another thread."""
        stopped = self.worker.stop(wait=2 * self.api.timeout + 1.0)
        self.customer.close()
        if self.print_queue is not None:
            try:
                self.print_queue.close()
            except Exception:
                pass
        try:
            self.destroy()
        except tk.TclError:
            pass
        if not stopped:
            _KEPT.append(self)
        _give_gc(self)
