"""Reconciling a provider's statement at the store, for the manager counter's Payments tab
(``POST /v1/payments/reconcile``): the statement's bytes as uploaded, read with a column mapping
(``analytics.reconcile_io``: the built-in ones plus ``<data>/reconcile-mappings.json`` when it
exists), matched (``domain.reconcile``) against the journal's payments of that provider's tenders.

The journal is read on its own read-only connection in a worker thread (never the ledger's), only
sales, refunds and exchanges in the period: it runs while the store sells. Without a period the
statement's own first and last local days are taken, so payments outside it are not "missing".
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput

__all__ = ["MAX_STATEMENT", "MAX_PAIRS", "MAPPING_FILE", "mapping_names", "reconcile_statement"]

MAX_STATEMENT = 8 * 1024 * 1024  # bytes of one statement file
MAX_PAIRS = 5000  # rows sent back (what needs looking at first); the counts cover every row
MAPPING_FILE = "reconcile-mappings.json"
SUFFIXES = (".csv", ".xlsx")
_KINDS = ("order.completed", "order.refunded", "order.exchanged")
_ORDER = {"amount_differs": 0, "missing": 1, "extra": 2, "matched": 3}


def _mapping_path(data_dir: Path) -> Path | None:
    path = Path(data_dir) / MAPPING_FILE
    return path if path.exists() else None


def mapping_names(data_dir: Path) -> list[dict[str, Any]]:
    """The statement mappings this store knows: name and the tender kinds each settles."""
    from analytics.reconcile_io import load_mappings

    found = load_mappings(_mapping_path(data_dir))
    return [
        {"name": name, "tenders": list(m.get("tenders") or ["card", "qr"])}
        for name, m in sorted(found.items())
    ]


def _envelopes(data_dir: Path, start_us: int | None, end_us: int | None) -> list[Any]:
    from actors.journal_store import COLS, _env, connect

    con = connect(Path(data_dir) / "journal.sqlite", readonly=True)
    try:
        q = f"SELECT {COLS} FROM events WHERE kind IN (?, ?, ?) AND ts >= ? AND ts < ? ORDER BY seq"
        args = (*_KINDS, start_us or 0, end_us or 2**62)
        return [_env(r) for r in con.execute(q, args)]
    finally:
        con.close()


def _rows(raw: bytes, name: str, mapping: dict[str, Any], currency: str, zone: str) -> list[Any]:
    from analytics.reconcile_io import read_statement

    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("reconcile.bad_statement", "a statement is a .csv or .xlsx file")
    with tempfile.TemporaryDirectory(prefix="kassa-statement-") as tmp:  # 0700, gone after
        path = Path(tmp) / f"statement{suffix}"
        path.write_bytes(raw)
        return read_statement(path, mapping, currency, zone)


def reconcile_statement(
    data_dir: Path,
    raw: bytes,
    name: str,
    provider: str,
    *,
    store_id: str,
    currency: str,
    zone: str,
    day_from: str | None = None,
    day_to: str | None = None,
    window_days: float = 3.0,
) -> dict[str, Any]:
    """The report: ``summary`` (counts, fees, sums), ``pairs`` (what needs looking at first; each
    with the order's short number when the sale is in the period),
    the period taken (``from``, ``to``: local days) and ``rows`` (the statement's rows read)."""
    from analytics.reconcile_io import journal_frames, journaled_from_frames, mapping_for
    from domain.day import business_day_of
    from domain.reconcile import reconcile
    from kassa_cli.store_reconcile import day_range_us

    mapping = mapping_for(provider, _mapping_path(data_dir))
    rows = _rows(raw, name, mapping, currency, zone)
    if not rows:
        raise InvalidInput("reconcile.bad_statement", "the statement has no rows")
    if not day_from:
        day_from = business_day_of(min(r.at_us for r in rows), zone)
    if not day_to:
        day_to = business_day_of(max(r.at_us for r in rows), zone)
    try:
        start, end = day_range_us(day_from, day_to, zone)
    except ValueError:
        raise InvalidInput("input.bad_field", "a day is written YYYY-MM-DD", field="from") from None
    frames = journal_frames(_envelopes(data_dir, start, end), store_id, zone)
    paid = journaled_from_frames(frames["payments"], frames["refund_tenders"], mapping, start, end)
    result = reconcile(paid, rows, int(window_days * 86_400_000_000))
    pairs = sorted(result.pairs, key=lambda p: _ORDER[p.status])
    orders = frames["orders"]
    numbers = dict(zip(orders["order_id"], orders["number"], strict=True)) if orders.height else {}
    out = []
    for p in pairs[:MAX_PAIRS]:
        row = p.to_row()
        row["order_number"] = str(numbers.get(row["order_id"]) or "")
        out.append(row)
    return {
        "provider": provider,
        "from": day_from,
        "to": day_to,
        "currency": currency,
        "rows": len(rows),
        "summary": result.summary(),
        "pairs": out,
        "more": max(0, len(pairs) - MAX_PAIRS),
    }
