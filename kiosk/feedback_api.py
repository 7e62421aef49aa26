"""Exception feedback (异常反馈), the till's side: which kinds of problem a till reports and the
rules a report follows (``domain.feedback``), so a till checks a report before it queues it.

The store serves ``POST /v1/feedback`` (``actors.http.feedback``); the till sends reports with
``kiosk.client.StoreClient.feedback`` and keeps them in its outbox until the store answers.
"""

from __future__ import annotations

from domain.feedback import KINDS, FeedbackReported, decide_feedback

__all__ = ["FeedbackReported", "KINDS", "decide_feedback"]
