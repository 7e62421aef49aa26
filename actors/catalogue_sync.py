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
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import orjson

from actors.files import atomic_write
from actors.till import Who
from domain.catalogue import product_from_dict
from domain.catalogue_bundle import Bundle, apply_delta, read_header, unpack
from domain.catalogue_merge import due_prices, effective, split, with_prices
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
    async def snapshot(self) -> tuple: ...

    async def update(
        self, cid: str, products: list[dict], source: str, who: Who, replace_all: bool = False
    ) -> dict: ...


Journal = Callable[[str, Any], Awaitable[Any]]


def _norm(p: dict[str, Any]) -> dict[str, Any]:
    """HQ's product as the store keeps it (``Product.to_dict``), so comparisons see equal
    defaults as equal. A row the store cannot read is kept as it came: the catalogue's update
    refuses it, naming the row."""
    try:
        return product_from_dict(p).to_dict()
    except (KassaError, KeyError, TypeError, ValueError, OverflowError):
        return dict(p)


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
        self.held = self._read("hq.json") or {
            "version": None,
            "products": {},
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
        bundle = unpack(data, self.public_key, store=self.store_id)
        return bundle, str(read_header(data)[0].get("payload_sha256", ""))

    async def apply_bytes(self, data: bytes, source: str) -> dict[str, Any]:
        bundle, sha = self.open(data)
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
            before: dict[str, dict[str, Any]] = self.held["products"]
            hq = {sku: _norm(p) for sku, p in apply_delta(before, held, bundle).items()}
            pending = self._pending(bundle, set(hq))
            due, later = due_prices(pending, self.clock.now_us())
            hq, _ = with_prices(hq, due)
            fields = bundle.store_fields or list(self.held.get("store_fields") or [])
            _, current = await self.target.snapshot()
            overrides, local = split((p.to_dict() for p in current), before, fields)
            rows = effective(hq, overrides, local, fields)
            res = await self.target.update(
                str(uuid.uuid4()),
                rows,
                f"{source}:v{bundle.version}",
                Who(staff="system", ip=""),
                True,
            )
            self.changed()
            self.held = {
                "version": bundle.version,
                "base": bundle.base,
                "sha256": sha,
                "products": hq,
                "prices": later,
                "store_fields": fields,
            }
            self._write("hq.json", self.held)
            now = self.clock.now_us()
            self.state.update(source=source, applied_us=now)
            self.save_state()
            ev = CatalogueVersionApplied(bundle.version, bundle.base, source, len(rows), sha)
            ack = await self.journal(f"catalogue-v{bundle.version}-{sha[:16]}", ev)
        log.warning(
            "catalogue: HQ version %s applied from %s (%d products)",
            bundle.version,
            source,
            len(rows),
        )
        return {
            **self.status(),
            "applied": True,
            "count": len(rows),
            "local": len(local),
            "overridden": len(overrides),
            "catalogue": res.get("version"),
            "seq": getattr(ack, "seq", None),
        }

    @staticmethod
    def _pending(bundle: Bundle, skus: set[str]) -> list[dict[str, Any]]:
        """Scheduled prices after ``bundle``: HQ sends every change still to come with each
        version, full or delta (one HQ has withdrawn is no longer in the list)."""
        return [r for r in bundle.prices if str(r["sku"]) in skus]

    async def apply_due_prices(self) -> dict[str, Any] | None:
        """Scheduled prices that came due: the products they change, journaled through the
        catalogue's own update (``catalogue.updated``, source ``hq:price``)."""
        async with self.lock:
            due, later = due_prices(self.held.get("prices") or [], self.clock.now_us())
            if not due:
                return None
            before: dict[str, dict[str, Any]] = self.held["products"]
            hq, changed = with_prices(before, due)
            res: dict[str, Any] = {}
            if changed:
                fields = list(self.held.get("store_fields") or [])
                _, current = await self.target.snapshot()
                mine = [p.to_dict() for p in current if p.sku in set(changed)]
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
            self.held = {**self.held, "products": hq, "prices": later}
            self._write("hq.json", self.held)
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
