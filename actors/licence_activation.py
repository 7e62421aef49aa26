"""The licence keeper's activation ("second authentication"): this install's id, the request to
HQ, and HQ's signed activation. A mixin of ``actors.licence.LicenceKeeper``.

Files:

    <data>/install_id                  a random seed, created once (0600); the install id is the
                                       seed hashed with the PC's machine id (``/etc/machine-id``)
                                       by ``domain.licence_activation.install_id``
    <data>/licence/activation.json     HQ's signed activation for the installed licence
    <data>/licence/activation_request.json  the last request: status, HQ's request id, errors

The activation is verified (HQ's key, this licence, this store, this install) when it arrives, at
every start and whenever the file changes (the offline CLI may write it while the server runs);
``may_open_day`` refuses ``licence.not_activated`` while a licence that needs activation has none.
``run_activation`` asks HQ every ``poll_s`` while it is needed (never raises); only a change of
HQ's answer is journaled (``licence.activation_requested``, ``licence.activated``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from actors.files import atomic_write
from actors.licence_transport import CheckTransport
from domain.errors import InvalidInput, KassaError
from domain.licence import Licence, canonical
from domain.licence_activation import Activation, install_id, read_activation
from domain.licence_events import LicenceActivated, LicenceActivationRequested
from domain.ports import Clock

__all__ = ["KeeperActivation", "machine_id", "install_seed"]

log = logging.getLogger("actors.licence")

MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


def machine_id(paths: tuple[str, ...] = MACHINE_ID_FILES) -> str:
    """A hash of the PC's machine id ("" where there is none: then the seed alone counts)."""
    for p in paths:
        try:
            text = Path(p).read_text().strip()
        except OSError:
            continue
        if text:
            return hashlib.sha256(b"kassa-machine\n" + text.encode()).hexdigest()
    return ""


def install_seed(data_dir: Path) -> str:
    """``<data>/install_id``: created once (0600, never overwritten), read after."""
    path = Path(data_dir) / "install_id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = secrets.token_hex(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(seed + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return seed


class KeeperActivation:
    dir: Path
    store_id: str
    public_key: Any
    transport: CheckTransport | None
    clock: Clock
    licence: Licence | None
    licence_file: dict[str, Any] | None
    install_id: str
    activation: Activation | None
    act_local: dict[str, Any]
    _act_key: tuple[int, str]
    _act_wake: asyncio.Event | None
    _act_lock: asyncio.Lock

    async def _journal(self, events: list[Any]) -> None: ...

    def _init_activation(self, data_dir: Path, machine: str | None) -> None:
        self.install_id = install_id(
            install_seed(data_dir), machine_id() if machine is None else machine
        )
        self.activation = None
        self._act_key = (-1, "")
        self._act_wake = None
        self.act_local = {"status": "", "id": "", "last_error": None, "asked_at": None}
        try:
            self.act_local.update(json.loads(self.act_request_path.read_bytes()))
        except (OSError, ValueError, TypeError):
            pass
        self._refresh_activation()

    @property
    def activation_path(self) -> Path:
        return self.dir / "activation.json"

    @property
    def act_request_path(self) -> Path:
        return self.dir / "activation_request.json"

    def _save_act(self) -> None:
        atomic_write(self.act_request_path, json.dumps(self.act_local, indent=1).encode())

    def _read_activation(self, doc: Any) -> Activation:
        assert self.licence is not None
        return read_activation(
            doc,
            self.public_key,
            licence_id=self.licence.licence_id,
            store=self.store_id,
            install=self.install_id,
        )

    def _refresh_activation(self) -> None:
        """(Re)read ``activation.json`` when it changed; keep it only if it is HQ's, for this
        licence and install."""
        try:
            mtime = self.activation_path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        key = (mtime, self.licence.licence_id if self.licence else "")
        if key == self._act_key:
            return
        self._act_key, self.activation = key, None
        if not mtime or self.licence is None:
            return
        try:
            self.activation = self._read_activation(json.loads(self.activation_path.read_bytes()))
        except (KassaError, ValueError) as exc:
            log.warning("the kept activation does not count here: %s", exc)

    def needs_activation(self) -> bool:
        self._refresh_activation()
        return bool(self.licence and self.licence.activation and self.activation is None)

    def activation_view(self) -> dict[str, Any]:
        needed = bool(self.licence and self.licence.activation)
        if not needed:
            state = "not_needed" if self.licence else ""
        elif self.activation is not None:
            state = "approved"
        else:
            state = self.act_local.get("status") or "not_requested"
        return {
            "install_id": self.install_id,
            "activation": state,
            "activated_at": self.activation.at if self.activation else 0,
            "activation_request": self.act_local.get("id") or "",
        }

    def activation_request(self) -> dict[str, Any]:
        """The request HQ approves (sent to the cloud, or written for the USB route)."""
        return {
            "format": "kassa-activation-request",
            "store_id": self.store_id,
            "install_id": self.install_id,
            "licence": self.licence_file,
            "nonce": secrets.token_hex(16),
        }

    async def accept_activation(self, doc: Any) -> dict[str, Any]:
        """Keep HQ's signed activation (raises ``activation.*`` if it is not for us)."""
        if self.licence is None:
            raise InvalidInput("activation.bad_request", "install the licence first")
        act = self._read_activation(doc)
        atomic_write(self.activation_path, json.dumps(doc, indent=1).encode())
        self._act_key, self.activation = (-1, ""), None
        self._refresh_activation()
        self.act_local.update(status="approved", last_error=None)
        self._save_act()
        await self._journal(
            [LicenceActivated(act.licence_id, act.install_id, act.at, canonical(doc).decode())]
        )
        return self.activation_view()

    def _drop_activation(self, status: str) -> None:
        """HQ released (or denied) this install: the kept activation no longer counts."""
        self.activation_path.replace(self.activation_path.with_name(f"activation.{status}.json"))
        self._act_key, self.activation = (-1, ""), None
        log.warning("HQ %s this install's activation: no day opens until HQ approves it", status)

    async def activate_once(self, confirm: bool = False) -> dict[str, Any]:
        """Ask HQ once if this licence needs activation (``confirm``: also when it holds one, to
        learn whether HQ released this install). Returns {ok, code, ...}; never raises. One
        question at a time (the poll and a day open may ask together)."""
        if getattr(self, "_act_lock", None) is None:
            self._act_lock = asyncio.Lock()
        async with self._act_lock:
            return await self._activate_once(confirm)

    async def _activate_once(self, confirm: bool) -> dict[str, Any]:
        held = bool(confirm and self.licence and self.licence.activation and self.activation)
        if not held and not self.needs_activation():
            view = self.activation_view()
            ok = view["activation"] in ("approved", "not_needed")
            return {"ok": ok, "code": "activation.not_needed" if ok else "licence.missing", **view}
        if self.transport is None:
            return {"ok": False, "code": "licence.no_transport", **self.activation_view()}
        before = self.act_local.get("status")
        try:
            ans = await self.transport.activate(self.activation_request())
            status = str(ans.get("status") or "")
            self.act_local.update(id=str(ans.get("id") or ""), asked_at=self.clock.now_us())
            if status == "approved" and held:
                self.act_local.update(status=status, last_error=None)
                self._save_act()
            elif status == "approved" and ans.get("activation"):
                await self.accept_activation(ans["activation"])
            else:
                if held and status in ("released", "denied"):
                    self._drop_activation(status)
                self.act_local.update(status=status, last_error=None)
                self._save_act()
        except Exception as exc:
            code = exc.code if isinstance(exc, KassaError) else "licence.cloud_unreachable"
            self.act_local["last_error"] = {"code": code, "message": str(exc)}
            self._save_act()
            log.warning("activation request failed (%s): %s", code, exc)
            return {"ok": False, "code": code, "message": str(exc), **self.activation_view()}
        status = str(self.act_local.get("status") or "")
        if status != before and status in ("pending", "denied", "released"):
            assert self.licence is not None
            await self._journal(
                [LicenceActivationRequested(self.licence.licence_id, self.install_id, status)]
            )
        codes = {
            "approved": "activation.not_needed",
            "denied": "activation.denied",
            "released": "activation.released",
        }
        return {
            "ok": status == "approved",
            "code": codes.get(status, "activation.pending"),
            **self.activation_view(),
        }

    def wake_activation(self) -> None:
        if self._act_wake is not None:
            self._act_wake.set()

    async def run_activation(
        self, stop: asyncio.Event, poll_s: float = 60.0, confirm_s: float = 6 * 3600.0
    ) -> None:
        """Ask HQ every ``poll_s`` while the licence needs activation (woken early by a day that
        could not open), and confirm a held activation every ``confirm_s``. Returns when
        ``stop`` is set."""
        self._act_wake = asyncio.Event()
        confirmed = time.monotonic()
        while not stop.is_set():
            try:
                if self.needs_activation():
                    await self.activate_once()
                elif time.monotonic() - confirmed >= confirm_s:
                    await self.activate_once(confirm=True)
                    confirmed = time.monotonic()
            except Exception:
                log.exception("activation")
            self._act_wake.clear()
            waits = [asyncio.ensure_future(e.wait()) for e in (stop, self._act_wake)]
            await asyncio.wait(waits, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
