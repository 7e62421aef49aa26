"""HQ's licence authority and the cloud's licence check route.

Files, all in ``<data>/licence/`` (the HQ data folder, shared by ``kassa admin`` and the cloud):

    hq_ed25519.key     HQ's Ed25519 private key (hex, mode 0600; the folder is 0700): signs licences
                       and check results
    hq_ed25519.pub     its public key (hex): give it to every store (``kassa store licence install
                       --key``)
    revoked.json       the revocation list: {licence_id: {"at": us, "reason": text}}
    issued/<id>.json   every licence file HQ has issued (for ``kassa admin licence list``)

``setup(app, data_dir)`` mounts ``POST /v1/licence/check``: the store sends
``{"store_id", "licence": <licence file>, "nonce", "store_time"}`` and gets back a check result
signed with HQ's key, echoing the nonce: status ``ok``, ``revoked`` (on the revocation list) or
``unknown`` (not signed by HQ, or not that store's licence). Malformed requests get a 400 with an
error code; a cloud without HQ's key answers 503 ``licence.no_key``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud.hqauth import PRIVATE_FILE, private_dir
from domain.errors import InvalidInput, KassaError, NotFound, Unavailable
from domain.licence import (
    CheckResult,
    Licence,
    key_id,
    new_private_key,
    private_key_from,
    private_key_text,
    public_key_text,
    read_licence,
    sign_licence,
    sign_result,
)
from domain.ports import Clock, SystemClock

__all__ = ["LicenceAuthority", "setup", "CHECK_PATH", "AUTHORITY_KEY"]

log = logging.getLogger(__name__)

CHECK_PATH = "/v1/licence/check"
AUTHORITY_KEY: web.AppKey[LicenceAuthority] = web.AppKey("kassa_licence_authority")


def _atomic_write(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class LicenceAuthority:
    """HQ's licence office: key, issued licences, revocation list, and check answers."""

    def __init__(self, data_dir: Path | str, clock: Clock | None = None) -> None:
        self.dir = Path(data_dir) / "licence"
        self.clock = clock or SystemClock()
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()
        self._revoked_cache: tuple[int, dict[str, Any]] | None = None

    # ------------------------------------------------------------ key
    @property
    def key_path(self) -> Path:
        return self.dir / "hq_ed25519.key"

    @property
    def public_path(self) -> Path:
        return self.dir / "hq_ed25519.pub"

    def has_key(self) -> bool:
        return self.key_path.exists()

    def ensure_key(self) -> bool:
        """Create HQ's key pair on first use. Returns True if it was created now."""
        with self._lock:
            if self.key_path.exists():
                return False
            key = new_private_key()
            _atomic_write(self.key_path, (private_key_text(key) + "\n").encode())
            _atomic_write(self.public_path, (public_key_text(key) + "\n").encode(), 0o644)
            self._key = key
            log.warning("created HQ licence key %s in %s", key_id(key), self.dir)
            return True

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            if not self.key_path.exists():
                raise Unavailable("licence.no_key", f"HQ's licence key is not in {self.dir}")
            self._key = private_key_from(self.key_path.read_text())
        return self._key

    def public_key_text(self) -> str:
        return public_key_text(self.key)

    # ------------------------------------------------------------ licences
    def issue(
        self,
        store_id: str,
        valid_from: int,
        valid_until: int,
        grace_days: int,
        tills: int,
        features: tuple[str, ...] | list[str] = (),
        licence_id: str | None = None,
        activation: bool = True,
    ) -> dict[str, Any]:
        """Create, sign and record a licence; returns the licence file (a JSON object). With
        ``activation`` (the default) the store must have HQ approve it on its install
        (``cloud.activation``) before a day opens."""
        if not store_id or not store_id.replace("-", "").replace("_", "").isalnum():
            raise InvalidInput("licence.bad_store", "a store id is letters, digits, - and _")
        lid = licence_id or f"LIC-{store_id}-{secrets.token_hex(4).upper()}"
        lic = Licence(
            lid,
            store_id,
            valid_from,
            valid_until,
            grace_days,
            tills,
            tuple(sorted(set(features))),
            self.clock.now_us(),
            activation,
        )
        doc = sign_licence(lic, self.key)
        _atomic_write(
            self.dir / "issued" / f"{_safe(lid)}.json", json.dumps(doc, indent=1).encode()
        )
        return doc

    def issued(self) -> list[dict[str, Any]]:
        out = []
        folder = self.dir / "issued"
        if folder.is_dir():
            for p in sorted(folder.glob("*.json")):
                try:
                    out.append(json.loads(p.read_bytes()))
                except ValueError:
                    log.error("unreadable issued licence %s", p)
        return out

    # ------------------------------------------------------------ revocation
    @property
    def revoked_path(self) -> Path:
        return self.dir / "revoked.json"

    def revoked(self) -> dict[str, Any]:
        try:
            st = self.revoked_path.stat()
        except FileNotFoundError:
            return {}
        cache = self._revoked_cache
        if cache and cache[0] == st.st_mtime_ns:
            return cache[1]
        data = json.loads(self.revoked_path.read_bytes())
        self._revoked_cache = (st.st_mtime_ns, data)
        return data

    def revoke(self, licence_id: str, reason: str = "", must_exist: bool = True) -> dict[str, Any]:
        if must_exist and not (self.dir / "issued" / f"{_safe(licence_id)}.json").exists():
            raise NotFound("licence.not_found", f"HQ never issued licence {licence_id}")
        with self._lock:
            data = dict(self.revoked())
            entry = data.get(licence_id) or {"at": self.clock.now_us(), "reason": reason}
            data[licence_id] = entry
            _atomic_write(self.revoked_path, json.dumps(data, indent=1, sort_keys=True).encode())
            self._revoked_cache = None
        return entry

    # ------------------------------------------------------------ checks
    def answer(self, request: Any) -> dict[str, Any]:
        """Answer a store's check request with a signed result (raises on malformed requests)."""
        if not isinstance(request, dict):
            raise InvalidInput("licence.bad_request", "a check request is a JSON object")
        store_id, nonce = request.get("store_id"), request.get("nonce")
        file = request.get("licence")
        if not isinstance(store_id, str) or not store_id:
            raise InvalidInput("licence.bad_request", "store_id missing")
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 128:
            raise InvalidInput("licence.bad_request", "nonce: 8 to 128 characters")
        if not isinstance(file, dict) or not isinstance(file.get("licence"), dict):
            raise InvalidInput("licence.bad_request", "licence file missing")
        claimed = file["licence"].get("licence_id")
        claimed = claimed if isinstance(claimed, str) else ""
        key = self.key
        status, reason = "ok", ""
        try:
            lic = read_licence(file, key.public_key())
        except KassaError as exc:
            status, reason = "unknown", exc.code
        else:
            if lic.store_id != store_id:
                status, reason = "unknown", "licence.wrong_store"
            elif lic.licence_id in self.revoked():
                status = "revoked"
                reason = str(self.revoked()[lic.licence_id].get("reason") or "licence.revoked")
        res = CheckResult(store_id, claimed, status, self.clock.now_us(), nonce, reason)
        if status != "ok":
            log.warning("licence check %s for store %s: %s %s", claimed, store_id, status, reason)
        return sign_result(res, key)


def _safe(licence_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in licence_id)


def _error(exc: KassaError) -> web.Response:
    return web.json_response(exc.to_dict(), status=exc.http_status)


async def _check(request: web.Request) -> web.Response:
    auth = request.app[AUTHORITY_KEY]
    try:
        body = await request.json()
    except ValueError:
        return _error(InvalidInput("input.bad_json", "the request body is not JSON"))
    try:
        return web.json_response(auth.answer(body))
    except KassaError as exc:
        return _error(exc)


def setup(
    app: web.Application, data_dir: Path | str, clock: Clock | None = None
) -> LicenceAuthority:
    """Mount the licence routes on the cloud app. HQ's key must be in ``<data_dir>/licence/``."""
    auth = LicenceAuthority(data_dir, clock)
    if not auth.has_key():
        log.warning(
            "no HQ licence key in %s: licence checks will answer 503 until one exists "
            "(kassa admin licence create --hq %s)",
            auth.dir,
            data_dir,
        )
    app[AUTHORITY_KEY] = auth
    app.router.add_post(CHECK_PATH, _check)
    return auth
