"""A new store from HQ's setup bundle: ``kassa store setup --bundle FILE --data DIR``.

The setup bundle (``domain.catalogue_bundle``, kind ``setup``) carries the store's profile, HQ's
public key, the cloud's URL, the catalogue, and — sealed with the setup code HQ gives apart from
the file (``domain.setup_secrets``) — the upload secret, the licence and the first manager with
their PIN. The bundle is verified with the HQ key it carries, and that key is bound to the sealed
part: the licence inside must be signed by it, so a file re-signed by anyone else is refused.

Everything is built in a hidden folder beside ``DIR`` and renamed to ``DIR`` at the end: a refused
or failed setup leaves nothing behind. ``DIR`` must not exist or be empty.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import orjson

from actors.catalogue_sync import CatalogueSync
from actors.catalogue_sync_local import LocalTarget
from actors.files import atomic_write, make_private, private_umask
from domain.catalogue_bundle import read_header, unpack
from domain.error_codes.hq import Catalogue as BundleCodes
from domain.error_codes.storepull import StoreSetup
from domain.errors import InvalidInput, KassaError
from domain.ports import SystemClock
from domain.setup_secrets import open_sealed

__all__ = ["setup_store", "config_of_profile"]

_PROFILE_KEYS = ("name", "zone", "currency", "locale", "tax_classes")


def _minute(hhmm: Any) -> int | None:
    if isinstance(hhmm, int):
        return hhmm
    if isinstance(hhmm, str) and ":" in hhmm:
        h, _, m = hhmm.partition(":")
        if h.isdigit() and m.isdigit():
            return int(h) * 60 + int(m)
    return None


def config_of_profile(profile: dict[str, Any], cloud_url: str) -> dict[str, Any]:
    """store.json's settings from HQ's store profile (``{id, name, zone, currency, locale,
    tax_classes, tills, opening_hours, group}``)."""
    out: dict[str, Any] = {"store_id": str(profile["id"]), "cloud_url": cloud_url.rstrip("/")}
    out.update({k: profile[k] for k in _PROFILE_KEYS if profile.get(k) not in (None, "")})
    hours = profile.get("opening_hours")
    if isinstance(hours, dict):
        lo, hi = _minute(hours.get("open")), _minute(hours.get("close"))
        if lo is not None and hi is not None:
            out["open_minute"], out["close_minute"] = lo, 1440 if hi == 0 else hi
    return out


def _peek_key(data: bytes) -> str:
    """HQ's public key the bundle carries (checked later: the bundle's signature and the
    sealed licence must both verify with it)."""
    header, body = read_header(data)
    if header.get("kind") != "setup":
        raise KassaError(StoreSetup.NOT_SETUP, "this bundle is not a setup bundle")
    try:
        key = orjson.loads(gzip.decompress(body)).get("hq_public_key")
    except (OSError, EOFError, ValueError, AttributeError):
        key = None
    if not isinstance(key, str) or not key:
        raise InvalidInput(BundleCodes.BAD_BUNDLE, "the setup bundle holds no HQ key")
    return key


def _empty(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise KassaError(StoreSetup.NOT_EMPTY, f"{data_dir} is not empty")


def setup_store(data: bytes, data_dir: Path, code: str) -> dict[str, Any]:
    """Make a ready store in ``data_dir`` from a setup bundle; raise ``KassaError`` (nothing is
    left behind) on a refusal."""
    data_dir = Path(data_dir).absolute()
    _empty(data_dir)
    key = _peek_key(data)
    header, _ = read_header(data)
    bundle = unpack(data, key, store=str(header.get("store")))
    secrets = open_sealed(bundle.payload.get("sealed") or {}, code)
    profile = bundle.payload.get("profile") or {"id": bundle.store}
    if str(profile.get("id", bundle.store)) != bundle.store:
        raise InvalidInput(BundleCodes.FOREIGN_STORE, "the profile is for another store")
    private_umask()
    tmp = data_dir.parent / f".{data_dir.name}.setup-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(mode=0o700, parents=True)
    try:
        out = _build(tmp, bundle, key, secrets, profile, str(header.get("payload_sha256", "")))
        make_private(tmp)
        if data_dir.exists():
            _empty(data_dir)
            data_dir.rmdir()
        os.rename(tmp, data_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _build(
    tmp: Path,
    bundle: Any,
    key: str,
    secrets: dict[str, Any],
    profile: dict[str, Any],
    sha: str,
) -> dict[str, Any]:
    from actors.licence import LicenceKeeper
    from actors.staff import check_pin, load_pin_key, sealed_pin
    from actors.store_file import load_config, public_key_path
    from domain.staff import StaffCreated, check_language, check_staff_id

    cloud_url = str(bundle.payload.get("cloud_url") or "")
    cfg = load_config(tmp, **config_of_profile({**profile, "id": bundle.store}, cloud_url))
    atomic_write(public_key_path(tmp), (key + "\n").encode())
    # the licence must be HQ's, for this store: this binds the bundle's key to the sealed part
    keeper = LicenceKeeper(tmp, bundle.store, key, None, SystemClock(), None)
    lic = asyncio.run(keeper.install(secrets.get("licence") or {}))
    secret = str(secrets.get("upload_secret") or "")
    if secret:
        bytes.fromhex(secret)
        atomic_write(tmp / "cloud_secret", secret.encode())
    target = LocalTarget(tmp, cfg)
    try:
        sync = CatalogueSync(tmp, bundle.store, key, target, target.journal, SystemClock())
        applied = asyncio.run(sync.apply(bundle, "setup", sha))
        m = secrets.get("first_manager") or {}
        staff = check_staff_id(m.get("id"))
        lang = check_language(m.get("lang") or "en")
        pin_hash = sealed_pin(load_pin_key(tmp), staff, check_pin(m.get("pin")))
        body = StaffCreated(staff, str(m.get("name") or staff)[:100], "manager", lang, pin_hash)
        asyncio.run(target.journal(f"setup-manager-{staff}", body))
    finally:
        target.close()
    return {
        "store": bundle.store,
        "name": cfg.name,
        "version": applied.get("version"),
        "products": applied.get("count"),
        "licence": lic.get("licence_id"),
        "manager": staff,
        "pin": str(m.get("pin")),  # shown once to the installer: HQ printed only the code
        "cloud_url": cloud_url,
    }
