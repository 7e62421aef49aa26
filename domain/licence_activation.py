"""Licence activation ("second authentication") and the licence's features. Pure, no I/O.

A licence that says ``"activation": true`` (every licence HQ issues now; older ones lack the key)
opens a day only on the one install HQ approved it for:

* the **install id** (``install_id``) names one store server: a random seed kept in
  ``<data>/install_id`` (created once) hashed with the PC's machine id (``/etc/machine-id``
  where there is one). A data folder copied to another PC keeps the seed but not the machine id,
  so it is a new install there, and HQ has to approve it (and release the old one) before its
  day opens. Without a machine id only the seed counts (said in ``docs/readme``).
* the store asks HQ with an **activation request** (``check_request``): the licence file HQ
  signed, the store id, the install id and a nonce; HQ keeps it pending until someone at HQ
  approves or denies it.
* HQ's answer is the **activation** (``Activation``, ``sign_activation``): HQ's Ed25519 signature
  over ``{licence_id, store, install_id, at}`` in its own signing context, so it can never pass
  for a licence or a check result. The store keeps it and verifies it at every day open
  (``read_activation``): another licence, store or install is refused.
* HQ's rule (``approval_conflicts``): a licence is active on ONE install. Approving a second
  install is refused (``activation.licence_in_use``) unless the first is released or the
  approval says ``move`` (a replaced PC: the old install is released by the same approval).
  A released install learns it when it next confirms its activation online (the store asks
  again every few hours while it has a line) and drops its activation; offline it cannot know.

Features (``FEATURES``): what a licence's ``features`` may name and where each is enforced.
``granted(features)``: a list naming none of them (``[]``, or only old free-text labels such as
``"demo"``) grants every feature, as before features were enforced; a list naming at least one
grants exactly those; ``"core"`` alone grants none of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import Conflict, Forbidden, InvalidInput
from domain.licence_docs import Licence, canonical, key_id, public_key_from, read_licence

__all__ = [
    "FEATURES",
    "CORE",
    "STATUSES",
    "Activation",
    "install_id",
    "valid_install_id",
    "check_request",
    "sign_activation",
    "read_activation",
    "approval_conflicts",
    "granted",
    "require_feature",
]

_CTX = b"kassa-licence-activation-v1\n"
_INSTALL = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}")
_NONCE = re.compile(r"[0-9A-Za-z_-]{16,64}")

STATUSES = ("pending", "approved", "denied", "released")

# feature name -> what it unlocks (the gateway refuses the endpoints with
# ``licence.feature_not_licensed`` when the licence does not grant it)
FEATURES: dict[str, str] = {
    "bigscreen": "the sales big screen (GET /v1/bigscreen/summary)",
    "wallet": "member wallets: registering members, top-ups (POST /v1/members, .../topup)",
    "flags": "anomaly flags for the manager (GET /v1/flags)",
}
CORE = "core"  # selling, days, reports: always granted; a list of only "core" grants no feature


def install_id(seed: str, machine: str = "") -> str:
    """The install id shown to people and bound into an activation: 16 base32 letters in groups
    of four, from the install's random ``seed`` and the PC's ``machine`` id ("" if none)."""
    if not seed:
        raise InvalidInput("activation.bad_request", "an install needs a seed")
    digest = hashlib.sha256(b"kassa-install-v1\n" + seed.encode() + b"\n" + machine.encode())
    text = base64.b32encode(digest.digest()[:10]).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def valid_install_id(text: Any) -> bool:
    return isinstance(text, str) and _INSTALL.fullmatch(text) is not None


def check_request(request: Any, public_key: Any) -> tuple[Licence, str, str]:
    """HQ's side: a store's activation request ``{licence, store_id, install_id, nonce}``.
    The licence must be one HQ signed (``public_key``), for that store. Returns (licence,
    store id, install id)."""
    if not isinstance(request, dict):
        raise InvalidInput("activation.bad_request", "an activation request is a JSON object")
    store, install, nonce = (request.get(k) for k in ("store_id", "install_id", "nonce"))
    if not isinstance(store, str) or not store:
        raise InvalidInput("activation.bad_request", "store_id missing")
    if not valid_install_id(install):
        raise InvalidInput("activation.bad_request", "install_id: XXXX-XXXX-XXXX-XXXX")
    if not isinstance(nonce, str) or _NONCE.fullmatch(nonce) is None:
        raise InvalidInput("activation.bad_request", "nonce: 16 to 64 letters, digits, - or _")
    lic = read_licence(request.get("licence") or {}, public_key)  # licence.bad_signature...
    if lic.store_id != store:
        raise Conflict(
            "licence.wrong_store",
            f"this licence is for store {lic.store_id}, not for {store}",
            licence_store=lic.store_id,
            store=store,
        )
    return lic, store, str(install)


@dataclass(frozen=True, slots=True)
class Activation:
    licence_id: str
    store: str
    install_id: str
    at: int  # UTC microseconds, HQ's clock, when HQ approved

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


def sign_activation(act: Activation, key: Ed25519PrivateKey) -> dict[str, Any]:
    doc = act.to_doc()
    sig = key.sign(_CTX + canonical(doc))
    return {
        "format": "kassa-activation",
        "v": 1,
        "activation": doc,
        "alg": "Ed25519",
        "key_id": key_id(key),
        "sig": base64.b64encode(sig).decode(),
    }


def read_activation(
    data: Any, public_key: Any, *, licence_id: str, store: str, install: str
) -> Activation:
    """The store's side: HQ's activation, verified, and for exactly this licence, store and
    install (``activation.bad_signature`` / ``activation.other_install``)."""
    if not isinstance(data, dict) or not isinstance(data.get("activation"), dict):
        raise InvalidInput("activation.bad_signature", "not an activation from HQ")
    doc = data["activation"]
    try:
        sig = base64.b64decode(str(data.get("sig", "")), validate=True)
        public_key_from(public_key).verify(sig, _CTX + canonical(doc))
        act = Activation(
            str(doc["licence_id"]), str(doc["store"]), str(doc["install_id"]), int(doc["at"])
        )
    except (InvalidSignature, binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidInput(
            "activation.bad_signature",
            "the activation is not signed by HQ, or it was changed",
        ) from None
    if act.licence_id != licence_id or act.store != store:
        raise Conflict(
            "activation.other_install",
            f"this activation is for licence {act.licence_id} of store {act.store}",
            licence=act.licence_id,
        )
    if act.install_id != install:
        raise Conflict(
            "activation.other_install",
            f"this activation is for install {act.install_id}, this PC is {install}",
            install_id=install,
            activated=act.install_id,
        )
    return act


def approval_conflicts(
    records: Iterable[Mapping[str, Any]], rec: Mapping[str, Any], move: bool
) -> list[str]:
    """HQ's rule for approving request ``rec``: the ids of the other approved installs of the same
    licence, which ``move`` releases; without ``move`` any such install refuses the approval
    (``activation.licence_in_use``). A pending, denied or released request may be approved (a
    denial reversed, a released install taken back); approving an approved one changes nothing."""
    if rec["status"] == "approved":
        return []
    if rec["status"] not in ("pending", "denied", "released"):
        raise Conflict(
            "activation.not_pending",
            f"activation {rec['id']} is {rec['status']}; the store must ask again",
            status=rec["status"],
        )
    others = [
        r
        for r in records
        if r["licence_id"] == rec["licence_id"]
        and r["status"] == "approved"
        and r["install_id"] != rec["install_id"]
    ]
    if others and not move:
        raise Conflict(
            "activation.licence_in_use",
            f"licence {rec['licence_id']} is active on install {others[0]['install_id']}; "
            "release that install first, or approve with move (a replaced PC)",
            licence=rec["licence_id"],
            active_install=others[0]["install_id"],
            active_id=others[0]["id"],
        )
    return [str(r["id"]) for r in others]


def granted(features: Iterable[str]) -> frozenset[str]:
    """The features a licence's ``features`` list grants (see the module's docstring)."""
    names = set(features)
    named = names & set(FEATURES)
    if not named and CORE not in names:
        return frozenset(FEATURES)
    return frozenset(named)


def require_feature(features: Iterable[str], name: str) -> None:
    if name not in FEATURES:
        raise ValueError(f"unknown feature {name!r}")
    if name not in granted(features):
        raise Forbidden(
            "licence.feature_not_licensed",
            f"this store's licence does not include {name}: ask HQ for a licence with it",
            feature=name,
        )
