"""Reading providers' settlement statements and the journaled payments to reconcile them with
(``domain.reconcile``), and writing the report; also the supplier settlement report.

A **mapping** says which columns of a provider's statement hold what (``MAPPINGS``: the built-in
ones; a JSON file of the same shape adds or overrides, ``load_mappings``):

* ``reference``, ``amount``, ``date`` (required), ``fee`` (optional): column names;
* ``kind`` + ``fee_kinds``: a column whose values name rows that are fees only (not payments);
* ``date_format``: ``strptime`` format ("" = ISO 8601); times without a zone are the store's;
* ``minor``: amounts are written in minor units already (default: major units, "1,234.50");
* ``fee_sign``: 1 if fees are written positive (default), -1 if written negative;
* ``tenders``: the journaled tender kinds this provider settles (``card``, ``qr``, …);
* ``provider``: the provider name journaled on the payment (``Payment.provider``), when any.

CSV is read with Polars (every column as text), XLSX with Polars' calamine reader (fastexcel).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from domain.errors import InvalidInput
from domain.money import precision
from domain.reconcile import Journaled, Reconciliation, StatementRow

__all__ = [
    "MAPPINGS",
    "load_mappings",
    "mapping_for",
    "read_statement",
    "journaled_from_frames",
    "journal_frames",
    "report_frame",
    "print_report",
    "supplier_report",
]

MAPPINGS: dict[str, dict[str, Any]] = {
    # a plain export: reference, amount, date (ISO), fee
    "generic": {
        "reference": "reference",
        "amount": "amount",
        "date": "date",
        "fee": "fee",
        "tenders": ["card", "qr"],
    },
    # a card acquirer's daily settlement: one row per transaction, the MDR fee beside it
    "card-acquirer": {
        "reference": "RRN",
        "amount": "Gross Amount",
        "date": "Transaction Date",
        "fee": "MDR Fee",
        "date_format": "%d/%m/%Y %H:%M:%S",
        "tenders": ["card"],
    },
    # a bank's PromptPay statement: credits per QR payment, fees as rows of their own
    "promptpay-bank": {
        "reference": "Reference 1",
        "amount": "Amount",
        "date": "Date/Time",
        "kind": "Type",
        "fee_kinds": ["FEE", "CHARGE"],
        "date_format": "%Y-%m-%d %H:%M",
        "tenders": ["qr"],
        "provider": "promptpay",
    },
}


def load_mappings(path: Path | None) -> dict[str, dict[str, Any]]:
    """The built-in mappings plus a user's JSON file (``{name: mapping}``)."""
    out = {k: dict(v) for k, v in MAPPINGS.items()}
    if path is not None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise InvalidInput("reconcile.bad_statement", "a mapping file is {name: {...}}")
        out.update(data)
    return out


def mapping_for(name: str, path: Path | None = None) -> dict[str, Any]:
    found = load_mappings(path).get(name)
    if found is None:
        raise InvalidInput("reconcile.unknown_provider", f"no column mapping named {name!r}")
    for key in ("reference", "amount", "date"):
        if not isinstance(found.get(key), str):
            raise InvalidInput("reconcile.bad_statement", f"the mapping has no {key!r} column")
    return found


def _minor(text: Any, digits: int, minor: bool) -> int:
    raw = str(text or "").strip().replace(",", "").replace(" ", "")
    neg = raw.startswith("(") and raw.endswith(")")  # accounting negatives: (12.50)
    try:
        value = Decimal(raw.strip("()") or "0")
    except InvalidOperation:
        raise InvalidInput("reconcile.bad_statement", f"not an amount: {text!r}") from None
    scaled = value if minor else value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InvalidInput("reconcile.bad_statement", f"{text!r} has too many decimals")
    return -int(scaled) if neg else int(scaled)


def _when(text: Any, fmt: str, zone: ZoneInfo) -> int:
    raw = str(text or "").strip()
    try:
        dt = datetime.strptime(raw, fmt) if fmt else datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("reconcile.bad_statement", f"not a date: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return int((dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)


def _table(path: Path) -> pl.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xls"):
        df = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        return df.select(pl.all().cast(pl.String))
    return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")


def read_statement(
    path: Path, mapping: dict[str, Any], currency: str = "THB", zone: str = "UTC"
) -> list[StatementRow]:
    """The statement's rows, amounts in minor units and times in UTC µs."""
    try:
        df = _table(Path(path))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InvalidInput("reconcile.bad_statement", f"cannot read {path}: {exc}") from exc
    need = [mapping[k] for k in ("reference", "amount", "date", "fee", "kind") if mapping.get(k)]
    gone = [c for c in need if c not in df.columns]
    if gone:
        raise InvalidInput("reconcile.bad_statement", f"the statement has no column {gone[0]!r}")
    digits, minor = precision(currency), bool(mapping.get("minor"))
    tz, fmt = ZoneInfo(mapping.get("zone") or zone), str(mapping.get("date_format") or "")
    fee_kinds = {str(k).upper() for k in mapping.get("fee_kinds") or ()}
    sign = int(mapping.get("fee_sign", 1))
    out = []
    for i, row in enumerate(df.iter_rows(named=True), start=2):  # line 1 is the header
        if not any(str(v or "").strip() for v in row.values()):
            continue
        fee_only = bool(mapping.get("kind")) and (
            str(row[mapping["kind"]] or "").strip().upper() in fee_kinds
        )
        amount = _minor(row[mapping["amount"]], digits, minor)
        fee = _minor(row[mapping["fee"]], digits, minor) * sign if mapping.get("fee") else 0
        out.append(
            StatementRow(
                reference=str(row[mapping["reference"]] or "").strip(),
                amount=amount,
                at_us=_when(row[mapping["date"]], fmt, tz),
                fee=abs(amount) if fee_only and not fee else fee,
                line=i,
                fee_only=fee_only,
            )
        )
    return out


def journal_frames(envelopes: Iterable[Any], store_id: str, zone: str) -> dict[str, pl.DataFrame]:
    """The payments and money given back of a journal (its sales, refunds and exchanges)."""
    from analytics.flatten import flatten

    kinds = ("order.completed", "order.refunded", "order.exchanged")
    return flatten((e for e in envelopes if e.kind in kinds), store_id, zone)


def journaled_from_frames(
    payments: pl.DataFrame,
    given_back: pl.DataFrame,
    mapping: dict[str, Any],
    start_us: int | None = None,
    end_us: int | None = None,
) -> list[Journaled]:
    """Payments of the provider's tenders (``mapping['tenders']``) as positive amounts and money
    given back to them as negative ones, in [start, end) when given."""
    tenders = list(mapping.get("tenders") or ["card", "qr"])
    provider = str(mapping.get("provider") or "")
    out: list[Journaled] = []
    for df, sign in ((payments, 1), (given_back, -1)):
        if not df.height:
            continue
        df = df.filter(pl.col("kind").is_in(tenders))
        if provider and "provider" in df.columns:
            df = df.filter(pl.col("provider").is_in([provider, ""]))
        df = df.with_columns(pl.col("ts").dt.epoch("us").alias("_us"))
        if start_us is not None:
            df = df.filter(pl.col("_us") >= start_us)
        if end_us is not None:
            df = df.filter(pl.col("_us") < end_us)
        for r in df.iter_rows(named=True):
            out.append(
                Journaled(
                    reference=str(r.get("reference") or ""),
                    amount=sign * int(r["amount"]),
                    at_us=int(r["_us"]),
                    kind=str(r["kind"]),
                    provider=str(r.get("provider") or ""),
                    order_id=str(r.get("order_id") or ""),
                    store=str(r.get("store_id") or ""),
                )
            )
    return out


def report_frame(result: Reconciliation) -> pl.DataFrame:
    rows = [p.to_row() for p in result.pairs]
    schema = {
        "status": pl.String,
        "how": pl.String,
        "reference": pl.String,
        "journal_amount": pl.Int64,
        "statement_amount": pl.Int64,
        "difference": pl.Int64,
        "fee": pl.Int64,
        "journal_at_us": pl.Int64,
        "statement_at_us": pl.Int64,
        "order_id": pl.String,
        "store": pl.String,
        "line": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def print_report(result: Reconciliation, currency: str) -> None:
    """A table of what did not match, then the counts and sums (minor units shown as money)."""
    from domain.money import format_money

    def m(v: int | None) -> str:
        return "" if v is None else format_money(v, currency)

    print(f"{'status':<15} {'reference':<24} {'journal':>14} {'statement':>14} {'difference':>12}")
    for p in result.pairs:
        if p.status == "matched":
            continue
        r = p.to_row()
        print(
            f"{p.status:<15} {r['reference'][:24]:<24} {m(r['journal_amount']):>14} "
            f"{m(r['statement_amount']):>14} {m(p.difference) if p.difference else '':>12}"
        )
    s = result.summary()
    print(
        f"matched {s['matched']} · amount differs {s['amount_differs']} · missing {s['missing']}"
        f" · extra {s['extra']} · fees {m(s['fees'])}"
    )


def supplier_report(
    envelopes: Iterable[Any], zone: str, start_us: int | None = None, end_us: int | None = None
) -> pl.DataFrame:
    """Goods received per supplier and product in a period (``stock.received``): deliveries,
    quantity and value (quantity × the unit cost the receipt recorded, minor units) — what the
    store owes each supplier. A receipt written before receipts named their supplier (v1) names
    it in its reference before the first "/" ("ACME/INV-889" → ACME; ``domain.stock_events``)."""
    from domain.events import current_body

    rows = []
    for e in envelopes:
        if e.kind != "stock.received" or (start_us is not None and e.ts < start_us):
            continue
        if end_us is not None and e.ts >= end_us:
            continue
        b = current_body(e.kind, e.v, json.loads(e.body))
        qty, cost = int(b["qty"]), int(b.get("unit_cost") or 0)
        rows.append(
            {
                "supplier": str(b.get("supplier") or "") or "(none)",
                "sku": b["sku"],
                "qty": qty,
                "value": qty * cost,
            }
        )
    if not rows:
        return pl.DataFrame(
            schema={
                "supplier": pl.String,
                "sku": pl.String,
                "deliveries": pl.UInt32,
                "qty": pl.Int64,
                "value": pl.Int64,
            }
        )
    return (
        pl.DataFrame(rows, schema_overrides={"qty": pl.Int64, "value": pl.Int64})
        .group_by("supplier", "sku")
        .agg(pl.len().alias("deliveries"), pl.col("qty").sum(), pl.col("value").sum())
        .sort("supplier", "sku")
    )
