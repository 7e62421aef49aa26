"""When the store takes HQ's catalogue: at start, every ``catalogue_pull_s`` seconds while it
reaches HQ (store.json, default 60: a published change runs within a minute), on demand
(``POST /v1/catalogue/pull``, ``kassa store catalogue pull``), from a USB bundle, and when a
scheduled price comes due.

``Puller`` runs in the store server's gateway process (``start_for``, called by ``actors.
bootstrap``). A failed pull is retried with jittered exponential backoff (``backoff_base_s``
doubling up to ``backoff_max_s``) and shown in the status; selling never waits for it.

USB bundles reach a running server through ``<data>/hq_catalogue/inbox/``: ``kassa store catalogue
import`` verifies the file, drops it there (the data folder is the store account's own) and waits
for ``<name>.result``; the server takes it within a tenth of a second (``INBOX_S``) with the same
checks as a pull.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from actors.catalogue_pull import PullTransport
from actors.catalogue_sync import CatalogueSync, is_delta_base
from actors.files import atomic_write
from domain.error_codes.storepull import CatalogueSync as Codes
from domain.errors import Conflict, KassaError, Unavailable

__all__ = ["Puller", "start_for", "INBOX", "pull_interval"]

log = logging.getLogger(__name__)
INBOX = "inbox"
INBOX_S = 0.1  # how often the inbox (USB bundles, pull requests) and due prices are looked at


def pull_interval(data_dir: Path) -> float:
    """``catalogue_pull_s`` of store.json (10 s at least), 60 by default."""
    try:
        doc = orjson.loads((Path(data_dir) / "store.json").read_bytes())
        return max(1.0, float(doc.get("catalogue_pull_s", 60)))
    except (OSError, ValueError, TypeError, orjson.JSONDecodeError):
        return 60.0


class Puller:
    def __init__(
        self,
        sync: CatalogueSync,
        transport: PullTransport | None,
        interval_s: float = 60.0,
        backoff_base_s: float = 5.0,
        backoff_max_s: float = 300.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.sync = sync
        self.transport = transport
        self.interval_s = interval_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.rng = rng
        self.inbox = sync.dir / INBOX
        self._pulling = asyncio.Lock()
        self.task: asyncio.Task | None = None
        self.stop = asyncio.Event()

    def status(self) -> dict[str, Any]:
        return {
            **self.sync.status(),
            "linked": self.transport is not None,
            "interval_s": self.interval_s,
        }

    async def pull_once(self) -> dict[str, Any]:
        """Ask HQ now; apply what it sends. Raises the failure (also kept in the status)."""
        if self.transport is None:
            raise Conflict(Codes.NOT_LINKED, "no cloud: kassa store link, or load a USB bundle")
        async with self._pulling:
            self.sync.state["last_pull_us"] = self.sync.clock.now_us()
            try:
                out = await self._pull(self.sync.version)
            except KassaError as exc:
                self.sync.failed(exc)
                raise
            except Exception as exc:  # a bug must not stop the loop; kept as the error
                log.exception("catalogue pull")
                err = Unavailable(Codes.PULL_FAILED, f"{type(exc).__name__}: {exc}")
                self.sync.failed(err)
                raise err from None
            self.sync.succeeded()
            return out

    async def _pull(self, have: int | None) -> dict[str, Any]:
        assert self.transport is not None
        ans = await self.transport.pull(have)
        if ans.status != 200:  # 204: the newest already; 404: nothing published yet
            return {**self.status(), "applied": False, "newest": ans.status == 204}
        try:
            return await self.sync.apply_bytes(ans.body, "hq")
        except KassaError as exc:
            if not is_delta_base(exc) or have is None:
                raise
            log.warning("catalogue: a delta from another version; asking for a full one")
            return await self._pull(None)

    # ------------------------------------------------------------ USB bundles, running server
    async def take_inbox(self) -> int:
        try:
            names = sorted(
                e.name for e in os.scandir(self.inbox) if e.name.endswith((".bundle", ".pull"))
            )
        except FileNotFoundError:
            return 0
        for name in names:
            path = self.inbox / name
            try:
                if name.endswith(".pull"):
                    done = await self.pull_once()
                else:
                    done = await self.sync.apply_bytes(path.read_bytes(), "usb")
                out: dict[str, Any] = {"ok": True, **done}
            except KassaError as exc:
                out = {"ok": False, "error": exc.to_dict()}
            except Exception as exc:
                log.exception("catalogue import %s", name)
                out = {"ok": False, "error": {"code": "store.internal", "message": str(exc)}}
            atomic_write(path.with_suffix(".result"), orjson.dumps(out))
            path.unlink(missing_ok=True)
        return len(names)

    # ------------------------------------------------------------ the loop
    async def run(self) -> None:
        next_pull = 0.0  # at start
        while not self.stop.is_set():
            try:
                await self.take_inbox()
                due = self.sync.next_price_us()
                if due is not None and due <= self.sync.clock.now_us():
                    await self.sync.apply_due_prices()
            except Exception:
                log.exception("catalogue: inbox or scheduled prices")
            now = time.monotonic()
            if self.transport is not None and now >= next_pull:
                try:
                    await self.pull_once()
                    delay = self.interval_s
                except Exception as exc:
                    n = int(self.sync.state["failures"])
                    delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, n - 1))
                    delay *= 0.5 + self.rng()
                    log.warning("catalogue pull failed (%s); again in %.0f s", exc, delay)
                next_pull = time.monotonic() + delay
            try:
                await asyncio.wait_for(self.stop.wait(), INBOX_S)
            except TimeoutError:
                pass

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())


def start_for(handles: Any) -> Puller:
    """The running store's puller over its catalogue actor and ledger (``actors.bootstrap``)."""
    from actors.ledger import Request, command_hash
    from actors.store_file import load_public_key
    from domain.ports import SystemClock

    data = Path(handles.data_dir)
    cfg = handles.config

    async def journal(cid: str, body: Any) -> Any:
        req = Request(
            id=cid, cmd=command_hash("system", cid), body=body, staff="system", till="", ip=""
        )
        return await handles.ledger_rpc.call("submit", req)

    sync = CatalogueSync(
        data,
        cfg.store_id,
        load_public_key(data),
        handles.catalogue,
        journal,
        SystemClock(),
        handles.catalogue_changed,
    )
    transport = transport_for(data, cfg.store_id, cfg.cloud_url)
    puller = Puller(sync, transport, pull_interval(data))
    puller.start()
    return puller


def transport_for(
    data_dir: Path, store_id: str | None = None, cloud_url: str | None = None
) -> PullTransport | None:
    """The pull over the store's shared line to HQ, or None if the store is not linked."""
    from actors.line import Line

    if store_id is None or cloud_url is None:
        from actors.store_file import load_config

        cfg = load_config(Path(data_dir))
        store_id, cloud_url = cfg.store_id, cfg.cloud_url
    secret = Path(data_dir) / "cloud_secret"
    if not cloud_url or not secret.exists():
        return None
    return PullTransport(
        cloud_url,
        store_id,
        bytes.fromhex(secret.read_text().strip()),
        Line(Path(data_dir) / "line.lock"),
    )
