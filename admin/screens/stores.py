"""Stores, their licences and licence activations, in four tabs: the registered stores (what HQ
holds of each), licences (create for a store, revoke, renew: ``/v1/hq/licences``), activation
requests from store servers (approve, deny: ``/v1/hq/activations``) and a new store
(``admin.screens.store_new``)."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.hqclient import path_of
from admin.screens.base import Screen, Table, day_text, rows_of, when_text
from admin.screens.store_new import NewStoreTab
from kiosk.i18n import N_, T, _

__all__ = ["StoresScreen", "STATES"]

# a licence's state (cloud.activation.licence_rows) and an activation request's, in words
STATES = {
    "valid": N_("Valid"),
    "expired": N_("Expired"),
    "future": N_("Not yet valid"),
    "revoked": N_("Revoked"),
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "denied": N_("Denied"),
}


class StoresScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Stores & licences"))
        style = "TNotebook"
        if app.rtl:  # tabs read from the right: the first one rightmost
            style = "Rtl.TNotebook"
            ttk.Style().configure(style, tabposition="ne")
        tabs = ttk.Notebook(self, style=style)
        tabs.pack(fill="both", expand=True)
        self.tabs = tabs
        stores, licences, activations = (ttk.Frame(tabs, padding=6) for _i in range(3))
        self.new_store = NewStoreTab(tabs, self)
        order = [
            (stores, N_("Stores")),
            (licences, N_("Licences")),
            (activations, N_("Activations")),
            (self.new_store, N_("New store")),
        ]
        for frame, text in reversed(order) if app.rtl else order:
            tabs.add(frame, text=T(text))
        tabs.select(stores)
        self.stores = Table(
            stores,
            [
                ("id", N_("Store"), 8),
                ("name", N_("Store name"), 16),
                ("zone", N_("Time zone"), 16),
                ("held", N_("Events held"), 10),
                ("last_upload_us", N_("Last upload"), 22),
            ],
            fmt={"last_upload_us": when_text},
            rtl=app.rtl,
        )
        self.stores.pack(fill="both", expand=True)
        form = ttk.Frame(licences)
        form.pack(fill="x")
        self.lic_store = self.field(form, N_("Store"), 0, 10)
        self.lic_days = self.field(form, N_("Days"), 1, 6)
        self.lic_days.insert(0, "365")
        self.lic_tills = self.field(form, N_("Tills"), 2, 6)
        self.lic_tills.insert(0, "2")
        self.lic_features = self.field(form, N_("Features (comma separated)"), 3, 24)
        self.lic_error = ttk.Label(form, text="", bootstyle="danger", justify=self.form_justify)
        self.lic_error.grid(row=4, column=0, columnspan=2, sticky=self.form_side, padx=8)
        bar = self.toolbar(licences)
        self.action(bar, N_("Create licence"), "licences.edit", self.create, "success")
        self.action(bar, N_("Renew"), "licences.edit", lambda: self.licence("renew"), "secondary")
        self.action(bar, N_("Revoke"), "licences.edit", lambda: self.licence("revoke"), "danger")
        self.licences = Table(
            licences,
            [
                ("licence_id", N_("Licence"), 22),
                ("store_id", N_("Store"), 8),
                ("valid_until", N_("Valid until"), 20),
                ("tills", N_("Tills"), 5),
                ("features", N_("Features"), 18),
                ("state", N_("State"), 8),
            ],
            fmt={
                "valid_until": day_text,
                "state": lambda v: T(STATES.get(str(v), str(v))),
                "features": lambda v: ", ".join(v or []) if isinstance(v, list) else str(v or ""),
            },
            height=8,
            rtl=app.rtl,
        )
        self.licences.pack(fill="both", expand=True)
        bar = self.toolbar(activations)
        self.action(bar, N_("Approve"), "activations.decide", lambda: self.decide("approve"))
        self.action(bar, N_("Deny"), "activations.decide", lambda: self.decide("deny"), "danger")
        self.activations = Table(
            activations,
            [
                ("id", N_("Request"), 10),
                ("store", N_("Store"), 8),
                ("licence_id", N_("Licence"), 22),
                ("install_id", N_("Store server"), 18),
                ("status", N_("State"), 10),
                ("requested_at", N_("Asked at"), 20),
            ],
            fmt={"requested_at": when_text, "status": lambda v: T(STATES.get(str(v), str(v)))},
            rtl=app.rtl,
        )
        self.activations.pack(fill="both", expand=True)
        self.load()

    def load(self) -> None:
        api = self.app.api
        self.app.call(lambda: api.get("/v1/stores"), self._fill(self.stores, "stores"))
        self.app.call(lambda: api.get("/v1/hq/licences"), self._fill(self.licences, "licences"))
        self.app.call(
            lambda: api.get("/v1/hq/activations"), self._fill(self.activations, "activations")
        )

    def _fill(self, table: Table, key: str) -> Any:
        def ok(res: Any) -> None:
            if table.winfo_exists():
                rows = rows_of(res, key)
                table.fill([{**r.get("licence", {}), **r} for r in rows])

        return ok

    def create(self) -> None:
        try:
            days, tills = int(self.lic_days.get()), int(self.lic_tills.get())
        except ValueError:
            days = tills = 0
        store = self.lic_store.get().strip()
        if not store or days < 1 or tills < 1:
            self.lic_error.configure(text=T("Give a store, days ≥ 1 and tills ≥ 1."))
            return
        self.lic_error.configure(text="")
        features = [f.strip() for f in self.lic_features.get().split(",") if f.strip()]
        body = {"store": store, "days": days, "grace": 7, "tills": tills, "features": features}
        self.app.call(
            lambda: self.app.api.post("/v1/hq/licences", body),
            self.done(_("Licence created.")),
            label="licence",
        )

    def licence(self, what: str) -> None:
        row = self.licences.selected()
        if row is None:
            self.say(_("Choose a row first."), error=True)
            return
        path = path_of("/v1/hq/licences/{id}/" + what, id=row.get("licence_id", ""))
        text = _("Licence renewed.") if what == "renew" else _("Licence revoked.")
        try:
            body = {"days": int(self.lic_days.get())} if what == "renew" else {}
        except ValueError:
            body = {"days": 365}
        self.app.call(lambda: self.app.api.post(path, body), self.done(text), label=what)

    def decide(self, what: str) -> None:
        row = self.activations.selected()
        if row is None:
            self.say(_("Choose a row first."), error=True)
            return
        path = path_of("/v1/hq/activations/{id}/" + what, id=row.get("id", ""))
        text = _("Activation approved.") if what == "approve" else _("Activation denied.")
        self.app.call(lambda: self.app.api.post(path, {}), self.done(text), label=what)
