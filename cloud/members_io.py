"""HQ's member import and export (CSV or XLSX): ``kassa admin members import|export FILE``.

Columns: ``member, name, phone, card, consent`` and ``wallet`` (an opening wallet balance in minor
units, put in HQ's pool once per member). Each row is checked on its own: the good rows are
taken, the bad ones come back with their row number (the header is row 1) and why; nothing of a
bad row is kept. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from cloud.master_io import read_table
from domain.errors import Conflict, InvalidInput

__all__ = ["import_rows", "export_csv", "export_xlsx", "EXPORT_COLUMNS"]

EXPORT_COLUMNS = ("member", "name", "phone", "card", "home", "consent", "wallet", "points")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_YES, _NO = ("1", "yes", "y", "true"), ("", "0", "no", "n", "false")
MAX_OPENING = 10**10


def _check(r: dict[str, str], cards: dict[str, str]) -> tuple[dict[str, Any], str]:
    member = r.get("member", "")
    if not _ID.match(member):
        return {}, "member: 1 to 64 letters, digits, . _ -"
    if not r.get("name") or len(r["name"]) > 128:
        return {}, "name: 1 to 128 characters"
    if len(r.get("phone", "")) > 32 or len(r.get("card", "")) > 64:
        return {}, "phone: at most 32 characters, card at most 64"
    card = r.get("card", "")
    if card and cards.get(card, member) != member:
        return {}, f"card {card} belongs to member {cards[card]}"
    consent = r.get("consent", "").lower()
    if consent not in _YES + _NO:
        return {}, "consent: yes or no"
    wallet = r.get("wallet", "").removesuffix(".0")
    if wallet and (not wallet.isdigit() or int(wallet) > MAX_OPENING):
        return {}, "wallet: a whole number of minor units >= 0"
    return {
        "member": member,
        "name": r["name"],
        "phone": r.get("phone", ""),
        "card": card,
        "consent": consent in _YES,
        "wallet": int(wallet or 0),
    }, ""


def import_rows(hq: Any, data: bytes, name: str) -> dict[str, Any]:
    fmt = "xlsx" if name.lower().endswith(".xlsx") else "csv"
    rows = read_table(data, fmt)
    cards = hq.cards()
    errors: list[dict[str, Any]] = []
    taken = 0
    for i, r in enumerate(rows, start=2):
        row, why = _check(r, cards)
        if not why and row["wallet"]:
            try:
                hq.opening(f"import:{row['member']}", row["member"], "wallet", row["wallet"])
            except (Conflict, InvalidInput):
                why = "wallet: this member's opening balance was imported with another amount"
        if why:
            errors.append({"row": i, "member": r.get("member", ""), "error": why})
            continue
        hq.register(row["member"], row["name"], row["phone"], row["card"], row["consent"])
        if row["card"]:
            cards[row["card"]] = row["member"]
        taken += 1
    return {"ok": not errors, "imported": taken, "errors": errors}


def _rows(hq: Any) -> list[dict[str, Any]]:
    out = []
    for m in hq.search("", limit=10**9):
        out.append({**m, "wallet": m["wallet"]["balance"], "points": m["points"]["balance"]})
    return out


def export_csv(hq: Any) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows({**m, "consent": "yes" if m["consent"] else "no"} for m in _rows(hq))
    return buf.getvalue().encode()


def export_xlsx(hq: Any) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        ws = wb.add_worksheet("members")
        for c, col in enumerate(EXPORT_COLUMNS):
            ws.write_string(0, c, col)
        for r, m in enumerate(_rows(hq), start=1):
            for c, col in enumerate(EXPORT_COLUMNS):
                v = m.get(col, "")
                if isinstance(v, bool):
                    ws.write_string(r, c, "yes" if v else "no")
                elif isinstance(v, int):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v))  # a card keeps its leading zeros
    return buf.getvalue()
