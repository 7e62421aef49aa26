"""A member's tier at each store, as HQ knows it (for the admin app's Members tab).

    GET /v1/hq/members/{member}/tiers    hq: {member, as_of_us, tiers: [{store, tier,
                                         discount_bp, multiplier_bp, spend, visits}]}

A tier follows the member (``docs/readme/34a-till-loyalty.md``): each store works it out from the
member's orders at every store, by its own rules. HQ folds the same uploads (``cloud.members``,
``domain.member_points``), so it answers the same: every store's orders of the member, measured
by each store's rules (``domain.loyalty.tier_of``). A store without rules has no tier (None).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from cloud.hqauth import HQ, declare
from cloud.members import MEMBERS, READERS, _json, _run
from domain.loyalty import Visit, tier_of
from domain.ports import Clock

__all__ = ["setup", "tiers"]


def tiers(hq: Any, member: str, now_us: int) -> dict[str, Any]:
    """Each store's tier for ``member`` (the stores where the member bought or holds a float)."""
    with hq.lock:
        folds = dict(hq.pool.points)
        seen: list[Visit] = [v for f in folds.values() for v in f.loyalty.visits.get(member, [])]
        out = []
        for store in sorted(set(folds) | set(hq.pool.stores)):
            fold = folds.get(store)
            rules = fold.loyalty.rules if fold is not None else None
            tier = tier_of(seen, rules, now_us)
            own = fold.loyalty.visits.get(member, []) if fold is not None else []
            floats = hq.pool.stores.get(store)
            held = floats is not None and any(k[0] == member for k in floats.held)
            if not own and not held:
                continue
            out.append(
                {
                    "store": store,
                    "tier": tier.name if tier else None,
                    "discount_bp": tier.discount_bp if tier else 0,
                    "multiplier_bp": tier.multiplier_bp if tier else 10_000,
                    "spend": sum(v.spend for v in own),
                    "visits": sum(v.visits for v in own),
                }
            )
    return {"member": member, "as_of_us": now_us, "tiers": out}


async def member_tiers(request: web.Request) -> web.Response:
    hq = request.app[MEMBERS]
    await _run(request, hq.follow)
    member = request.match_info["member"]
    return _json(await _run(request, tiers, hq, member, hq.clock.now_us()))


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> None:
    """Mounted after ``cloud.members`` (it reads that part's folded uploads)."""
    if MEMBERS not in app:
        return
    path = "/v1/hq/members/{member}/tiers"
    declare("GET", path, HQ, READERS)
    app.router.add_route("GET", path, member_tiers)
