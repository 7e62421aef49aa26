"""Codes of issue 16's last parts: the tills' device reports, encrypted backups."""

from __future__ import annotations

from domain.backup_format import BackupError
from domain.error_codes.base import LOCAL, Code
from domain.errors import InvalidInput

__all__ = ["It16", "DeviceAlert"]


class It16(Code):
    BAD_DEVICE_REPORT = (
        "devices.bad_report",
        InvalidInput,
        "The till's printer report is not valid.",
    )
    KEY_MISSING = (
        "backup.key_missing",
        BackupError,
        "This backup is encrypted. Give the store's backup key file to restore it.",
    )
    KEY_WRONG = (
        "backup.key_wrong",
        BackupError,
        "The backup key does not open this backup, or the file was changed. Use the key "
        "kept for this store.",
    )
    BAD_KEY = (
        "backup.bad_key",
        BackupError,
        "The backup key file is not valid: it must hold the 64 hex digits kassa wrote.",
    )


class DeviceAlert(Code):
    """A till's printer that cannot print, as the till reported it (``domain.alerts_devices``):
    an alert on the manager counter's Health tab and at HQ."""

    PRINTER_NOT_READY = (
        "printer.not_ready",
        LOCAL,
        "A till's receipt printer cannot print: check its paper, cover and cable.",
    )
