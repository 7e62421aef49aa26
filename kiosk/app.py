"""The till window: sign-in, then the counter(s) of the signed-in role, a status bar, receipts.

Nothing here waits on the network or the printer. Calls to the store go through ``Worker`` (two
background lanes); their answers come back on the Tk thread because ``_pump`` drains the worker's
result queue every 25 ms with ``after()``. The print queue (``hw.queue.PrintQueue``) prints on its
own thread and reports its state through the same result queue.

Garbage collection runs on the Tk thread only (``_collect``): Python's automatic collector runs in
whichever thread happens to allocate, and a Tk variable or window freed from a lane thread either
fails (``main thread is not in main loop``) or, for a whole interpreter, aborts the process.
"""

from __future__ import annotations

import gc
import json
import logging
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import ApiError, Session, StoreClient, Worker, new_id, session_from
from kiosk.errors import error_text
from kiosk.i18n import N_, T, _, shown
from kiosk.staff import COUNTERS, ROLE_COUNTERS, ROLE_NAMES, can, demo_sign_in

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


class TillApp(ttk.Window):
    def __init__(
        self,
        server: str,
        till: str,
        lang: str = "en",
        printer: dict[str, Any] | None = None,
        data_dir: str | Path | None = None,
        themename: str = "bootstrap-light",
        size: tuple[int, int] = (1200, 760),
        demo_staff: bool = True,
    ) -> None:
        i18n.set_language(lang)
        super().__init__(title="kassa", themename=themename, size=size)
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
        self.statusbar.pack(side="bottom", fill="x")
        self.net_label = ttk.Label(self.statusbar, text="")
        self.printer_label = ttk.Label(self.statusbar, text="")
        self.who_label = ttk.Label(self.statusbar, text="")
        self.message = ttk.Label(self.statusbar, text="", bootstyle="danger")
        self.licence_label = ttk.Label(self.statusbar, text="", bootstyle="warning")
        self.licence: dict = {}
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.after(25, self._pump)
        _take_gc(self)
        self._gc_ticks = 0
        self.after(GC_TICK_MS, self._collect)
        self._load_store()
        self.after(1500, self._poll_licence)
        self.show_signin()

    # ---------------------------------------------------------------- fonts & layout helpers
    def _setup_fonts(self) -> None:
        from tkinter import font as tkfont

        for name, size in (
            ("TkDefaultFont", 12),
            ("TkTextFont", 12),
            ("TkHeadingFont", 12),
            ("TkMenuFont", 12),
        ):
            try:
                tkfont.nametofont(name).configure(family="Noto Sans", size=size)
            except tk.TclError:
                pass
        self.big_font = ("Noto Sans", 28, "bold")
        self.mid_font = ("Noto Sans", 18, "bold")
        try:
            ttk.Style().configure("Treeview", rowheight=28)
        except tk.TclError:
            pass

    @property
    def rtl(self) -> bool:
        return i18n.is_rtl()

    def side(self, s: str = "left") -> str:
        """Pack side that follows the reading direction."""
        if not self.rtl or s not in ("left", "right"):
            return s
        return "right" if s == "left" else "left"

    @property
    def text_anchor(self) -> str:
        return "e" if self.rtl else "w"

    def money(self, amount: int) -> str:
        return shown(i18n.money(amount, self.currency))

    @property
    def currency(self) -> str:
        return str(self.store.get("currency") or "THB")

    @property
    def zone(self) -> str:
        return str(self.store.get("zone") or "UTC")

    def name_of(self, names: dict[str, str] | None) -> str:
        names = names or {}
        lang = i18n.current()
        return shown(names.get(lang) or names.get("en") or next(iter(names.values()), ""))

    # ---------------------------------------------------------------- store config & printer
    def _load_store(self) -> None:
        def ok(cfg: dict) -> None:
            self.store = cfg
            if self.api.pin.paired_now:  # trust on first use: the person compares it
                self.notify(
                    _(
                        "Paired with the store. Its key must read the same as "
                        "'kassa store tls fingerprint' on the store PC: {fp}"
                    ).format(fp=self.api.pin.fingerprint),
                    error=False,
                )
            self._start_printer()
            self._flush_feedback()

        def err(exc: Exception) -> None:
            if getattr(exc, "code", "").startswith("tls."):
                self.fail(exc)  # a store that is not the paired one: say so, keep trying
            self.after(1000, self._load_store)

        self.worker.read(self.api.config, ok, err, "config")

    def _start_printer(self) -> None:
        """Open the print queue on a worker thread (loading the printer's profile takes time)."""
        if self.print_queue is not None:
            return

        def make():
            from domain.store import StoreConfig
            from hw.queue import PrintQueue

            cfg = StoreConfig.from_dict(self.store)
            return PrintQueue(
                self.data_dir,
                self.printer_settings,
                cfg,
                on_change=lambda st: self.worker.results.put((self._printer_changed, (st,))),
            )

        def ok(q) -> None:
            self.print_queue = q
            self._printer_changed(q.state())

        def err(exc: BaseException) -> None:  # the till sells without a printer
            self.printer_label.configure(text=T("Printer: not set up"), bootstyle="danger")

        self.worker.read(make, ok, err, "printer")

    def _printer_changed(self, st: Any) -> None:
        self.printer_state = st
        texts = {
            "ok": N_("ready"),
            "offline": N_("offline"),
            "paper_out": N_("out of paper"),
            "paper_low": N_("paper low"),
            "cover_open": N_("cover open"),
            "error": N_("error"),
            "unknown": N_("ready"),
        }
        word = _(texts.get(st.printer, N_("error")))
        text = _("Printer: {state}").format(state=word)
        if st.pending:
            text += " · " + _("{n} receipts waiting").format(n=i18n.number(st.pending))
        self.printer_label.configure(text=shown(text), bootstyle="default" if st.ok else "danger")

    def print_order(self, order: dict, member_balance: int | None = None) -> None:
        if self.print_queue is None:
            return
        s = self.session
        self.print_queue.submit(
            order,
            i18n.current(),
            member_balance=member_balance,
            till=self.till,
            staff=s.name if s else "",
        )

    # ---------------------------------------------------------------- licence
    def _poll_licence(self) -> None:
        """The store's licence, from its health report: say why a day cannot open, how many
        grace days are left while HQ cannot be reached, and warn before the licence ends."""

        def ok(health: dict) -> None:
            self.licence = health.get("licence") or {}
            self._show_licence()

        self.worker.read(self.api.health, ok, lambda exc: None, "health")
        self.after(60_000, self._poll_licence)

    def _show_licence(self) -> None:
        lic = self.licence
        text = ""
        if lic.get("ok") is False:
            text = _("Licence: the day cannot be opened ({code})").format(code=lic.get("code", ""))
        elif lic.get("code") == "licence.grace" or lic.get("warn_code") == "licence.grace_ending":
            text = _("Licence: {days} grace days left (HQ not reached)").format(
                days=i18n.number(int(lic.get("grace_days_left") or 0))
            )
        elif lic.get("warn_code") == "licence.expiring":
            text = _("Licence ends in {days} days").format(
                days=i18n.number(int(lic.get("expires_days_left") or 0))
            )
        self.licence_label.configure(
            text=shown(text) if text else "",
            bootstyle="danger" if lic.get("ok") is False else "warning",
        )

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

    def notify(self, text: str, error: bool = True) -> None:
        self.last_error = text if error else ""
        self.message.configure(text=shown(text), bootstyle="danger" if error else "success")

    def fail(self, exc: BaseException) -> None:
        self.notify(error_text(exc))

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
        self.message.pack(side=self.side("left"), padx=12)
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
            self.notify(_("Your role may not do this."))
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
    ) -> None:
        """Ask a manager's staff number and PIN for one action; ``on_ok(approval)`` gets what to
        send with the retried action."""
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

        self.open_dialog(ManagerPinDialog(self, check, on_cancel))

    # ---------------------------------------------------------------- dialogs
    def open_dialog(self, dlg: tk.Toplevel) -> tk.Toplevel:
        self.close_dialog()
        self.dialog = dlg
        return dlg

    def close_dialog(self) -> None:
        d, self.dialog = self.dialog, None
        if d is not None:
            try:
                d.destroy()
            except tk.TclError:
                pass

    # ---------------------------------------------------------------- exception feedback (异常反馈)
    def open_feedback(self) -> None:
        from kiosk.screens.dialogs import FeedbackDialog

        self.open_dialog(FeedbackDialog(self))

    def send_feedback(
        self,
        kind: str,
        message: str,
        sku: str = "",
        done: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        """Journal a problem report at the store. If the store has no feedback endpoint yet, the
        report is kept in the till's outbox file and sent later (same id)."""
        item = {
            "id": new_id(),
            "kind": kind,
            "message": message,
            "sku": sku,
            "device": self.till,
            "staff": self.session.staff if self.session else "",
        }

        def call() -> dict:
            try:
                return self.api.feedback(item["id"], kind, message, sku, self.till)
            except ApiError as exc:
                if exc.code in ("http.not_found", "http.method_not_allowed"):
                    with self.feedback_outbox.open("a", encoding="utf-8") as f:
                        f.write(json.dumps(item, ensure_ascii=False) + "\n")
                    return {"queued": True}
                raise

        def ok(res: dict) -> None:
            if res.get("queued"):
                self.notify(
                    _("Problem saved on this till; it will be sent to the store."), error=False
                )
            else:
                self.notify(_("Problem reported. Thank you."), error=False)
            if done:
                done(None)

        def err(exc: BaseException) -> None:
            self.fail(exc)
            if done:
                done(exc)

        self.worker.change(call, ok, err, "feedback")

    def _flush_feedback(self) -> None:
        path = self.feedback_outbox
        if not path.exists():
            return

        def call() -> int:
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            left, sent = [], 0
            for ln in lines:
                item = json.loads(ln)
                try:
                    self.api.feedback(
                        item["id"],
                        item["kind"],
                        item["message"],
                        item.get("sku", ""),
                        item.get("device", ""),
                    )
                    sent += 1
                except ApiError:
                    left.append(ln)
            path.write_text("".join(x + "\n" for x in left), encoding="utf-8")
            return sent

        self.worker.change(call, None, None, "feedback-outbox")

    # ---------------------------------------------------------------- shutdown
    def close(self) -> None:
        """Close the window for good. The worker lanes are joined first (a request in flight ends
        within the client's timeout); Tk's garbage is then collected here on the Tk thread. Were a
        lane still running, the window is kept referenced for the life of the process instead:
        Tcl aborts the whole process when its interpreter is freed from another thread."""
        stopped = self.worker.stop(wait=2 * self.api.timeout + 1.0)
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
