"""The store's side of HQ's coupons (the rule: ``domain.coupon_chain``; HQ's side:
``cloud.coupons``). The store asks; HQ never calls.

* ``CouponLink`` — the store's signed requests (its upload secret, like the member pull):
  ``GET /v1/coupons/changes?since=N`` and ``POST /v1/coupons/{code}/claim``;
* ``CouponsSync`` — the loop beside the member pull (``start_for``, from ``actors.bootstrap``):
  every ``interval_s`` it pulls HQ's coupons for this store and journals ``coupon.issued``
  (``issued_by: hq``, ``uses``: this store's offline quota; command id ``coupon.hq:<code>``, so a
  re-pull journals nothing twice) and ``coupon.revoked``; the last version pulled is kept in
  ``<data>/hq_coupons.json``.
* A till's look-up of an HQ coupon (``with_pool``, a hook of ``GET /v1/coupons/{code}``) counts
  the uses HQ's pool still holds for this store while HQ answers.
* Before a till's ``pay`` with an HQ coupon (``before_pay``, the gateway's hook), it claims one
  use from HQ's pool (key ``<pay command id>:<code>``: a retried pay claims once) and journals
  ``coupon.use_granted``; offline or with HQ's pool empty it claims nothing, and the ledger's
  book decides against the uses this store holds (its quota and earlier grants).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from actors.members_sync import ChainLink
from actors.pull_loop import keep_pulling
from domain.coupon_chain import FIELDS, CouponRevoked, CouponUseGranted
from domain.errors import KassaError
from domain.loyalty import CouponIssued

__all__ = ["CouponLink", "CouponsSync", "start_for", "before_pay", "with_pool"]

log = logging.getLogger(__name__)

Journal = Callable[[str, Any], Awaitable[Any]]  # (command id, event body) -> the ledger's ack


class CouponLink(ChainLink):
    async def coupon_changes(self, since: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/coupons/changes?since={since}", None)

    async def claim(self, code: str, key: str) -> dict[str, Any]:
        doc = {"key": key, "store": self.store}
        return await self._call("POST", f"/v1/coupons/{quote(code, safe='')}/claim", doc)

    async def pool(self, code: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/coupons/{quote(code, safe='')}/pool", None)


class CouponsSync:
    def __init__(
        self,
        link: CouponLink | None,
        journal: Journal,
        coupon_of: Callable[[str], Any],
        state_path: Path | str,
        interval_s: float = 30.0,
    ) -> None:
        self.link, self.journal, self.coupon_of = link, journal, coupon_of
        self.state_path = Path(state_path)
        self.interval_s = interval_s
        self.task: asyncio.Task[None] | None = None
        self.last_error = ""

    @property
    def since(self) -> int:
        try:
            return int(json.loads(self.state_path.read_text()).get("since", 0))
        except (OSError, ValueError, AttributeError):
            return 0

    def _keep(self, since: int) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"since": since}))
        tmp.replace(self.state_path)

    async def pull(self) -> int:
        """Journal every coupon HQ issued or revoked for this store since the last pull; how
        many events that made."""
        if self.link is None:
            return 0
        n = 0
        while True:
            page = await self.link.coupon_changes(self.since)
            for c in page.get("coupons") or ():
                n += await self._take(c)
            self._keep(int(page.get("since", self.since)))
            if not page.get("more"):
                return n

    async def _take(self, c: dict[str, Any]) -> int:
        code = str(c.get("code", ""))
        try:
            if c.get("revoked"):
                if self.coupon_of(code) is None:
                    return 0  # revoked before this store ever had it
                await self.journal(f"coupon.revoked:{code}", CouponRevoked(code))
            else:
                fields = {f: c[f] for f in FIELDS if f in c}
                body = CouponIssued(**fields, issued_by="hq")
                await self.journal(f"coupon.hq:{code}", body)
        except KassaError as exc:  # e.g. the store issued the same code itself: said, skipped
            log.warning("HQ coupon %s not taken: %s", code, exc.code)
            self.last_error = exc.code
            return 0
        return 1

    async def pay_tenders(self, args: Any, cid: str) -> None:
        """Before a till's ``pay``: one use from HQ's pool for each HQ coupon it pays with."""
        if self.link is None or not isinstance(args, dict):
            return
        for t in args.get("tenders") or ():
            if not (isinstance(t, dict) and t.get("kind") == "coupon"):
                continue
            code = str(t.get("reference") or "").strip().upper()
            st = self.coupon_of(code)
            if st is None:  # issued at HQ since the last pull?
                try:
                    await self.pull()
                except KassaError as exc:
                    self.last_error = exc.code
                st = self.coupon_of(code)
            if st is None or st.coupon.issued_by != "hq":
                continue
            try:
                ans = await self.link.claim(code, f"{cid}:{code}")
                if ans.get("granted"):
                    grant = CouponUseGranted(code, str(ans["claim"]))
                    await self.journal(f"coupon.granted:{grant.claim}", grant)
            except KassaError as exc:  # offline, refused: the uses this store holds decide
                self.last_error = exc.code

    async def run(self) -> None:
        await keep_pulling(self, self.pull, "coupon pull")

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())


async def before_pay(handles: Any, args: Any, cid: str) -> None:
    """The gateway's hook before a till's ``pay`` (``actors.http.sale``)."""
    sync = getattr(handles, "coupons_sync", None)
    if sync is not None:
        await sync.pay_tenders(args, cid)


async def with_pool(handles: Any, view: dict[str, Any]) -> dict[str, Any]:
    """The store's view of a coupon (``GET /v1/coupons/{code}``) for the till: an HQ coupon's
    uses left are this store's own plus what HQ's pool still holds while HQ answers
    (``online``); offline, this store's own only."""
    sync = getattr(handles, "coupons_sync", None)
    if sync is None or sync.link is None or view.get("issued_by") != "hq":
        return view
    try:
        ans = await sync.link.pool(str(view.get("code", "")))
    except KassaError:
        return {**view, "online": False}
    pool = max(0, int(ans.get("left", 0)))
    return {**view, "left": int(view.get("left", 0)) + pool, "pool": pool, "online": True}


def start_for(handles: Any) -> CouponsSync | None:
    """The running store's coupon loop over its ledger (``actors.bootstrap``), when the store
    has a cloud to ask."""
    from actors.ledger import Request, command_hash

    data = Path(handles.data_dir)
    cfg = handles.config
    secret = data / "cloud_secret"
    if not (cfg.cloud_url and secret.exists()):
        return None

    async def journal(cid: str, body: Any) -> Any:
        req = Request(cid, command_hash("system", cid), body, "system", "", "")
        return await handles.ledger_rpc.call("submit", req)

    def coupon_of(code: str) -> Any:
        return handles.ledger_shell.ledger.book.loyalty.coupons.get(code)

    key = bytes.fromhex(secret.read_text().strip())
    link = CouponLink(cfg.cloud_url, cfg.store_id, key, timeout_s=1.5)  # a till waits on it
    sync = CouponsSync(link, journal, coupon_of, data / "hq_coupons.json")
    sync.start()
    return sync
