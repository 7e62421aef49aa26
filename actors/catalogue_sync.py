"""The store's side of HQ's catalogue: verify a bundle, merge it with the store's own values,
apply it atomically, journal which version the store runs; scheduled prices applied when due.

``CatalogueSync`` works on a *target* with the catalogue actor's two calls (``snapshot()`` and
``update(cid, products, source, who, replace_all)``: validate, journal, commit — the store's one
catalogue path, which marks every till's copy stale so the next command sees the new catalogue)
and a ``journal(cid, body)`` for its own event. A line already in a basket keeps the price it was
scanned at: a basket line carries its unit price (``domain.basket``), and the catalogue changes
only between two commands.

Files in ``<data>/hq_catalogue/``:

* ``hq.json`` — HQ's products as of the version the store runs (after the scheduled prices that
  came due), the scheduled prices still to come, the store-owned fields, the version and its
  bundle's hash. Written after the catalogue is committed and before the version is journaled.
* ``status.json`` — last pull, last success, failures and the last error (for people).

The merge rules are ``domain.catalogue_merge``; the pull loop, on-demand pulls and USB bundles
dropped in by ``kassa store catalogue import`` are ``actors.catalogue_sync_loop``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import orjson

from actors.catalogue import paused_gc
from actors.catalogue_hq_store import HqStore
from actors.catalogue_sync_plan import HqChange, expanded, hq_after
from actors.files import atomic_write
from actors.till import Who
from domain.catalogue_bundle import Bundle, read_header, unpack
from domain.catalogue_merge import due_prices, effective, price_only, split, with_prices
from domain.error_codes.hq import Catalogue as BundleCodes
from domain.error_codes.storepull import CatalogueSync as Codes
from domain.errors import Conflict, InvalidInput, KassaError
from domain.events import CatalogueVersionApplied
from domain.ports import Clock

__all__ = ["CatalogueSync", "Target", "DEFAULT_STORE_FIELDS", "SYNC_DIR", "MAX_BUNDLE"]

log = logging.getLogger(__name__)
SYNC_DIR = "hq_catalogue"
DEFAULT_STORE_FIELDS = ["favourite", "low_stock", "image"]
MAX_BUNDLE = 512 * 1024 * 1024
SOURCES = ("hq", "usb", "setup")


class Target(Protocol):
    async def version(self) -> str: ...

    async def rows(self, skus: list[str] | None = None) -> tuple[str, list[dict[str, Any]]]: ...

    async def price_split(
        self, hq: dict[str, dict[str, Any]], pairs: list[list[Any]] | None = None
    ) -> tuple[str, bytes | None, list[dict[str, Any]]]: ...

    async def update(
        self,
        cid: str,
        products: list[dict],
        source: str,
        who: Who,
        replace_all: bool = False,
        remove: list[str] | None = None,
        prices: bytes | None = None,
        base: str | None = None,
    ) -> dict: ...


Journal = Callable[[str, Any], Awaitable[Any]]
Products = dict[str, dict[str, Any]]


class CatalogueSync:
    def __init__(
        self,
        data_dir: Path | str,
        store_id: str,
        public_key: str | None,
        target: Target,
        journal: Journal,
        clock: Clock,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.dir = Path(data_dir) / SYNC_DIR
        self.store_id = store_id
        self.public_key = public_key
        self.target = target
        self.journal = journal
        self.clock = clock
        self.changed = changed  # tills hosted here load the new catalogue before their next command
        self.lock = asyncio.Lock()
        self.store = HqStore(self.dir)
        self.held: dict[str, Any] = self.store.meta() or {
            "version": None,
            "prices": [],
            "store_fields": list(DEFAULT_STORE_FIELDS),
        }
        self.state = self._read("status.json") or {}
        for k in ("last_pull_us", "last_ok_us", "last_error", "applied_us", "source"):
            self.state.setdefault(k, None)
        self.state.setdefault("failures", 0)

    # ------------------------------------------------------------ files
    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            doc = orjson.loads((self.dir / name).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        return doc if isinstance(doc, dict) else None

    def _write(self, name: str, doc: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.dir / name, orjson.dumps(doc))

    def save_state(self) -> None:
        self._write("status.json", self.state)

    @property
    def version(self) -> int | None:
        v = self.held.get("version")
        return None if v is None else int(v)

    def status(self) -> dict[str, Any]:
        """Which HQ version the store runs, from where, and how the last pull went."""
        nxt = self.next_price_us()
        return {
            "version": self.version,
            "sha256": self.held.get("sha256", ""),
            "source": self.state["source"],
            "applied_us": self.state["applied_us"],
            "last_pull_us": self.state["last_pull_us"],
            "last_ok_us": self.state["last_ok_us"],
            "failures": self.state["failures"],
            "error": self.state["last_error"],
            "scheduled_prices": len(self.held.get("prices") or []),
            "next_price_us": nxt,
            "store_fields": list(self.held.get("store_fields") or []),
        }

    def next_price_us(self) -> int | None:
        prices = self.held.get("prices") or []
        return min((int(r["from_us"]) for r in prices), default=None)

    # ------------------------------------------------------------ bundles
    def open(self, data: bytes) -> tuple[Bundle, str]:
        """Verify a bundle for this store (nothing is changed): the bundle and its payload hash."""
        if not self.public_key:
            raise Conflict(Codes.NO_KEY, "this store holds no HQ public key")
        if len(data) > MAX_BUNDLE:
            raise InvalidInput(Codes.TOO_LARGE, f"the file is above {MAX_BUNDLE} bytes")
        with paused_gc():  # 300,000 products parsed
            bundle = unpack(data, self.public_key, store=self.store_id)
        return bundle, str(read_header(data)[0].get("payload_sha256", ""))

    async def apply_bytes(self, data: bytes, source: str) -> dict[str, Any]:
        t = time.perf_counter()
        bundle, sha = await asyncio.to_thread(self.open, data)  # decompress + parse: off the loop
        log.warning(
            "catalogue: a bundle of %d bytes opened in %.2f s", len(data), time.perf_counter() - t
        )
        return await self.apply(bundle, source, sha)

    async def apply(self, bundle: Bundle, source: str, sha: str) -> dict[str, Any]:
        """Apply a verified bundle: refused (nothing changes) if older than the version the store
        runs, or a delta from another version (``catalogue.delta_base``: load a full one)."""
        if source not in SOURCES:
            raise ValueError(f"source is one of {SOURCES}")
        async with self.lock:
            held = self.version
            if held is not None and bundle.version < held:
                raise InvalidInput(
                    Codes.OLDER,
                    f"this catalogue is version {bundle.version}; the store runs {held}",
                    version=bundle.version,
                    held=held,
                )
            if held is not None and bundle.version == held:
                return {**self.status(), "applied": False}
            fields = bundle.store_fields or list(self.held.get("store_fields") or [])
            # hundreds of thousands of products: in worker threads, not on the loop that
            # answers the tills
            now, took = self.clock.now_us(), [time.perf_counter()]  # phases, for the log
            plan = await asyncio.to_thread(hq_after, bundle, held, self.store, now)
            took.append(time.perf_counter())
            # a delta onto the catalogue the last HQ version made (nothing changed it since):
            # only the products it names are merged and sent (a day's 1,000 price changes at
            # 300,000 products); otherwise the whole catalogue is merged again
            made = self.held.get("catalogue")
            only = bundle.kind == "delta" and bool(made) and made == await self.target.version()
            prices: bytes | None = None  # HQ repricing: the products whose price alone changes
            inside = (
                only
                and "price" not in fields
                and callable(getattr(self.target, "price_split", None))
            )
            if plan.prices and not inside:  # HQ's new prices as rows, for the long way
                plan = await asyncio.to_thread(expanded, plan, self.store)
            if inside and not plan.touched:  # HQ's new prices alone: the update checks them
                current: list[dict[str, Any]] = []
                running, prices = str(made), await asyncio.to_thread(orjson.dumps, plan.prices)
            elif inside:  # are changed inside the catalogue (no rows sent)
                hq = {s: plan.upsert[s] for s in plan.touched}
                running, prices, current = await self.target.price_split(hq, plan.prices)
                if prices is None:  # HQ's new prices refused: the update names their rows
                    plan = await asyncio.to_thread(expanded, plan, self.store)
                    hq = {s: plan.upsert[s] for s in plan.touched}
                    running, prices, current = await self.target.price_split(hq)
            else:
                running, current = await self.target.rows(plan.touched if only else None)
            if only and running != made:  # the store's catalogue changed meanwhile
                only, prices, (running, current) = False, None, await self.target.rows(None)
                plan = await asyncio.to_thread(expanded, plan, self.store)
            overrides, local, rows, remove, priced = await asyncio.to_thread(
                self._merge, plan, current, fields, only, prices
            )
            # HQ's products after this version are written into a new hq.sqlite (when most rows
            # change), or its many new prices ahead, while the catalogue commits; they are put
            # in place after, with the version
            replace = bundle.kind != "delta"
            staging = asyncio.ensure_future(
                asyncio.to_thread(self.store.stage, plan.upsert, plan.removed, replace, plan.prices)
            )
            took.append(time.perf_counter())
            try:
                how = (str(uuid.uuid4()), f"{source}:v{bundle.version}", Who(staff="system", ip=""))
                base = running if prices is not None else None
                res = await self.target.update(
                    how[0], rows, how[1], how[2], not only, remove, prices, base
                )
                if res.get("moved"):  # another update came between: the whole catalogue merged
                    plan = await asyncio.to_thread(expanded, plan, self.store)
                    self.store.discard(await staging)
                    staging = asyncio.ensure_future(asyncio.sleep(0, None))
                    running, current = await self.target.rows(None)
                    overrides, local, rows, remove, priced = await asyncio.to_thread(
                        self._merge, plan, current, fields, False, None
                    )
                    res = await self.target.update(how[0], rows, how[1], how[2], True, remove)
            except BaseException:
                self.store.discard(await staging)
                raise
            self.changed()  # the tills sell the new prices while hq.sqlite is still written
            took.append(time.perf_counter())
            staged = await staging
            meta = {
                "version": bundle.version,
                "base": bundle.base,
                "sha256": sha,
                "prices": plan.later,
                "store_fields": fields,
                "catalogue": res.get("version"),  # the catalogue this version made
            }
            await asyncio.to_thread(
                self.store.save, meta, plan.upsert, plan.removed, replace, staged, plan.prices
            )
            self.held = meta
            self.state.update(source=source, applied_us=self.clock.now_us())
            self.save_state()
            count = len(rows) + priced
            ev = CatalogueVersionApplied(bundle.version, bundle.base, source, count, sha)
            took.append(time.perf_counter())
            ack = await self.journal(f"catalogue-v{bundle.version}-{sha[:16]}", ev)
            took.append(time.perf_counter())
        log.warning(
            "catalogue: HQ version %s applied from %s (%d products) in %.2f s: plan %.2f, "
            "compare and merge %.2f, catalogue %.2f, hq.sqlite %.2f, journal %.2f",
            bundle.version,
            source,
            count,
            took[-1] - took[0],
            *(b - a for a, b in itertools.pairwise(took)),
        )
        return {
            **self.status(),
            "applied": True,
            "count": count,
            "local": len(local),
            "overridden": len(overrides),
            "catalogue": res.get("version"),
            "seq": getattr(ack, "seq", None),
        }

    def _merge(
        self,
        plan: HqChange,
        current: list[dict[str, Any]],
        fields: list[str],
        only: bool,
        prices: bytes | None,
    ) -> tuple[Products, list[dict[str, Any]], list[dict[str, Any]], list[str], int]:
        """(the store's overrides, its own products, the rows the store's catalogue becomes, the
        SKUs it loses, how many products the catalogue reprices itself). ``only``: the rows and
        SKUs of the products the delta (or a price now due) touches, the rest of the catalogue
        staying as it is; else the whole catalogue. ``prices``: ``[sku, price]`` pairs of the
        products the catalogue changes itself (``Catalogue.price_split``; ``current`` is then
        the store's rows of the other products the delta touches)."""
        with paused_gc():
            if only:
                # a product whose row at the store is HQ's new one but for its price (HQ
                # repricing) becomes HQ's new row: nothing of the store's can differ from HQ's
                # (a store-owned price aside); only the others need HQ's rows until now
                same, rest = price_only(current, plan.upsert, fields)
                done = {str(p["sku"]) for p in same}
                priced = {str(r[0]) for r in orjson.loads(prices)} if prices else set()
                hq = {s: plan.upsert[s] for s in plan.touched if s not in done and s not in priced}
                before = self.store.get([*hq, *plan.removed])
                overrides, local = split(rest, before, fields)
                rows = same + effective(hq, overrides, local, fields)
                gone = [s for s in plan.removed if s in before]
                return overrides, local, rows, gone, len(priced)
            before = self.store.all()
            if plan.full:
                hq = plan.upsert
            else:
                hq = dict(before)
                for sku in plan.removed:
                    hq.pop(sku, None)
                hq.update(plan.upsert)
            overrides, local = split(current, before, fields)
            return overrides, local, effective(hq, overrides, local, fields), [], 0

    async def apply_due_prices(self) -> dict[str, Any] | None:
        """Scheduled prices that came due: the products they change, journaled through the
        catalogue's own update (``catalogue.updated``, source ``hq:price``)."""
        async with self.lock:
            due, later = due_prices(self.held.get("prices") or [], self.clock.now_us())
            if not due:
                return None
            before = await asyncio.to_thread(self.store.get, {r["sku"] for r in due})
            hq, changed = with_prices(before, due)
            res: dict[str, Any] = {}
            made = self.held.get("catalogue")  # the catalogue HQ's versions made, if still so
            if changed:
                fields = list(self.held.get("store_fields") or [])
                running, mine = await self.target.rows(changed)
                overrides, local = split(mine, before, fields)
                rows = effective({s: hq[s] for s in changed}, overrides, local, fields)
                res = await self.target.update(
                    str(uuid.uuid4()),
                    rows,
                    f"hq:price v{self.version}",
                    Who(staff="system", ip=""),
                    False,
                )
                self.changed()
                made = res.get("version") if made == running else None
            meta = {**self.held, "prices": later, "catalogue": made}
            await asyncio.to_thread(self.store.save, meta, {s: hq[s] for s in changed})
            self.held = meta
        log.warning("catalogue: %d scheduled price(s) applied", len(changed))
        return {"changed": changed, "catalogue": res.get("version")}

    def failed(self, exc: KassaError) -> None:
        self.state["failures"] = int(self.state["failures"]) + 1
        self.state["last_error"] = {"code": exc.code, "message": exc.message[:300]}
        self.save_state()

    def succeeded(self) -> None:
        self.state.update(failures=0, last_error=None, last_ok_us=self.clock.now_us())
        self.save_state()


def is_delta_base(exc: KassaError) -> bool:
    return exc.code == BundleCodes.DELTA_BASE
