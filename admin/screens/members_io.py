"""The Members tab's import: the file (CSV or XLSX) is read on the background lane, then sent to
HQ in parts of ``PART`` rows (``POST /v1/hq/members/import``, CSV), one after the other, the
progress bar moving after each. HQ checks each row on its own (``cloud.members_io``: the good rows
are taken, importing a row again changes nothing), so parts lose nothing; a bad row's number is
its row in the whole file (the header is row 1). HQ's reasons are shown in the reader's language
(``problem_text``)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from admin.screens.io import format_of
from kiosk import i18n
from kiosk.i18n import N_, _, shown

__all__ = ["Importer", "problem_text", "PART", "csv_part"]

PART = 500

# HQ's reasons for a bad row (cloud.members_io), in words the translations know
PROBLEMS = {
    "member: 1 to 64 letters, digits, . _ -": N_("member: 1 to 64 letters, digits, . _ -"),
    "name: 1 to 128 characters": N_("name: 1 to 128 characters"),
    "phone: at most 32 characters, card at most 64": N_(
        "phone: at most 32 characters, card at most 64"
    ),
    "consent: yes or no": N_("consent: yes or no"),
    "wallet: a whole number of minor units >= 0": N_("wallet: a whole number of minor units >= 0"),
    "wallet: this member's opening balance was imported with another amount": N_(
        "wallet: this member's opening balance was imported with another amount"
    ),
}
_CARD = re.compile(r"^card (.+) belongs to member (.+)$")


def problem_text(error: str) -> str:
    """HQ's reason for a bad row in the reader's language (an unknown one as HQ wrote it)."""
    if error in PROBLEMS:
        return _(PROBLEMS[error])
    m = _CARD.match(error)
    if m:
        return _("card {card} belongs to member {member}").format(card=m[1], member=m[2])
    return error


def csv_part(rows: list[dict[str, str]], columns: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def read_rows(path: Path) -> list[dict[str, str]]:
    from cloud.master_io import read_table

    return read_table(path.read_bytes(), format_of(path))


class Importer:
    """One import in flight for ``screen`` (``imported(taken, bad)`` or ``import_failed(exc)``
    at the end; ``progress`` and ``status`` shown as it goes)."""

    def __init__(self, screen: Any, path: Path) -> None:
        self.screen, self.app, self.path = screen, screen.app, path
        self.rows: list[dict[str, str]] = []
        self.columns: list[str] = []
        self.at = 0
        self.taken = 0
        self.bad: list[dict[str, Any]] = []

    def start(self) -> None:
        self.app.call(lambda: read_rows(self.path), self._read, self._failed, label="read")

    def _read(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.columns = list(rows[0]) if rows else []
        self._next()

    def _next(self) -> None:
        if not self.screen.winfo_exists():
            return
        total = len(self.rows)
        if self.at >= total:
            self.screen.imported(self.taken, self.bad)
            return
        self.screen.progress.configure(maximum=total, value=self.at)
        self.screen.status.configure(
            text=shown(
                _("Importing: {done} of {total} rows…").format(
                    done=i18n.number(self.at), total=i18n.number(total)
                )
            )
        )
        start = self.at
        data = csv_part(self.rows[start : start + PART], self.columns)
        self.app.call(
            lambda: self.app.api.members_import(data, "members.csv"),
            lambda res: self._sent(start, res),
            self._failed,
            label="import",
        )

    def _sent(self, start: int, res: dict[str, Any]) -> None:
        self.taken += int(res.get("imported") or 0)
        for e in res.get("errors") or []:  # HQ numbers the part's rows from 2
            self.bad.append({**e, "row": int(e.get("row", 0)) + start})
        self.at = start + PART
        self._next()

    def _failed(self, exc: BaseException) -> None:
        if self.screen.winfo_exists():
            self.screen.import_failed(exc)
