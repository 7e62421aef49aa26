"""Compatibility names for the store's LAN gateway, which lives in ``actors.http`` (one module per
business area; ``actors.http.app.make_gateway`` builds it)."""

from __future__ import annotations

from actors.http.app import make_gateway
from actors.http.common import MAX_BODY, redact
from actors.http.context import GATEWAY, Gateway
from actors.http.sale import TILL_OPS

__all__ = ["make_gateway", "MAX_BODY", "Gateway", "GATEWAY", "TILL_OPS", "redact"]
