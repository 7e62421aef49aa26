"""Product feeds: each feed with what it has staged; the chosen feed's staged rows as a diff
against HQ's products, its files' reports (bad rows never reach a catalogue); approve (into master
data and published to its stores) or reject (``/v1/hq/feeds``)."""

from __future__ import annotations

from typing import Any

from admin.hqclient import path_of
from admin.screens.base import Screen, Table, rows_of, when_text
from admin.screens.publish import diff_rows
from kiosk.i18n import N_, _

__all__ = ["FeedsScreen"]


class FeedsScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Product feeds"))
        bar = self.toolbar()
        self.action(bar, N_("Approve"), "feeds.review", lambda: self.decide("approve"), "success")
        self.action(bar, N_("Reject"), "feeds.review", lambda: self.decide("reject"), "danger")
        self.feeds = Table(
            self,
            [("name", N_("Feed"), 14), ("stores", N_("Stores"), 24), ("staged", N_("Staged"), 8)],
            fmt={"stores": lambda v: ", ".join(v) if isinstance(v, list) else str(v or "")},
            height=5,
            rtl=app.rtl,
        )
        self.feeds.pack(fill="x", pady=4)
        self.feeds.tree.bind("<<TreeviewSelect>>", lambda _e: self.review())
        self.diff = Table(
            self,
            [
                ("what", N_("Change"), 10),
                ("sku", N_("SKU"), 12),
                ("field", N_("Field"), 14),
                ("change", N_("Before → after"), 36),
            ],
            height=8,
            rtl=app.rtl,
        )
        self.diff.pack(fill="both", expand=True, pady=4)
        self.files = Table(
            self,
            [
                ("file_name", N_("File"), 20),
                ("received_us", N_("Received"), 20),
                ("good", N_("Good rows"), 8),
                ("bad", N_("Bad rows"), 8),
                ("status", N_("State"), 10),
            ],
            fmt={"received_us": when_text},
            height=4,
            rtl=app.rtl,
        )
        self.files.pack(fill="x", pady=4)
        self.load()

    def load(self) -> None:
        self.app.call(lambda: self.app.api.get("/v1/hq/feeds"), self.show, label="feeds")

    def show(self, res: Any) -> None:
        if self.winfo_exists():
            self.feeds.fill(rows_of(res, "feeds"))

    def review(self) -> None:
        row = self.feeds.selected()
        if row is None:
            return
        path = path_of("/v1/hq/feeds/{name}/staged", name=row["name"])
        self.app.call(lambda: self.app.api.get(path), self.show_review, label="staged")

    def show_review(self, res: dict[str, Any]) -> None:
        if self.winfo_exists():
            self.diff.fill(diff_rows(res))
            self.files.fill(rows_of(res, "files"))

    def decide(self, what: str) -> None:
        row = self.feeds.selected()
        if row is None:
            self.say(_("Choose a row first."), error=True)
            return
        path = path_of("/v1/hq/feeds/{name}/" + what, name=row["name"])
        text = _("Feed approved and published.") if what == "approve" else _("Feed rejected.")
        self.app.call(lambda: self.app.api.post(path, {}), self.done(text), label=what)
