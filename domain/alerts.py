"""The store's health alerts: pure rules over a few measured figures.

The store server measures (``actors.metrics``) and asks ``evaluate(figures, thresholds)`` every
~30 s; the answer is shown on the manager counter (``GET /v1/alerts``) and sent to HQ. A rule
fires strictly past its threshold ("under 10 %" is false at exactly 10 %):

* ``disk.low``        free space of the data folder's disk under ``disk_free_pct`` % of the disk
                      or under ``disk_free_mb`` MB (MiB), whichever comes first;
* ``upload.lagging``  the oldest event HQ has not acknowledged is older than ``upload_lag_h`` hours;
* ``licence.grace_low`` working offline (or past the grace already) with fewer than
                      ``licence_grace_days`` grace days left before no business day can open;
* ``commit.slow``     the 99th percentile of commit times over the last ``window_s`` seconds is
                      over ``commit_p99_ms`` ms (only with ``min_commits`` commits in the window).

Thresholds come from the ``alerts`` object of store.json (``Thresholds.from_dict``); keys left out
keep the defaults below, chosen for a shop: a few weeks of journal on 2 GB, a day without HQ,
three licence days to call HQ in, and a till that visibly waits at a quarter of a second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from domain.error_codes.monitoring import HealthAlert, Monitoring
from domain.errors import InvalidInput

__all__ = [
    "Alert",
    "Figures",
    "Thresholds",
    "evaluate",
    "bucket_quantile",
    "GRACE_CODES",
    "MB",
]

MB = 1024 * 1024
# licence decisions (domain.licence.decide) under which the grace days are running out
GRACE_CODES = ("licence.grace", "licence.check_overdue")


@dataclass(frozen=True, slots=True)
class Thresholds:
    disk_free_pct: float = 10.0
    disk_free_mb: int = 2048
    upload_lag_h: float = 24.0
    licence_grace_days: int = 3
    commit_p99_ms: float = 250.0
    window_s: int = 300
    min_commits: int = 20

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Thresholds:
        """The store.json ``alerts`` object; a key not given keeps its default."""
        d = dict(d or {})
        known = {f.name: f.type for f in fields(cls)}
        out: dict[str, Any] = {}
        for key, value in d.items():
            if key not in known:
                raise InvalidInput(
                    Monitoring.BAD_SETTING, f"unknown alert setting {key!r}", field=key
                )
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                raise InvalidInput(
                    Monitoring.BAD_SETTING, f"alerts.{key} is a number, 0 or more", field=key
                )
            out[key] = int(value) if known[key] == "int" else float(value)
        if out.get("disk_free_pct", 0) > 100:
            raise InvalidInput(
                Monitoring.BAD_SETTING, "alerts.disk_free_pct is at most 100", field="disk_free_pct"
            )
        return cls(**out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the rules look at; None: not known (still starting, not linked to HQ…)."""

    disk_free_bytes: int | None = None
    disk_total_bytes: int | None = None
    upload_backlog_events: int | None = None
    upload_lag_h: float | None = None  # hours since the oldest event HQ has not acknowledged
    licence_code: str = ""
    licence_grace_days_left: int | None = None
    commit_p99_ms: float | None = None
    commits_in_window: int = 0


@dataclass(frozen=True, slots=True)
class Alert:
    code: str
    message: str  # English, for logs and HQ; screens say it in words of their own from ``values``
    values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "values": dict(self.values)}


def _disk(f: Figures, t: Thresholds) -> Alert | None:
    if f.disk_free_bytes is None:
        return None
    free_mb = f.disk_free_bytes / MB
    pct = 100.0 * f.disk_free_bytes / f.disk_total_bytes if f.disk_total_bytes else None
    low_mb = free_mb < t.disk_free_mb
    low_pct = pct is not None and pct < t.disk_free_pct
    if not (low_mb or low_pct):
        return None
    shown = f"{free_mb:.0f} MB" + (f" ({pct:.1f} %)" if pct is not None else "")
    return Alert(
        HealthAlert.DISK_LOW,
        f"the data folder's disk has {shown} free, under "
        f"{t.disk_free_mb} MB or {t.disk_free_pct:g} %",
        {
            "free_mb": round(free_mb, 1),
            "free_pct": round(pct, 2) if pct is not None else None,
            "limit_mb": t.disk_free_mb,
            "limit_pct": t.disk_free_pct,
        },
    )


def _upload(f: Figures, t: Thresholds) -> Alert | None:
    if f.upload_lag_h is None or f.upload_lag_h <= t.upload_lag_h:
        return None
    return Alert(
        HealthAlert.UPLOAD_LAGGING,
        f"HQ has not acknowledged events for {f.upload_lag_h:.1f} h "
        f"({f.upload_backlog_events or 0} waiting), over {t.upload_lag_h:g} h",
        {
            "hours": round(f.upload_lag_h, 1),
            "events": f.upload_backlog_events or 0,
            "limit_h": t.upload_lag_h,
        },
    )


def _licence(f: Figures, t: Thresholds) -> Alert | None:
    left = f.licence_grace_days_left
    if f.licence_code not in GRACE_CODES or left is None or left >= t.licence_grace_days:
        return None
    return Alert(
        HealthAlert.LICENCE_GRACE_LOW,
        f"the licence could not be checked online: {left} grace day(s) left, "
        f"under {t.licence_grace_days}",
        {"days": left, "limit_days": t.licence_grace_days},
    )


def _commits(f: Figures, t: Thresholds) -> Alert | None:
    p99 = f.commit_p99_ms
    if p99 is None or f.commits_in_window < t.min_commits or p99 <= t.commit_p99_ms:
        return None
    return Alert(
        HealthAlert.COMMIT_SLOW,
        f"99 % of commits took up to {p99:.0f} ms over the last {t.window_s // 60} min, "
        f"over {t.commit_p99_ms:g} ms",
        {
            "p99_ms": round(p99, 1),
            "limit_ms": t.commit_p99_ms,
            "minutes": round(t.window_s / 60, 1),
            "commits": f.commits_in_window,
        },
    )


RULES = (_disk, _upload, _licence, _commits)


def evaluate(f: Figures, t: Thresholds) -> list[Alert]:
    """Every alert the figures raise, in a fixed order (disk, upload, licence, commits)."""
    return [a for rule in RULES if (a := rule(f, t)) is not None]


def bucket_quantile(q: float, bounds: Sequence[float], counts: Sequence[int]) -> float | None:
    """The ``q`` quantile (0..1) of observations counted per histogram bucket, as Prometheus's
    ``histogram_quantile`` estimates it: linear within the bucket it falls in (from 0 for the
    first). ``counts`` has one entry per bound plus the last for "above every bound"; a quantile
    falling there answers the highest bound. None when nothing was counted."""
    if len(counts) != len(bounds) + 1:
        raise ValueError("one count per bound, and one above them")
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        if n and seen + n >= rank:
            if i == len(bounds):
                return float(bounds[-1])
            lower = float(bounds[i - 1]) if i else 0.0
            return lower + (float(bounds[i]) - lower) * (rank - seen) / n
        seen += n
    return float(bounds[-1])
