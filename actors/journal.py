"""The journal: an append-only, hash-chained SQLite file (WAL, synchronous=FULL).

Only the ledger writes it. Every row is an event ``Envelope`` (its format, chain hash and table
columns: ``domain.journal_format``, shared with HQ's copy) plus the hash of the command that
produced it, so that a retried command id is answered with its first result and the same id with
another body is refused. Triggers refuse UPDATE and DELETE; the hash chain makes an edit
made behind SQLite's back detectable by ``verify``.

Checks: ``verify_journal`` (the whole chain, optionally SQLite's ``integrity_check``) backs
``kassa journal verify``; at every start the ledger runs ``check_at_start`` (``quick_check`` and the
chain's last events against HQ's anchor) before it serves, then ``start_full_check`` in a niced
child process. Both write ``journal_check.json`` beside the journal, which health shows and the
uploader obeys (``broken_at``: it sends nothing from that seq on).
"""

from __future__ import annotations

from actors.journal_check import (
    VerifyResult,
    broken_at,
    check_at_start,
    read_report,
    report_path,
    result_doc,
    sqlite_check,
    start_full_check,
    summary,
    verify_journal,
    verify_tail,
    write_report,
)

# the file and, re-exported ("as"), the pieces other store modules select envelopes with
from actors.journal_store import COLS as COLS
from actors.journal_store import SCHEMA as SCHEMA
from actors.journal_store import Journal, Pending
from actors.journal_store import _env as _env
from actors.journal_store import connect as connect

__all__ = [
    "Journal",
    "Pending",
    "verify_journal",
    "verify_tail",
    "sqlite_check",
    "VerifyResult",
    "check_at_start",
    "start_full_check",
    "read_report",
    "write_report",
    "broken_at",
    "summary",
    "report_path",
    "result_doc",
]
