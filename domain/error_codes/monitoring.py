"""Codes of the store's monitoring: alert settings, the scrape token, health reports to HQ."""

from __future__ import annotations

from domain.error_codes.base import LOCAL, Code
from domain.errors import InvalidInput

__all__ = ["Monitoring", "HealthAlert"]


class Monitoring(Code):
    BAD_SETTING = (
        "alerts.bad_setting",
        InvalidInput,
        "An alert setting of the store is not valid; each is a number, 0 or more.",
    )
    BAD_REPORT = (
        "health.bad_report",
        InvalidInput,
        "The store's health report is not valid.",
    )


class HealthAlert(Code):
    """The store's health alerts (``domain.alerts``): shown on the manager counter and at HQ."""

    DISK_LOW = (
        "disk.low",
        LOCAL,
        "The store's disk is nearly full: free some space or move old backups off it.",
    )
    UPLOAD_LAGGING = (
        "upload.lagging",
        LOCAL,
        "Sales have not reached HQ for a long time: check the internet connection.",
    )
    LICENCE_GRACE_LOW = (
        "licence.grace_low",
        LOCAL,
        "The licence has not been checked online for a long time: connect the store "
        "to the internet.",
    )
    COMMIT_SLOW = (
        "commit.slow",
        LOCAL,
        "The store server is slow to record sales: check the store PC.",
    )
