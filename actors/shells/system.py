"""System shells: the uploader (the journal's tail to HQ), the licence keeper, and ``JournalFn``,
through which a system actor journals an event body."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from actors.client import LedgerClient, ledger_channel
from actors.ledger import Request, command_hash

__all__ = ["JournalFn", "UploaderActor", "LicenceActor"]


class JournalFn:
    """Journal an event body from a system actor (licence checks…) through the ledger."""

    def __init__(self, data_dir: str) -> None:
        self.ledger = LedgerClient.named("ledger")
        self.rpc = ledger_channel(data_dir, self.ledger)

    async def __call__(self, body: Any) -> Any:
        import uuid

        return await self.submit(str(uuid.uuid4()), body)

    async def submit(self, cid: str, body: Any) -> Any:
        """Journal ``body`` under command id ``cid`` (the same id later has no second effect)."""
        req = Request(
            id=cid, cmd=command_hash("system", cid), body=body, staff="system", till="", ip=""
        )
        return await self.rpc.call("submit", req)


def _secret(data: Path) -> bytes | None:
    """The store's upload secret, if it is linked to HQ."""
    try:
        return bytes.fromhex((data / "cloud_secret").read_text().strip()) or None
    except (OSError, ValueError):
        return None


class UploaderActor:
    def __init__(self, data_dir: str, store_id: str, cloud_url: str) -> None:
        from actors.uploader import FileState, HttpTransport, JournalFileSource, Uploader
        from domain.ports import SystemClock

        self.up = None
        self.task: asyncio.Task | None = None
        self.stop: asyncio.Event | None = None
        secret_path = Path(data_dir) / "cloud_secret"
        self.configured = bool(cloud_url) and secret_path.exists()
        if self.configured:
            from actors.line import Line

            self.up = Uploader(
                JournalFileSource(Path(data_dir) / "journal.sqlite"),
                HttpTransport(cloud_url, line=Line(Path(data_dir) / "line.lock")),
                FileState(Path(data_dir) / "uploader.json"),
                SystemClock(),
                store=store_id,
                secret=secret_path.read_text().strip(),
            )

    def _ensure(self) -> None:
        if self.up is not None and (self.task is None or self.task.done()):
            self.stop = stop = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self.up.run(stop))

    async def status(self) -> dict:
        self._ensure()
        if self.up is None:
            return {"configured": False}
        return {"configured": True, **(await self.up.status())}

    async def notify(self) -> None:
        self._ensure()
        if self.up is not None:
            self.up.notify()


class LicenceActor:
    def __init__(
        self, data_dir: str, store_id: str, cloud_url: str, activation_poll_s: float = 60.0
    ) -> None:
        from actors.licence import HttpTransport, LicenceKeeper
        from actors.store_file import load_public_key
        from domain.ports import SystemClock

        self.data_dir = data_dir
        self.activation_poll_s = activation_poll_s
        key = load_public_key(Path(data_dir))
        self.keeper = None
        self.task: asyncio.Task | None = None
        if key:
            from actors.line import Line

            self.keeper = LicenceKeeper(
                data_dir,
                store_id,
                key,
                HttpTransport(
                    cloud_url,
                    line=Line(Path(data_dir) / "line.lock"),
                    secret=_secret(Path(data_dir)),  # activation requests are signed with it
                )
                if cloud_url
                else None,
                SystemClock(),
                JournalFn(data_dir),
            )

    async def _ensure(self) -> None:
        if self.keeper is None:
            return
        if getattr(self, "_start_lock", None) is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:  # calls arriving together start the keeper once
            if self.task is None or self.task.done():
                st = await LedgerClient.named("ledger").status()
                self.keeper.observe(st["last_ts"])
                await self.keeper.flush()
                self.task = asyncio.get_running_loop().create_task(self.keeper.run(asyncio.Event()))
                self.act_task = asyncio.get_running_loop().create_task(
                    self.keeper.run_activation(asyncio.Event(), self.activation_poll_s)
                )

    def _missing(self) -> dict:
        return {
            "ok": False,
            "code": "licence.missing",
            "grace_days_left": 0,
            "warn": False,
            "message": "no licence is installed: kassa store licence install FILE",
        }

    async def status(self) -> dict:
        await self._ensure()
        return self.keeper.status() if self.keeper else self._missing()

    async def may_open_day(self) -> dict:
        await self._ensure()
        return await self.keeper.may_open_day() if self.keeper else self._missing()

    async def check_now(self) -> dict:
        await self._ensure()
        return await self.keeper.check_once() if self.keeper else self._missing()

    async def reload(self) -> dict:
        if self.keeper is None:
            return self._missing()
        self.keeper.reload()
        return self.keeper.status()
