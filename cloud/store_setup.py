"""A new store from HQ's base data, in one step — for ``kassa admin store create`` and the admin
app (``POST /v1/hq/stores``, admin role).

The store's profile goes into master data; the cloud registers it (its upload secret); its
licence is issued and its first activation allowed (the setup code is that install's second
factor); its first catalogue is published; a first manager gets a random PIN; and a setup bundle
is made: the catalogue and profile signed by HQ, the secrets (upload secret, licence, the manager
and PIN) sealed with a new setup code. The code is returned once, to be told to the installer
apart from the file; neither it nor the PIN is written anywhere in clear.
"""

from __future__ import annotations

import functools
import importlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_name

from domain.error_codes.hq import NewStore as Codes
from domain.errors import Conflict, InvalidInput
from domain.setup_secrets import new_setup_code, seal

__all__ = ["NewStore", "StoreSpec", "create_store", "new_pin", "spec_from_dict", "DAY_US"]

DAY_US = 86_400_000_000
_CREATING = threading.Lock()
LANGS = ("en", "zh", "th", "ar")


@dataclass(frozen=True, slots=True)
class StoreSpec:
    store: str
    name: str
    cloud_url: str
    zone: str = "UTC"
    currency: str = "THB"
    locale: str = ""
    group: str = "default"
    tills: int = 1
    days: int = 365
    grace: int = 7
    features: tuple[str, ...] = ()
    manager_id: str = "m1"
    manager_name: str = "Manager"
    manager_lang: str = "en"


@dataclass(frozen=True, slots=True)
class NewStore:
    store: str
    bundle: bytes  # the setup file's bytes
    code: str  # the setup code: shown once
    manager: str  # the first manager's id


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput("input.bad_field", message, field=field)


def _text(d: dict[str, Any], key: str, default: str, most: int) -> str:
    v = d.get(key, default)
    if not isinstance(v, str) or len(v.strip()) > most:
        raise _bad(key, f"{key} is text of at most {most} characters")
    return v.strip()


def _whole(d: dict[str, Any], key: str, default: int, least: int, most: int) -> int:
    v = d.get(key, default)
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if isinstance(v, bool) or not isinstance(v, int) or not least <= v <= most:
        raise _bad(key, f"{key} is a whole number from {least} to {most}")
    return v


def spec_from_dict(d: dict[str, Any]) -> StoreSpec:
    """A checked ``StoreSpec`` from a request's fields (``InvalidInput`` naming the field)."""
    from cloud.registry import valid_store_id

    store = _text(d, "store", "", 32)
    if not valid_store_id(store):
        raise _bad("store", "a store id is 1–32 letters, digits, - or _")
    name = _text(d, "name", "", 100)
    if not name:
        raise _bad("name", "the store needs a name")
    zone = _text(d, "zone", "UTC", 64) or "UTC"
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        raise _bad("zone", f"unknown time zone {zone!r} (e.g. Asia/Bangkok)") from None
    currency = _text(d, "currency", "THB", 3).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency) or get_currency_name(currency) == currency:
        raise _bad("currency", f"unknown currency {currency!r} (e.g. THB)")
    url = _text(d, "cloud_url", "", 300)
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise _bad("cloud_url", "the cloud's address, e.g. https://hq.example:8443")
    langs = {}
    for key in ("locale", "manager_lang"):
        lang = _text(d, key, "" if key == "locale" else "en", 5)
        if lang and lang not in LANGS:
            raise _bad(key, f"a language of {', '.join(LANGS)}")
        langs[key] = lang
    features = d.get("features") or []
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    if not isinstance(features, list) or not all(
        isinstance(f, str) and re.fullmatch(r"[a-z_]{1,32}", f) for f in features
    ):
        raise _bad("features", "features are names such as bigscreen, separated by commas")
    manager_id = _text(d, "manager_id", "m1", 32) or "m1"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", manager_id):
        raise _bad("manager_id", "a staff id is 1–32 letters, digits, - or _")
    return StoreSpec(
        store=store,
        name=name,
        cloud_url=url,
        zone=zone,
        currency=currency,
        locale=langs["locale"],
        group=_text(d, "group", "default", 32) or "default",
        tills=_whole(d, "tills", 1, 1, 99),
        days=_whole(d, "days", 365, 1, 3660),
        grace=_whole(d, "grace", 7, 0, 90),
        features=tuple(features),
        manager_id=manager_id,
        manager_name=_text(d, "manager_name", "Manager", 64) or "Manager",
        manager_lang=langs["manager_lang"] or "en",
    )


def new_pin() -> str:
    while True:  # six random digits, not all alike nor a run such as 123456
        pin = f"{secrets.randbelow(10**6):06d}"
        steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
        if len(set(pin)) > 2 and not (len(steps) == 1 and steps <= {-1, 0, 1}):
            return pin


def _allow_first_install(hq_dir: Path, authority: Any, licence_id: str, who: str) -> None:
    """The first install that activates this licence is approved at once: the setup code it was
    set up with is its second factor (``cloud.activation_db``, when HQ has activation)."""
    try:
        activations = importlib.import_module("cloud.activation_db")
    except ModuleNotFoundError as exc:
        if exc.name != "cloud.activation_db":
            raise
        return
    activations.Activations(hq_dir, authority).allow_first(licence_id, who)


def _one_at_a_time(fn: Callable[..., NewStore]) -> Callable[..., NewStore]:
    """Two creates at once in this process: one wins, the other is refused (``_CREATING``)."""

    @functools.wraps(fn)
    def run(*args: Any, **kw: Any) -> NewStore:
        with _CREATING:
            return fn(*args, **kw)

    return run


@_one_at_a_time
def create_store(
    hq_dir: Path,
    registry: Any,
    master: Any,
    authority: Any,
    publisher: Any,
    spec: StoreSpec,
    who: str,
) -> NewStore:
    """Everything a new store needs from HQ (see the module's text). A store already registered
    is refused with ``setup.store_exists`` and nothing changes."""
    if registry.store(spec.store) is not None:
        raise Conflict(Codes.EXISTS, f"store {spec.store} is already registered")
    profile = {
        "id": spec.store,
        "name": spec.name,
        "zone": spec.zone,
        "currency": spec.currency,
        "locale": spec.locale or spec.manager_lang,
        "tills": spec.tills,
        "group": spec.group,
    }
    master.put_store_profile(profile, who)
    profile = master.store_profile(spec.store) or profile
    now = authority.clock.now_us()
    secret = registry.add_store(spec.store, zone=spec.zone, name=spec.name, now_us=now)
    authority.ensure_key()
    start = now - now % DAY_US
    licence = authority.issue(
        spec.store,
        start,
        start + spec.days * DAY_US,
        spec.grace,
        spec.tills,
        list(spec.features),
    )
    _allow_first_install(hq_dir, authority, licence["licence"]["licence_id"], who)
    publisher.publish([spec.store], who, f"new store {spec.store}")
    manager = {
        "id": spec.manager_id,
        "name": spec.manager_name,
        "lang": spec.manager_lang,
        "pin": new_pin(),
    }
    code = new_setup_code()
    sealed = seal({"upload_secret": secret, "licence": licence, "first_manager": manager}, code)
    bundle = publisher.setup_bundle(
        spec.store,
        {
            "profile": profile,
            "cloud_url": spec.cloud_url,
            "hq_public_key": authority.public_key_text(),
            "sealed": sealed,
        },
    )
    return NewStore(spec.store, bundle, code, spec.manager_id)
