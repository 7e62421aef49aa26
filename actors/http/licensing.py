"""The licence's features at the gateway: ``need_feature(g, name)`` refuses an endpoint whose
feature the store's licence does not grant (403 ``licence.feature_not_licensed``; the rule and
the feature names are ``domain.licence_activation.FEATURES``/``granted``).

The licence's features are asked of the licence keeper at most every ``TTL_S`` seconds, so a
guarded endpoint costs no Ray call most of the time; a licence installed while the server runs
counts within that time."""

from __future__ import annotations

import time
from typing import Any

from domain.licence_activation import require_feature

__all__ = ["need_feature", "TTL_S"]

TTL_S = 30.0
_CACHE: dict[int, tuple[float, tuple[str, ...]]] = {}  # id(gateway) -> (when, features)


async def need_feature(g: Any, name: str) -> None:
    now = time.monotonic()
    hit = _CACHE.get(id(g))
    if hit is None or now - hit[0] > TTL_S:
        lic = await g.h.licence.status()
        hit = _CACHE[id(g)] = (now, tuple(lic.get("features") or ()))
    require_feature(hit[1], name)
