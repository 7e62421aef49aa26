"""The till's problem reports (异常反馈): sent to the store on the ordered lane, or kept in the
till's outbox file while the store has no feedback endpoint and sent later with the same id.
Part of ``TillApp``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kiosk.app_view import TillView
from kiosk.client import ApiError, Session, StoreClient, Worker, new_id
from kiosk.i18n import _

__all__ = ["FeedbackOutbox"]


class FeedbackOutbox(TillView):
    """Report a problem, and send what waits in the outbox (a part of ``TillApp``)."""

    api: StoreClient
    worker: Worker
    till: str
    session: Session | None
    feedback_outbox: Path

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
