"""Publish HQ's catalogue to the stores: choose a store (or all), preview what changes for it
(``GET /v1/hq/publish/preview``: added, changed field by field, removed, scheduled prices), then
publish with a note (``POST /v1/hq/publish``). Below: the publications so far and, per store, the
version published and the version it last pulled."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table, money_text, when_text
from kiosk.i18n import N_, T, _, shown

__all__ = ["PublishScreen", "diff_rows"]


MONEY_FIELDS = ("price",)


def diff_rows(preview: dict[str, Any]) -> list[dict[str, str]]:
    """The preview as table rows: what, SKU, field, before → after (money in the store's
    currency, times in its zone)."""
    cur, zone = preview.get("currency") or "THB", preview.get("zone") or "UTC"

    def value(field: str, v: Any) -> str:
        if field in MONEY_FIELDS and isinstance(v, int) and not isinstance(v, bool):
            return money_text(v, cur)
        if isinstance(v, dict):  # names per language
            return ", ".join(f"{k}: {x}" for k, x in v.items())
        if isinstance(v, list | tuple):  # barcodes, tags
            return ", ".join(str(x) for x in v)
        return "" if v is None else str(v)

    rows = []
    for p in preview.get("added") or []:
        sku = p.get("sku", "") if isinstance(p, dict) else str(p)
        rows.append({"what": _("added"), "sku": sku, "field": "", "change": ""})
    for c in preview.get("changed") or []:
        for field, pair in (c.get("fields") or {}).items():
            old, new = (list(pair) + ["", ""])[:2] if isinstance(pair, list | tuple) else ("", pair)
            rows.append(
                {
                    "what": _("changed"),
                    "sku": c.get("sku", ""),
                    "field": field,
                    "change": f"{value(field, old)} → {value(field, new)}",
                }  # fmt: skip
            )
    for p in preview.get("removed") or []:
        sku = p.get("sku", "") if isinstance(p, dict) else str(p)
        rows.append({"what": _("removed"), "sku": sku, "field": "", "change": ""})
    for p in preview.get("prices") or []:
        rows.append(
            {
                "what": _("price from"),
                "sku": p.get("sku", ""),
                "field": when_text(p.get("from_us"), zone),
                "change": value("price", p.get("price")),
            }  # fmt: skip
        )
    return rows


class PublishScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Publish the catalogue"))
        side = app.side("left")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Store")).pack(side=side, padx=(0, 4))
        self.store = ttk.Combobox(bar, state="readonly", width=16)
        self.store.pack(side=side, padx=(0, 8))
        self.stores: list[str] = []
        self.action(bar, N_("Preview changes"), "products.read", self.preview, "secondary")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Note")).pack(side=side, padx=(0, 4))
        self.note = ttk.Entry(bar, width=36)
        self.note.pack(side=side, padx=(0, 8), ipady=4)
        self.publish_button = self.action(bar, N_("Publish"), "publish", self.publish, "success")
        self.summary = ttk.Label(self, text="", font=app.base_font)
        self.summary.pack(fill="x", pady=4)
        self.diff = Table(
            self,
            [
                ("what", N_("Change"), 10),
                ("sku", N_("SKU"), 12),
                ("field", N_("Field"), 14),
                ("change", N_("Before → after"), 36),
            ],
            height=9,
            rtl=app.rtl,
        )
        self.diff.pack(fill="both", expand=True, pady=4)
        ttk.Label(self, text=T("Stores' catalogues")).pack(anchor=app.text_anchor, pady=(6, 0))
        self.catalogues = Table(
            self,
            [
                ("store", N_("Store"), 10),
                ("published", N_("Published version"), 14),
                ("pulled", N_("Version pulled"), 14),
                ("when", N_("Pulled at"), 22),
            ],
            fmt={"when": when_text},
            height=5,
            rtl=app.rtl,
        )
        self.catalogues.pack(fill="x", pady=4)
        self.published: dict[str, Any] | None = None
        self.load()

    def load(self) -> None:
        self.app.call(lambda: self.app.api.get("/v1/stores"), self._stores, label="stores")
        self.app.call(
            lambda: self.app.api.get("/v1/hq/stores/catalogue"), self._catalogues, label="cat"
        )

    def _stores(self, res: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        self.stores = [s["id"] for s in res.get("stores") or []]
        self.store.configure(values=[shown(_("All stores"))] + self.stores)
        if self.store.current() < 0:
            self.store.current(0)

    def _catalogues(self, res: Any) -> None:
        if not self.winfo_exists():
            return
        rows = res.get("stores", []) if isinstance(res, dict) else res or []
        self.catalogues.fill(
            [
                {
                    "store": r.get("store") or r.get("id", ""),
                    "published": r.get("published", r.get("published_version", "")),
                    "pulled": r.get("pulled", r.get("pulled_version", "")),
                    "when": r.get("pulled_at_us"),
                }
                for r in rows
            ]
        )

    def chosen(self) -> list[str] | None:
        i = self.store.current()
        return [self.stores[i - 1]] if i > 0 else None

    def preview(self) -> None:
        stores = self.chosen() or self.stores[:1]
        if not stores:
            self.say(_("No store is registered yet."), error=True)
            return
        store = stores[0]
        self.app.call(
            lambda: self.app.api.get("/v1/hq/publish/preview", store=store),
            self.show_preview,
            label="preview",
        )

    def show_preview(self, res: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        rows = diff_rows(res)
        self.diff.fill(rows)
        self.summary.configure(
            text=shown(
                _("Store {store}: version {old} → {new}; changes: {n}.").format(
                    store=res.get("store", ""),
                    old=res.get("from_version") or "—",
                    new=res.get("to_version", ""),
                    n=len(rows),
                )
            )
        )

    def publish(self) -> None:
        body = {"stores": self.chosen(), "note": self.note.get().strip()}
        self.publish_button.configure(state="disabled")
        self.app.call(
            lambda: self.app.api.post("/v1/hq/publish", body),
            self.done_publish,
            self.refused,
            label="publish",
        )

    def done_publish(self, res: dict[str, Any]) -> None:
        self.published = res
        stores = res.get("stores")
        where = ", ".join(stores) if isinstance(stores, list) and stores else _("all stores")
        self.say(
            _("Published version {version} to {stores}.").format(
                version=res.get("version", ""), stores=where
            )
        )
        if self.winfo_exists():
            self.publish_button.configure(state="normal")
            self.load()

    def refused(self, exc: BaseException) -> None:
        self.app.fail(exc)
        if self.winfo_exists():
            self.publish_button.configure(state="normal")
