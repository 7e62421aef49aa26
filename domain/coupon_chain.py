"""HQ's coupons across the chain: the rule that an HQ coupon is never used more times than HQ
issued, even while stores are offline.

**The rule** (HQ's side ``cloud.coupons``, the store's ``actors.coupons_sync``): a coupon HQ
issues with ``uses = N`` for a set of stores S gives each store of S an offline quota ``q``
(``quota``, at issue: ``q × |S| ≤ N``); the rest, ``N − q × |S|``, is HQ's pool.

* A store pulls the coupon (``GET /v1/coupons/changes``) and journals ``coupon.issued`` with
  ``issued_by: hq`` and ``uses = q`` (its quota; 0 is allowed for an HQ coupon): offline, the
  store's book lets the coupon be used at most q times there.
* Online, before a sale paying with the coupon, the store claims one use from HQ's pool
  (``POST /v1/coupons/{code}/claim``, store-signed, idempotent by key): HQ grants it while
  ``claimed < N − q × |S|`` (``may_claim``), and the store journals ``coupon.use_granted``,
  which adds that use to the coupon at this store. Claimed uses a sale then did not take stay at
  that store (they only lower what may be used elsewhere).
* So the uses any store may make are at most its quota plus the uses HQ granted it, and the sum
  over all stores is at most ``q × |S| + claimed ≤ N``: never over-used, with any store offline
  for any time. An offline store loses nothing but its pool claims; a store cut off with its
  quota used up says ``coupon.used_up``.
* HQ revokes a coupon: the stores pull ``coupon.revoked`` and their books end its validity at
  that moment (``coupon.not_valid_now`` from then on; uses already made stand).

``check``/``apply`` are the book's hooks for the two events (``domain.loyalty_book``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import register

__all__ = [
    "CouponUseGranted",
    "CouponRevoked",
    "CHAIN_TYPES",
    "FIELDS",
    "quota_fits",
    "pool_of",
    "may_claim",
    "check",
    "apply",
]


@register("coupon.use_granted")
@dataclass(frozen=True, slots=True)
class CouponUseGranted:
    """HQ granted this store ``uses`` more uses of HQ coupon ``code`` (claim ``claim``)."""

    code: str
    claim: str
    uses: int = 1

    @property
    def agg(self) -> str:
        return f"coupon:{self.code}"


@register("coupon.revoked")
@dataclass(frozen=True, slots=True)
class CouponRevoked:
    """HQ revoked coupon ``code``: not valid from the event's time on."""

    code: str
    by: str = "hq"

    @property
    def agg(self) -> str:
        return f"coupon:{self.code}"


CHAIN_TYPES = (CouponUseGranted, CouponRevoked)
# what HQ sends a store about a coupon (``coupon.issued``'s fields but ``issued_by``)
FIELDS = ("code", "kind", "value", "min_spend", "valid_from", "valid_to", "uses", "member")


def quota_fits(uses: int, stores: int, quota: int) -> bool:
    """Whether an offline quota of ``quota`` per store for ``stores`` stores fits in ``uses``."""
    return quota >= 0 and stores >= 0 and quota * stores <= uses


def pool_of(uses: int, stores: int, quota: int) -> int:
    """HQ's pool: the uses left for online claims once every store has its quota."""
    return max(0, uses - quota * stores)


def may_claim(uses: int, stores: int, quota: int, claimed: int) -> bool:
    """Whether HQ may grant one more online use (``claimed`` granted so far)."""
    return claimed < pool_of(uses, stores, quota)


def check(coupons: dict[str, Any], body: Any) -> Any:
    """Refuse a grant or a revocation of a coupon this store does not hold from HQ."""
    st = coupons.get(body.code)
    if st is None:
        raise NotFound("coupon.not_found", "no such coupon", code=body.code)
    if st.coupon.issued_by != "hq":
        raise Conflict("coupon.not_hq", "only HQ's coupons are granted or revoked by HQ")
    if isinstance(body, CouponUseGranted) and not 0 < body.uses <= 10**6:
        raise InvalidInput("coupon.bad", "a grant is 1..1000000 uses")
    return body


def apply(coupons: dict[str, Any], body: Any, ts: int) -> None:
    st = coupons.get(body.code)
    if st is None:
        return
    c = st.coupon
    if isinstance(body, CouponUseGranted):
        st.coupon = dataclasses.replace(c, uses=c.uses + body.uses)
    elif isinstance(body, CouponRevoked):  # valid until now; its dates say so everywhere
        end = max(c.valid_from, ts - 1)
        st.coupon = dataclasses.replace(c, valid_to=min(c.valid_to, end) if c.valid_to else end)
