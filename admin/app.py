"""HQ's desktop program (``kassa admin app --cloud URL``): sign-in, then a sidebar of screens
(revenue, products, prices, publish, stores and licences, import/export, feeds, upload health,
flags, members, coupons) and a status bar showing the cloud, the user and the role.

Nothing here waits on the network: every call to HQ runs on the background lane of a
``kiosk.worker.Worker`` (``call()``), and its answer comes back on the Tk thread, drained every
25 ms with ``after()``. ``inflight`` counts the calls not answered yet (tests wait for 0).

A screen shows only what the signed-in role may do: ``can(action)`` mirrors the roles HQ declares
for its routes (``ACTIONS``; HQ still decides), and a button the role may not use stays disabled
with the reason beside it (``reason(action)``). The window is built on the till's
``kiosk.app_view.TillView`` (fonts scaled to the screen, reading direction, messages, dialogs),
and speaks the till's languages through the same catalogues (``kiosk.i18n``).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from admin.hqclient import HqClient
from kiosk import i18n
from kiosk.app_view import TillView
from kiosk.i18n import N_, T, _, shown
from kiosk.worker import Worker

__all__ = ["AdminApp", "ACTIONS", "SCREENS"]

log = logging.getLogger(__name__)

# what a role may do in the app (admin may do everything), as HQ declares its routes
ACTIONS: dict[str, frozenset[str]] = {
    "revenue": frozenset({"finance"}),
    "products.read": frozenset({"catalogue", "finance", "support"}),
    "products.edit": frozenset({"catalogue"}),
    "prices.edit": frozenset({"catalogue"}),
    "publish": frozenset({"catalogue"}),
    "stores.read": frozenset({"support", "finance", "catalogue"}),
    "licences.edit": frozenset({"support"}),
    "stores.create": frozenset(),  # admin only
    "activations.decide": frozenset({"support"}),
    "feeds.review": frozenset({"catalogue"}),
    "health": frozenset({"support", "finance"}),
    "flags.read": frozenset({"support", "finance"}),
    "flags.act": frozenset({"finance"}),
    "members.read": frozenset({"finance", "support"}),
    "members.import": frozenset(),  # admin only
    "coupons.read": frozenset({"finance", "support"}),
    "coupons.issue": frozenset({"finance"}),
}
ROLE_NAMES = {
    "admin": N_("Administrator"),
    "catalogue": N_("Catalogue editor"),
    "finance": N_("Finance"),
    "support": N_("Support"),
}
# sidebar: (key, title, action needed to open it, module.Class)
SCREENS: tuple[tuple[str, str, str, str], ...] = (
    ("revenue", N_("Revenue"), "revenue", "admin.screens.revenue.RevenueScreen"),
    ("products", N_("Products"), "products.read", "admin.screens.products.ProductsScreen"),
    ("prices", N_("Scheduled prices"), "products.read", "admin.screens.prices.PricesScreen"),
    ("publish", N_("Publish"), "products.read", "admin.screens.publish.PublishScreen"),
    ("stores", N_("Stores & licences"), "stores.read", "admin.screens.stores.StoresScreen"),
    ("io", N_("Import / export"), "products.read", "admin.screens.io.ImportExportScreen"),
    ("feeds", N_("Product feeds"), "products.read", "admin.screens.feeds.FeedsScreen"),
    ("health", N_("Upload health"), "health", "admin.screens.health.HealthScreen"),
    ("flags", N_("Flags"), "flags.read", "admin.screens.flags.FlagsScreen"),
    ("members", N_("Members"), "members.read", "admin.screens.members.MembersScreen"),
    ("coupons", N_("Coupons"), "coupons.read", "admin.screens.coupons.CouponsScreen"),
)
GC_TICK_MS = 200


def _load(path: str) -> Any:
    import importlib

    mod, _, cls = path.rpartition(".")
    return getattr(importlib.import_module(mod), cls)


class AdminApp(TillView):
    def __init__(
        self,
        cloud: str,
        token: str = "",
        lang: str = "en",
        size: tuple[int, int] | None = (1280, 800),
        themename: str = "bootstrap-light",
        user: str = "",
    ) -> None:
        """``size`` None: the screen's size, up to 1600x1000."""
        i18n.set_language(lang)
        super().__init__(title="kassa HQ", themename=themename, size=size)
        if size is None:
            size = (min(self.winfo_screenwidth(), 1600), min(self.winfo_screenheight(), 1000))
            self.geometry(f"{size[0]}x{size[1]}")
        self.window_size = size
        self.store: dict[str, Any] = {"currency": "THB", "zone": "UTC"}
        self.api = HqClient(cloud, token=token)
        self.worker = Worker(on_net=self._net_changed)
        self.inflight = 0
        self.last_error = ""
        self.dialog = None
        self.screen: Any = None
        self.screen_key = ""
        self.default_user = user
        self._setup_fonts()
        self.body = ttk.Frame(self)
        self.statusbar = ttk.Frame(self, padding=(8, 4))
        self.statusbar.pack(side="bottom", fill="x")
        self.body.pack(side="top", fill="both", expand=True)
        self.cloud_label = ttk.Label(self.statusbar, text="")
        self.who_label = ttk.Label(self.statusbar, text="")
        self.message = ttk.Label(self.statusbar, text="", bootstyle="danger")
        self.protocol("WM_DELETE_WINDOW", self.close)
        gc.disable()  # collected on the Tk thread only (see kiosk.app)
        self.after(25, self._pump)
        self.after(GC_TICK_MS, self._collect)
        if token:
            self.call(self.api.check_token, lambda _res: self.show_main(), label="token")
        else:
            self.show_signin()

    # ---------------------------------------------------------------- background calls
    def call(
        self,
        fn: Callable[[], Any],
        ok: Callable[[Any], None] | None = None,
        err: Callable[[BaseException], None] | None = None,
        label: str = "",
    ) -> None:
        """Run ``fn`` (a call to HQ) on the background lane; ``ok``/``err`` on the Tk thread."""
        self.inflight += 1

        def done(cb: Callable[[Any], None] | None) -> Callable[[Any], None]:
            def run(value: Any) -> None:
                self.inflight -= 1
                if cb is not None:
                    cb(value)

            return run

        self.worker.read(fn, done(ok), done(err or self.fail), label)

    def _pump(self) -> None:
        try:
            self.worker.pump()
        finally:
            self.after(25, self._pump)

    def _collect(self) -> None:
        gc.collect(0)
        self.after(GC_TICK_MS, self._collect)

    def _net_changed(self, online: bool, detail: str) -> None:
        self._status()
        if not online:
            self.notify(_("HQ unreachable: check the network and try again."))

    def fail(self, exc: BaseException) -> None:
        """A refusal in words for HQ's staff (the till's texts speak of the store server)."""
        from domain.error_codes import Http

        code = getattr(exc, "code", "")
        if code == Http.NOT_FOUND:
            self.notify(_("HQ's cloud does not offer this yet. Update the cloud."))
        elif code == "net.offline":
            self.notify(_("HQ unreachable: check the network and try again."))
        else:
            super().fail(exc)

    # ---------------------------------------------------------------- roles
    def can(self, action: str) -> bool:
        role = self.api.role
        return role == "admin" or role in ACTIONS.get(action, frozenset())

    def reason(self, action: str) -> str:
        """Why the signed-in role may not do ``action`` (empty when it may)."""
        if self.can(action):
            return ""
        roles = sorted(ACTIONS.get(action, frozenset()) | {"admin"})
        names = ", ".join(_(ROLE_NAMES[r]) for r in roles)
        return _("Needs the role: {roles}").format(roles=names)

    # ---------------------------------------------------------------- screens
    def _clear(self) -> None:
        self.close_dialog()
        for w in self.body.winfo_children():
            w.destroy()
        self.screen = None

    def _status(self) -> None:
        for w in (self.cloud_label, self.who_label, self.message):
            w.pack_forget()
        side = self.side("left")
        self.cloud_label.configure(text=shown(_("HQ: {url}").format(url=self.api.base)))
        self.cloud_label.pack(side=side, padx=(0, 16))
        if self.api.signed_in:
            role = _(ROLE_NAMES.get(self.api.role, self.api.role))
            self.who_label.configure(
                text=shown(_("Signed in: {user} ({role})").format(user=self.api.user, role=role))
            )
            self.who_label.pack(side=side, padx=(0, 16))
        self.message.pack(side=side, fill="x", expand=True)

    def show_signin(self, error: str = "") -> None:
        from admin.app_signin import SignInScreen

        self._clear()
        self._status()
        self.screen = SignInScreen(self.body, self, error)
        self.screen.pack(fill="both", expand=True)

    def show_main(self, key: str = "") -> None:
        self._clear()
        self._status()
        self.notify("", error=False)
        self.sidebar = ttk.Frame(self.body, padding=6, bootstyle="light")
        self.sidebar.pack(side=self.side("left"), fill="y")
        self.content = ttk.Frame(self.body, padding=8)
        self.content.pack(side=self.side("left"), fill="both", expand=True)
        self.nav: dict[str, ttk.Button] = {}
        for k, title, action, _path in SCREENS:
            b = ttk.Button(
                self.sidebar,
                text=T(title),
                bootstyle="light",
                takefocus=False,
                command=lambda k=k: self.open(k),
            )
            b.pack(fill="x", pady=2)
            if not self.can(action):
                b.configure(state="disabled")
            self.nav[k] = b
        ttk.Button(
            self.sidebar,
            text=T("Sign out"),
            bootstyle="danger-outline",
            takefocus=False,
            command=self.sign_out,
        ).pack(side="bottom", fill="x", pady=2)
        first = key or next((k for k, _t, a, _p in SCREENS if self.can(a)), "")
        if first:
            self.open(first)

    def open(self, key: str, **kw: Any) -> Any:
        """Show the sidebar's screen ``key`` (or a screen's sub-screen, e.g. ``product``)."""
        paths = {k: p for k, _t, _a, p in SCREENS}
        paths["product"] = "admin.screens.product_edit.ProductEditScreen"
        if self.screen is not None:
            self.screen.destroy()
        self.close_dialog()
        self.notify("", error=False)
        self.screen_key = key
        for k, b in getattr(self, "nav", {}).items():
            if str(b.cget("state")) != "disabled":
                b.configure(bootstyle="primary" if k == key else "light")
        self.screen = _load(paths[key])(self.content, self, **kw)
        self.screen.pack(fill="both", expand=True)
        return self.screen

    def signed_in(self, res: Any) -> None:
        self.default_user = self.api.user
        self.show_main()

    def sign_out(self) -> None:
        self.call(self.api.logout, lambda _r: self.show_signin(), lambda _e: self.show_signin())

    def close(self) -> None:
        self.worker.stop(wait=2.0)
        try:
            self.destroy()
        finally:
            gc.enable()
            gc.collect()
