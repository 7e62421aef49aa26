"""Codes of backups and restores (``actors.backup``, ``kassa store backup|restore``) and of HQ's
copy of them (``cloud.backups``)."""

from __future__ import annotations

from domain.backup_format import BackupError
from domain.error_codes.base import Code

__all__ = ["Backup"]


class Backup(Code):
    FAILED = "backup.failed", BackupError, "The backup failed. Try again, or ask for help."
    NO_DATA = "backup.no_data", BackupError, "There is no store data in this folder to back up."
    NOT_FOUND = "backup.not_found", BackupError, "The backup file was not found."
    BAD_ARCHIVE = "backup.bad_archive", BackupError, "This file is not a kassa backup."
    TAMPERED = (
        "backup.tampered",
        BackupError,
        "The backup was changed or damaged. It was not restored; use another backup.",
    )
    JOURNAL_BROKEN = (
        "backup.journal_broken",
        BackupError,
        "The journal in this backup does not verify. Use another backup.",
    )
    ANCHOR_MISMATCH = (
        "backup.anchor_mismatch",
        BackupError,
        "This backup differs from the sales HQ received. Restore from HQ instead.",
    )
    BEHIND_HQ = (
        "backup.behind_hq",
        BackupError,
        "HQ holds newer sales than this backup. Restore from HQ to keep them.",
    )
    FOLDER_NOT_EMPTY = (
        "backup.folder_not_empty",
        BackupError,
        "The data folder is not empty. Choose an empty folder, or confirm to replace it.",
    )
    SERVER_RUNNING = (
        "backup.server_running",
        BackupError,
        "The store server is running on this folder. Stop it first.",
    )
    HQ_UNREACHABLE = (
        "backup.hq_unreachable",
        BackupError,
        "HQ cannot be reached. Check the network and try again.",
    )
    HQ_REFUSED = (
        "backup.hq_refused",
        BackupError,
        "HQ refused the request. Check the store number and its secret.",
    )
    NONE_AT_HQ = (
        "backup.none_at_hq",
        BackupError,
        "HQ holds no backup of this store. Restore from a backup file instead.",
    )
    SKIPPED = (
        "backup.skipped",
        BackupError,
        "The line to HQ is busy with sales. The backup is sent later.",
    )
    # HQ's answers (cloud.backups)
    OFFSET = "backup.offset", 409, "HQ holds another part of this backup; sending resumes there."
    NONE = "backup.none", 404, "HQ holds no backup of this store."
    TOO_LARGE = "backup.too_large", 413, "The backup is too large for HQ."
    BAD_REQUEST = "backup.bad_request", 400, "This is not a valid backup request."
