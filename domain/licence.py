"""Licences: what HQ signs, what the cloud answers, and when a shop may open its day.

Pure rules, no I/O. Four things live here:

* the **licence document** (``Licence``): which store, valid from/until, grace days, tills,
  features, licence id, issue time. It is encoded canonically (sorted-key compact JSON, times as UTC
  microseconds) and signed by HQ with Ed25519. A licence file is ``{"licence": {...}, "sig": ...}``;
  ``read_licence`` verifies it with HQ's public key and refuses anything tampered with.
* the **check result** (``CheckResult``) the cloud answers when a store asks "is my licence still
  good?": store id, licence id, status (``ok`` | ``revoked`` | ``unknown``), the cloud's time and
  the nonce the store sent, signed with the same HQ key (another signing context, so a licence
  signature can never pass for a check result or the other way round).
* the **grace rule** (``decide``): given the licence, the cloud time of the last successful check,
  the latest time the store has ever seen (the high-water mark), the clock's ``now`` and what the
  store has learned about revocation and tampering, may the shop open its day?
* the **standing** (``Standing``): a fold over the journal's licence events that verifies every
  journaled answer with HQ's key, so that the inputs of ``decide`` come from what HQ signed and
  not from a state file the store's owner can edit.

Winding the clock back cannot stretch the grace: grace is counted from the *cloud's* time of the
last successful check and measured against ``max(now, high_water)``; a ``now`` earlier than the
high-water mark by more than ``TOLERANCE_US`` is tampering, and the day stays shut until a
successful online check.

Error codes (all ``KassaError``s from ``domain.errors``)::

    InvalidInput  licence.malformed       the file is not a licence document
    InvalidInput  licence.bad_signature   tampered with, or signed by someone other than our HQ
    InvalidInput  licence.bad_key         HQ public key unreadable
    InvalidInput  licence.bad_result      a check result that is malformed, unsigned or not ours
    Conflict      licence.wrong_store     a genuine licence, but for another store
    Conflict      licence.expired         (install) the licence is past its end
    Conflict      licence.revoked         (install) HQ revoked this licence
Where: the signed documents and keys are in ``domain.licence_docs``, the journal events in
``domain.licence_events``, the grace rule and the standing here; all are importable from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.errors import InvalidInput
from domain.licence_docs import (
    STATUSES,
    CheckResult,
    Licence,
    canonical,
    check_for_store,
    key_id,
    licence_from_doc,
    new_private_key,
    private_key_from,
    private_key_text,
    public_key_from,
    public_key_text,
    read_licence,
    read_result,
    sign_licence,
    sign_result,
)
from domain.licence_events import (
    LicenceChecked,
    LicenceCheckFailed,
    LicenceInstalled,
    LicenceRefused,
    LicenceTamperDetected,
)

__all__ = [
    "US_PER_DAY",
    "TOLERANCE_US",
    "WARN_DAYS",
    "EXPIRY_WARN_DAYS",
    "STATUSES",
    "Licence",
    "CheckResult",
    "Decision",
    "canonical",
    "key_id",
    "public_key_from",
    "public_key_text",
    "private_key_from",
    "private_key_text",
    "new_private_key",
    "sign_licence",
    "read_licence",
    "licence_from_doc",
    "check_for_store",
    "sign_result",
    "read_result",
    "answer_text",
    "decide",
    "Standing",
    # events
    "LicenceInstalled",
    "LicenceChecked",
    "LicenceCheckFailed",
    "LicenceRefused",
    "LicenceTamperDetected",
]

US_PER_DAY = 86_400 * 1_000_000
TOLERANCE_US = 5 * 60 * 1_000_000  # a clock this much behind the high-water mark is still honest
WARN_DAYS = 3  # warn when this many grace days (or fewer) are left
EXPIRY_WARN_DAYS = 14  # warn when the licence ends within this many days

# ---------------------------------------------------------------- may the day open?


@dataclass(frozen=True, slots=True)
class Decision:
    ok: bool
    code: str
    message: str
    grace_days_left: int = 0
    warn: bool = False
    warn_code: str = ""
    expires_days_left: int = 0
    effective_time: int = 0  # max(now, high_water): the time the rules were applied at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ceil_days(us: int) -> int:
    return -(-us // US_PER_DAY) if us > 0 else 0


def decide(
    licence: Licence | None,
    *,
    last_ok: int | None,
    high_water: int,
    now: int,
    revoked: bool = False,
    unknown: bool = False,
    tampered: bool = False,
    tolerance_us: int = TOLERANCE_US,
    warn_days: int = WARN_DAYS,
    expiry_warn_days: int = EXPIRY_WARN_DAYS,
) -> Decision:
    """May the shop open its business day?

    ``last_ok`` is the *cloud* time of the last check that answered ``ok`` (None: never); grace
    runs from it or from the licence's own ``issued_at`` (also HQ's time), whichever is later.
    ``high_water`` is the latest time the store has ever seen; ``tampered`` says a wound-back clock
    was already detected and no successful online check has cleared it since.
    ``revoked``/``unknown`` are what the last check result said.
    """
    if licence is None:
        return Decision(False, "licence.missing", "no licence is installed on this store")
    if revoked:
        return Decision(False, "licence.revoked", "HQ has revoked this licence; call HQ")
    if tampered or now < high_water - tolerance_us:
        behind = max(0, high_water - now)
        return Decision(
            False,
            "licence.clock_tampered",
            f"the clock reads {behind // 60_000_000} min earlier than a time this "
            "store has already seen; set the clock right, then run an online "
            "licence check",
            effective_time=max(now, high_water),
        )
    t = max(now, high_water)
    expires_left = _ceil_days(licence.valid_until - t)
    if t < licence.valid_from:
        return Decision(
            False,
            "licence.not_yet_valid",
            "this licence has not started yet",
            expires_days_left=expires_left,
            effective_time=t,
        )
    if t >= licence.valid_until:
        return Decision(
            False, "licence.expired", "the licence has ended; install a new one", effective_time=t
        )
    if unknown:
        return Decision(
            False,
            "licence.unknown",
            "HQ does not recognise this licence; call HQ",
            expires_days_left=expires_left,
            effective_time=t,
        )
    # grace runs from the latest time HQ vouched for: the last ok check, or the licence's issue
    since = max(last_ok or 0, licence.issued_at)
    deadline = since + licence.grace_days * US_PER_DAY
    left = _ceil_days(deadline - t)
    if t > deadline:
        return Decision(
            False,
            "licence.check_overdue",
            f"no successful licence check for more than {licence.grace_days} days; "
            "connect the store to the internet and run a licence check",
            grace_days_left=0,
            expires_days_left=expires_left,
            effective_time=t,
        )
    offline = t - since > US_PER_DAY
    warn, warn_code = False, ""
    if offline and left <= warn_days:
        warn, warn_code = True, "licence.grace_ending"
        message = (
            f"the licence could not be checked online; {left} grace day(s) left before "
            "the day can no longer be opened"
        )
    elif expires_left <= expiry_warn_days:
        warn, warn_code = True, "licence.expiring"
        message = f"the licence ends in {expires_left} day(s); ask HQ for a new one"
    elif offline:
        message = f"working offline: {left} grace day(s) left"
    else:
        message = "licence valid"
    return Decision(
        True,
        "licence.grace" if offline else "licence.ok",
        message,
        grace_days_left=left,
        warn=warn,
        warn_code=warn_code,
        expires_days_left=expires_left,
        effective_time=t,
    )


# ---------------------------------------------------------------- the standing, from the journal


def answer_text(answer: dict[str, Any]) -> str:
    """The signed answer as it is journaled (``LicenceChecked.answer``): canonical JSON text."""
    return canonical(answer).decode()


@dataclass
class Standing:
    """What the journal proves about the licence: a fold over its events, oldest first.

    Only check results that carry HQ's signed answer (``LicenceChecked.answer``) for this store
    count; anything else (an event made up and handed to the ledger, an answer from before answers
    were journaled) is counted in ``rejected`` and changes nothing. Per licence, the result with
    the latest *HQ* time is its status, so a revocation is undone only by a later answer from HQ,
    never by journaling an older ``ok`` again. A result at least as new as every one before it and
    answering a request not answered before (``fresh``: its nonce is new)
    resets the high-water mark to HQ's time, disowns the later local times seen before it (a clock
    that ran fast) and clears a clock-tamper latch; a replayed one does neither.

    ``apply(ts, body)`` takes an event with its journal time; ``seen(ts)`` any other journal time.
    """

    public_key: Any
    store_id: str
    tolerance_us: int = TOLERANCE_US
    latest: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # lid -> (t, status, why)
    last_ok: dict[str, int] = field(default_factory=dict)  # lid -> HQ time of its latest ok
    newest: int = 0  # the latest HQ time of any verified result
    high_water: int = 0
    ignore_upto: int = 0  # local times up to this were disowned by a fresh result
    tampered: dict[str, int] | None = None
    last_check: dict[str, Any] | None = None
    rejected: int = 0
    nonces: set[str] = field(default_factory=set)  # of the fresh results: each counts once

    def seen(self, ts: int | None) -> None:
        if ts and ts > self.ignore_upto and ts > self.high_water:
            self.high_water = int(ts)

    def verify(self, body: LicenceChecked) -> CheckResult | None:
        """HQ's signed result inside a journaled check, or None if it is missing or not genuine."""
        try:
            answer = json.loads(body.answer)
            return read_result(
                answer,
                self.public_key,
                store_id=self.store_id,
                licence_id=body.licence_id,
                nonce=body.nonce,
            )
        except (ValueError, TypeError, InvalidInput):
            return None

    def apply(self, ts: int, body: Any) -> bool:
        """Fold one event in; for a check, return whether it cleared a tamper latch."""
        if isinstance(body, LicenceChecked):
            return self._checked(ts, body)
        if isinstance(body, LicenceTamperDetected):
            if self.tampered is None:
                self.tampered = {"now": body.now, "high_water": body.high_water}
            self.seen(body.high_water)
            return False
        self.seen(ts)
        return False

    def _checked(self, ts: int, body: LicenceChecked) -> bool:
        res = self.verify(body)
        if res is None:
            self.rejected += 1
            self.seen(ts)
            return False
        lid, t = res.licence_id, res.server_time
        if lid not in self.latest or t >= self.latest[lid][0]:
            self.latest[lid] = (t, res.status, res.reason)
        if res.status == "ok":
            self.last_ok[lid] = max(self.last_ok.get(lid, 0), t)
        if t < self.newest or res.nonce in self.nonces:  # a replay, or HQ's clock went back
            self.seen(ts)
            return False
        self.newest = t
        self.nonces.add(res.nonce)
        if self.high_water > t:
            self.ignore_upto = max(self.ignore_upto, self.high_water)
        self.high_water = max(t, ts)
        self.last_check = {
            "licence_id": lid,
            "status": res.status,
            "server_time": t,
            "local_time": ts,
            "reason": res.reason,
        }
        cleared = False
        if res.status == "ok":
            cleared, self.tampered = self.tampered is not None, None
        return cleared

    def status_of(self, licence_id: str) -> str:
        """``ok`` | ``revoked`` | ``unknown`` from HQ's latest answer, or "" (never checked)."""
        entry = self.latest.get(licence_id)
        return entry[1] if entry else ""

    def revoked_ids(self) -> set[str]:
        return {lid for lid, (_, status, _) in self.latest.items() if status == "revoked"}

    def decide(self, licence: Licence | None, now: int, **kw: Any) -> Decision:
        lid = licence.licence_id if licence else ""
        status = self.status_of(lid)
        return decide(
            licence,
            last_ok=self.last_ok.get(lid),
            high_water=self.high_water,
            now=now,
            revoked=status == "revoked",
            unknown=status == "unknown",
            tampered=self.tampered is not None,
            tolerance_us=self.tolerance_us,
            **kw,
        )
