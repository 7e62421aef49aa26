"""The licence's journal events: installs, checks (with HQ's signed answer), failed checks,
refusals and detected clock tampering, each registered under its ``licence.*`` kind."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import register

__all__ = [
    "LicenceInstalled",
    "LicenceChecked",
    "LicenceCheckFailed",
    "LicenceRefused",
    "LicenceTamperDetected",
    "LicenceActivationRequested",
    "LicenceActivated",
]


@register("licence.installed")
@dataclass(frozen=True, slots=True)
class LicenceInstalled:
    licence_id: str
    store_id: str
    valid_from: int
    valid_until: int
    grace_days: int
    tills: int
    features: tuple[str, ...] = ()
    issued_at: int = 0
    replaced: str = ""  # the licence id this one replaced

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.checked")
@dataclass(frozen=True, slots=True)
class LicenceChecked:
    licence_id: str
    status: str  # ok | revoked | unknown
    server_time: int
    local_time: int
    nonce: str
    reason: str = ""
    grace_days_left: int = 0
    cleared_tamper: bool = False
    answer: str = ""  # the cloud's signed answer, exactly (``answer_text``): what a restart trusts

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.check_failed")
@dataclass(frozen=True, slots=True)
class LicenceCheckFailed:
    licence_id: str
    code: str
    message: str
    attempt: int = 1  # consecutive failures so far
    local_time: int = 0
    grace_days_left: int = 0

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.refused")
@dataclass(frozen=True, slots=True)
class LicenceRefused:
    licence_id: str
    action: str  # open_day | install
    code: str
    message: str
    grace_days_left: int = 0

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.tamper_detected")
@dataclass(frozen=True, slots=True)
class LicenceTamperDetected:
    licence_id: str
    now: int  # what the clock said
    high_water: int  # the latest time seen before
    source: str = "clock"  # clock | journal

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.activation_requested")
@dataclass(frozen=True, slots=True)
class LicenceActivationRequested:
    licence_id: str
    install_id: str
    status: str  # what HQ answered: pending | denied | released
    via: str = "cloud"  # cloud | file (the USB route)

    @property
    def agg(self) -> str:
        return self.licence_id


@register("licence.activated")
@dataclass(frozen=True, slots=True)
class LicenceActivated:
    licence_id: str
    install_id: str
    at: int  # HQ's time of the approval
    activation: str = ""  # HQ's signed activation, exactly (canonical JSON)

    @property
    def agg(self) -> str:
        return self.licence_id
