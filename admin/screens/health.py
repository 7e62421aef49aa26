"""Upload health per store: when it last brought events, the last seq HQ holds, the newest event,
its alerts (``GET /v1/hq/upload-health``); and the store's own health (``GET /v1/hq/store-health``,
``cloud.hqhealth``): the state of its latest report, when it came, its alerts (disk, uploads,
licence, commit time). A store's alerts of both kinds are listed when it is chosen."""

from __future__ import annotations

from typing import Any

from admin.screens.base import Screen, Table, when_text
from kiosk.i18n import N_, _, shown
from kiosk.screens.manager_health import ALERT_NAMES, alert_detail

__all__ = ["HealthScreen", "STATES"]

STATES = {
    "ok": N_("Uploading"),
    "late": N_("Nothing new for a day"),
    "never": N_("Never uploaded"),
    "alert": N_("Alerts to look at"),
}
HEALTH_STATES = {
    "ok": N_("Healthy"),
    "alert": N_("Alerts"),
    "stale": N_("No report lately"),
    "never": N_("No report yet"),
}


class HealthScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Upload health"))
        bar = self.toolbar()
        self.action(bar, N_("Refresh"), "health", self.load, "secondary")
        self.table = Table(
            self,
            [
                ("store", N_("Store"), 8),
                ("name", N_("Store name"), 14),
                ("state", N_("State"), 18),
                ("alert_count", N_("Alerts"), 7),
                ("health", N_("Store health"), 14),
                ("last_seen_us", N_("Last upload"), 22),
                ("last_event_us", N_("Newest event"), 22),
                ("seq_held", N_("Events held"), 10),
                ("health_us", N_("Last health report"), 22),
            ],
            fmt={
                "state": lambda v: shown(_(STATES.get(v, v or ""))),
                "health": lambda v: shown(_(HEALTH_STATES.get(v, v or ""))),
                "health_us": when_text,
                "last_seen_us": when_text,
                "last_event_us": when_text,
            },
            height=10,
            rtl=app.rtl,
        )
        self.table.pack(fill="both", expand=True, pady=4)
        self.table.tree.bind("<<TreeviewSelect>>", lambda _e: self.show_alerts())
        self.alerts = Table(
            self,
            [
                ("code", N_("Alert"), 20),
                ("seq", N_("Seq"), 8),
                ("message", N_("What happened"), 40),
                ("last_us", N_("Last seen"), 20),
                ("count", N_("Times"), 6),
            ],
            fmt={"last_us": when_text},
            height=6,
            rtl=app.rtl,
        )
        self.alerts.pack(fill="x", pady=4)
        self.load()

    def load(self) -> None:
        self.app.call(self._both, self.show, label="health")

    def _both(self) -> dict[str, Any]:
        """Upload health, each store with its latest health report beside it."""
        res = self.app.api.get("/v1/hq/upload-health")
        try:
            health = self.app.api.get("/v1/hq/store-health")
        except Exception:  # an HQ without the health part: the upload health alone
            return dict(res)
        reports = {r["store"]: r for r in health.get("stores") or []}
        stores = []
        for row in res.get("stores") or []:
            rep = reports.get(row.get("store"), {})
            stores.append(
                {
                    **row,
                    "health": rep.get("state", ""),
                    "health_us": rep.get("received_us"),
                    "health_alerts": rep.get("alerts") or [],
                }
            )
        return {**res, "stores": stores}

    def show(self, res: dict[str, Any]) -> None:
        if self.winfo_exists():
            self.table.fill(res.get("stores") or [])

    def show_alerts(self) -> None:
        row = self.table.selected() or {}
        health = [
            {
                "code": _(ALERT_NAMES.get(str(a.get("code")), N_("Store health"))),
                "message": alert_detail(a),
                "last_us": row.get("health_us"),
            }
            for a in row.get("health_alerts") or []
        ]
        self.alerts.fill(health + list(row.get("alerts") or []))
