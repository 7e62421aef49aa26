"""HQ's catalogue from the store PC's command line, whether the store server runs or not.

* The server runs (it holds ``<data>/admin.lock``, ``actors.recovery``): the request is dropped in
  ``<data>/hq_catalogue/inbox/`` — a bundle file to load, or a pull request — and the answer is
  ``<name>.result`` once the server has done it with its own checks
  (``actors.catalogue_sync_loop``).
* The server is stopped: the command takes the lock and does it itself, through the same
  ``CatalogueSync`` over the catalogue file and the journal (``LocalTarget``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from actors.catalogue import Catalogue, paused_gc
from actors.catalogue_sync import SYNC_DIR, CatalogueSync
from actors.files import atomic_write
from actors.ledger import Ledger, Request, command_hash
from actors.recovery import LOCK_NAME, _take_lock
from actors.till import Who
from domain.catalogue_reprice import BAD_PRICE
from domain.error_codes.storepull import CatalogueSync as Codes
from domain.errors import InvalidInput, KassaError, error_from_dict
from domain.ports import SystemClock
from domain.store import StoreConfig

__all__ = ["LocalTarget", "local_sync", "run_on_store", "read_status"]


class LocalTarget:
    """The catalogue file and the journal of a stopped store, with the catalogue actor's calls."""

    def __init__(self, data_dir: Path, config: StoreConfig) -> None:
        self.cat = Catalogue(data_dir, config)
        self.ledger = Ledger(Path(data_dir) / "journal.sqlite")

    async def version(self) -> str:
        return self.cat.version

    async def rows(self, skus: list[str] | None = None) -> tuple[str, list[dict]]:
        version, blob = self.cat.rows(skus)
        with paused_gc():
            return version, orjson.loads(blob)

    async def price_split(
        self, hq: dict[str, dict], pairs: list[list] | None = None
    ) -> tuple[str, bytes | None, list[dict]]:
        version, prices, rest = self.cat.price_split(hq, pairs or ())
        return version, prices, orjson.loads(rest)

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
    ) -> dict:
        if base is not None and base != self.cat.version:
            return {"moved": True, "version": self.cat.version}
        pairs = orjson.loads(prices) if prices else []
        try:
            merged, ev = self.cat.prepare_update(products, source, replace_all, remove or (), pairs)
        except InvalidInput as exc:
            if exc.code == BAD_PRICE:  # the sync sends them the long way
                return {"moved": True, "version": self.cat.version}
            raise
        cmd = command_hash("catalogue.update", {"v": ev.version})
        ack = self.ledger.submit(Request(cid, cmd, ev, who.staff, "", who.ip))
        if not ack.duplicate:
            self.cat.commit(merged, ev.version)
        return {"version": self.cat.version, "count": len(self.cat.index), "seq": ack.seq}

    async def journal(self, cid: str, body: Any) -> Any:
        return self.ledger.submit(Request(cid, command_hash("system", cid), body, "system"))

    def close(self) -> None:
        self.ledger.journal.close()


def local_sync(data_dir: Path, target: LocalTarget) -> CatalogueSync:
    from actors.store_file import load_config, load_public_key

    cfg = load_config(Path(data_dir))
    return CatalogueSync(
        data_dir, cfg.store_id, load_public_key(data_dir), target, target.journal, SystemClock()
    )


def _stopped(data_dir: Path, op: str, data: bytes) -> dict[str, Any]:
    from actors.catalogue_sync_loop import Puller, transport_for
    from actors.store_file import load_config

    target = LocalTarget(data_dir, load_config(data_dir))
    try:
        sync = local_sync(data_dir, target)
        if op == "import":
            return asyncio.run(sync.apply_bytes(data, "usb"))
        return asyncio.run(Puller(sync, transport_for(data_dir)).pull_once())
    finally:
        target.close()


def _through_server(data_dir: Path, op: str, data: bytes, timeout_s: float) -> dict[str, Any]:
    inbox = Path(data_dir) / SYNC_DIR / "inbox"
    name = uuid.uuid4().hex
    ask = inbox / f"{name}.{'bundle' if op == 'import' else 'pull'}"
    answer = inbox / f"{name}.result"
    atomic_write(ask, data)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if answer.exists():
            out = orjson.loads(answer.read_bytes())
            answer.unlink(missing_ok=True)
            if not out.get("ok"):
                raise error_from_dict(out["error"])
            out.pop("ok", None)
            return {**out, "server": "running"}
        time.sleep(0.05)  # a file's presence: the answer is seen within 50 ms
    ask.unlink(missing_ok=True)
    raise KassaError(Codes.NO_ANSWER, f"no answer from the running store in {timeout_s:.0f} s")


def run_on_store(data_dir: Path, op: str, data: bytes = b"", timeout_s: float = 300.0) -> dict:
    """``op`` "import" (``data``: a bundle) or "pull", through the running server or, when it is
    stopped, here. Raises ``KassaError`` with the refusal; nothing changes then."""
    data_dir = Path(data_dir)
    fd = _take_lock(data_dir / LOCK_NAME)
    if fd is None:
        return _through_server(data_dir, op, data, timeout_s)
    try:
        return {**_stopped(data_dir, op, data), "server": "stopped"}
    finally:
        os.close(fd)


def read_status(data_dir: Path) -> dict[str, Any]:
    """HQ's catalogue version at this store and the last pull, from its files."""
    from actors.store_file import load_config

    cfg = load_config(Path(data_dir))
    sync = CatalogueSync(data_dir, cfg.store_id, None, None, _nothing, SystemClock())  # type: ignore[arg-type]
    return sync.status()


async def _nothing(cid: str, body: Any) -> None:
    raise RuntimeError("read only")
