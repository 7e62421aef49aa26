"""Members in and out of the store as CSV or XLSX (the member desk, issue 15).

``read_rows`` reads a file's rows; ``check_rows`` checks every row against the members the store
knows and against the other rows of the file, and answers what to journal and the rows refused
(row numbers as a spreadsheet shows them: the header is row 1). Nothing of a refused row is
journaled; the valid rows are, each its own event. ``to_csv``/``to_xlsx`` write the export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from domain.error_codes.desk import Desk
from domain.errors import InvalidInput, KassaError
from domain.events import MemberRegistered
from domain.member_desk import phone_key
from domain.member_events import MemberUpdated
from domain.pan import refuse_card_number

__all__ = ["COLUMNS", "Checked", "check_rows", "read_rows", "to_csv", "to_xlsx"]

COLUMNS = ("member", "name", "phone", "card", "consent")
EXPORT = (*COLUMNS, "home", "balance")
_YES, _NO = ("1", "yes", "y", "true", "t"), ("0", "no", "n", "false", "f")
MAX_LEN = {"member": 64, "name": 200, "phone": 32, "card": 64}


def read_rows(data: bytes, fmt: str) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file as dicts of text (header names lower case)."""
    import polars as pl

    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("input.bad_field", "format is csv or xlsx", field="format")
    try:
        if fmt == "xlsx":
            df = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
        else:
            df = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # polars and calamine raise many kinds for a file they cannot read
        raise InvalidInput("import.bad_file", f"cannot read the {fmt} file: {exc}") from None
    df = df.rename({c: str(c).strip().lower() for c in df.columns})
    if not set(COLUMNS) - {"member"} <= set(df.columns):
        raise InvalidInput(Desk.BAD_COLUMNS, "columns: member, name, phone, card, consent")
    return [
        {k: "" if v is None else str(v).strip() for k, v in r.items()}
        for r in df.iter_rows(named=True)
    ]


@dataclass
class Checked:
    bodies: list[tuple[int, MemberRegistered | MemberUpdated]]  # (row number, event)
    errors: list[dict[str, Any]]  # {row, code, message}


def _consent(text: str) -> bool:
    t = text.lower()
    if t in _YES or t in _NO:
        return t in _YES
    raise InvalidInput(Desk.NO_CONSENT, f"consent {text!r}: write yes or no", field="consent")


def _row(r: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, most in MAX_LEN.items():
        value = r.get(key, "").removesuffix(".0") if key in ("phone", "card") else r.get(key, "")
        if len(value) > most:
            raise InvalidInput("input.bad_field", f"{key} is at most {most} characters", field=key)
        out[key] = refuse_card_number(value, key) if value else ""
    if not out["name"]:
        raise InvalidInput(Desk.NO_NAME, "a member has a name", field="name")
    out["consent"] = _consent(r.get("consent", ""))
    return out


def check_rows(rows: list[dict[str, str]], known: set[str], home: str) -> Checked:
    """What to journal for ``rows`` (a known member id: its edit; none or a new one: a new
    member of ``home``) and the rows refused, each with its code and message. A card or phone of
    another member is refused by the ledger when the row is journaled (the same answer for a retry
    of the import: it checks against the members as they were)."""
    if not rows:
        raise InvalidInput(Desk.NO_ROWS, "the file has no member rows")
    seen: set[tuple[str, str]] = set()
    out = Checked([], [])
    for n, raw in enumerate(rows, start=2):
        try:
            r = _row(raw)
            mid = r["member"]
            keys = {("member", mid), ("card", r["card"]), ("phone", phone_key(r["phone"]))}
            keys = {k for k in keys if k[1]}
            if keys & seen:
                raise InvalidInput(Desk.DUPLICATE_ROW, "the file names this member twice")
            seen |= keys
            args = (r["name"], r["phone"], r["card"], r["consent"])
            if mid in known:
                out.bodies.append((n, MemberUpdated(mid, *args)))
            else:
                out.bodies.append((n, MemberRegistered(mid, *args, home=home)))
        except KassaError as exc:
            out.errors.append({"row": n, "code": exc.code, "message": exc.message})
    return out


def to_csv(members: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=EXPORT, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({**m, "consent": "yes" if m.get("consent") else "no"} for m in members)
    return buf.getvalue().encode()


def to_xlsx(members: list[dict[str, Any]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        ws = wb.add_worksheet("members")
        bold = wb.add_format({"bold": True})
        for c, name in enumerate(EXPORT):
            ws.write_string(0, c, name, bold)
        for r, m in enumerate(members, start=1):
            for c, name in enumerate(EXPORT):
                value = m.get(name, "")
                if name == "consent":
                    ws.write_string(r, c, "yes" if value else "no")
                elif isinstance(value, int):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))  # phones and cards keep leading zeros
        ws.freeze_panes(1, 1)
    return buf.getvalue()
