"""A coupon on paper: a slip printed on the till's receipt printer, through the same print queue,
encoder and renderer as a sale receipt.

The till lays the slip out and translates it (``kiosk.screens.manager_coupons``): a
``CouponSlip`` is the store's name, a title, what the coupon is worth, a few lines (minimum
spend, valid until, uses, for whom) and the code; a reprint is marked as a copy in the slip's
language (``hw.labels``). Here it becomes receipt rows: the worth in
big letters, the lines, the code as a QR (what a till's scanner reads: the QR holds the code
itself, so the pay screen's coupon field and the sale screen both read it as typed) and the code
in words, in groups of five, for a cashier to type when there is no scanner.

``submit_slip`` queues it as a job of kind ``coupon`` whose number is the code, so a reprint
(``PrintQueue.reprint(code)``) finds it by the code and prints it with the copy mark.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from hw.labels import label
from hw.receipt_model import Receipt, Row

__all__ = ["CouponSlip", "slip_receipt", "receipt_from_payload", "submit_slip", "code_in_groups"]


@dataclass
class CouponSlip:
    code: str
    title: str
    worth: str
    lang: str = "en"
    store: str = ""
    lines: list[str] = field(default_factory=list)
    code_label: str = "Code"


def code_in_groups(code: str, size: int = 5) -> str:
    """``ABCDEFGHJK`` → ``ABCDE FGHJK``: read aloud and typed by hand without losing one."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


def slip_receipt(slip: CouponSlip, copy: bool = False) -> Receipt:
    rows: list[Row] = []
    if copy:
        rows += [Row("text", label(slip.lang, "copy"), align="center", bold=True), Row("blank")]
    if slip.store:
        rows.append(Row("text", slip.store, align="center", bold=True))
    rows += [
        Row("text", slip.title, align="center", big=True, bold=True),
        Row("text", slip.worth, align="center", big=True),
        Row("rule"),
    ]
    rows += [Row("text", line) for line in slip.lines]
    rows += [
        Row("blank"),
        Row("qr", slip.code),
        Row("text", code_in_groups(slip.code), align="center", big=True, bold=True),
        Row("text", f"{slip.code_label}: {slip.code}", align="center"),
        Row("rule"),
        Row("blank"),
    ]
    return Receipt(tuple(rows), slip.lang, slip.code, kind="coupon")


def receipt_from_payload(payload: dict[str, Any]) -> Receipt:
    """The print queue's hook: a queued coupon job (or its reprint) back into its slip."""
    d = payload["coupon"]
    slip = CouponSlip(
        code=str(d.get("code", "")),
        title=str(d.get("title", "")),
        worth=str(d.get("worth", "")),
        lang=str(d.get("lang", "en")),
        store=str(d.get("store", "")),
        lines=[str(x) for x in d.get("lines") or ()],
        code_label=str(d.get("code_label", "Code")),
    )
    return slip_receipt(slip, copy=bool(payload.get("copy")))


def submit_slip(queue: Any, slip: CouponSlip, copy: bool = False) -> int:
    """Queue ``slip`` on the till's ``hw.queue.PrintQueue`` (``copy``: marked as a copy);
    returns the job id at once."""
    payload = {"coupon": asdict(slip), "lang": slip.lang, "kick": False, "copy": copy}
    return int(queue._insert(f"coupon:{slip.code}:{uuid.uuid4()}", "coupon", slip.code, payload))
