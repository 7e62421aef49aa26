#!/usr/bin/env python3
"""An example product feed for kassa HQ: reads a supplier's price list in the supplier's own
layout and sends it to HQ in kassa's feed format (docs/feed-format.md).

Standalone on purpose: the Python standard library only, no kassa import. A feed can be written in
any language; all it has to do is what this file does:

1. read the supplier's file (here: semicolons, decimal commas, "1.049,00" with a thousands dot,
   names in English and Thai, "PCS"/"KG" units, "Beverages > Tea" groups);
2. write kassa's feed CSV (fixed header names, prices in minor units: 25,00 THB -> 2500);
3. POST it to ``<cloud>/v1/feed/<name>/files`` with ``Authorization: Bearer <credential>``, or
   drop it into HQ's inbox folder ``<hq>/feeds/<name>/inbox/`` (written under a dot name, then
   renamed, so HQ never reads half a file).

It does not check barcodes itself: HQ checks every row and reports the bad ones (row, field, code,
message) while the good rows wait for approval.

    python supplier_feed.py --cloud http://127.0.0.1:8300 --feed acme \\
        --credential "$KASSA_FEED_CREDENTIAL" [--supplier sample_supplier.csv]
    python supplier_feed.py --inbox /srv/hq/feeds/acme/inbox
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEED_HEADER = [
    "sku",
    "barcodes",
    "name_en",
    "name_th",
    "brand",
    "spec",
    "category",
    "price",
    "unit",
    "image_url",
    "supplier_code",
]
UNITS = {"PCS": "each", "EA": "each", "KG": "kg"}


def minor_units(text: str, decimals: int = 2) -> str:
    """'1.049,00' -> '104900'. Left as it is (HQ reports the row) when it is not a price."""
    clean = text.strip().replace(" ", "").replace(".", "").replace(",", ".")
    try:
        value = Decimal(clean) * (10**decimals)
    except InvalidOperation:
        return text
    return str(int(value)) if value == value.to_integral_value() else text


def convert(supplier_csv: str) -> bytes:
    """The supplier's rows as a kassa feed CSV (UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FEED_HEADER)
    for rec in csv.DictReader(io.StringIO(supplier_csv), delimiter=";"):
        code = rec["ItemCode"].strip()
        writer.writerow(
            [
                code,
                rec["EAN Code"].strip(),
                rec["Description (EN)"].strip(),
                rec["Description (TH)"].strip(),
                rec["Brand"].strip(),
                rec["Pack Size"].strip(),
                "/".join(p.strip() for p in rec["Product Group"].split(">")),
                minor_units(rec["RRP THB"]),
                UNITS.get(rec["UoM"].strip().upper(), rec["UoM"].strip()),
                rec["Picture URL"].strip(),
                code,
            ]
        )
    return out.getvalue().encode("utf-8")


def post(cloud: str, feed: str, credential: str, body: bytes, file_name: str) -> dict:
    url = f"{cloud.rstrip('/')}/v1/feed/{feed}/files?file={file_name}"
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {credential}", "Content-Type": "text/csv"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return {"http_status": exc.code, **json.loads(exc.read() or b"{}")}


def drop(inbox: Path, body: bytes, file_name: str) -> Path:
    tmp = inbox / f".{file_name}.part"
    tmp.write_bytes(body)
    target = inbox / file_name
    os.replace(tmp, target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--supplier", type=Path, default=HERE / "sample_supplier.csv")
    ap.add_argument("--cloud", help="HQ cloud address, e.g. http://127.0.0.1:8300")
    ap.add_argument("--feed", default="acme", help="the feed's name at HQ")
    ap.add_argument("--credential", default=os.environ.get("KASSA_FEED_CREDENTIAL", ""))
    ap.add_argument("--inbox", type=Path, help="drop the file into this inbox folder instead")
    ap.add_argument("--file-name", default="supplier.csv")
    args = ap.parse_args(argv)
    body = convert(args.supplier.read_text(encoding="utf-8-sig"))
    if args.inbox:
        print(f"dropped {drop(args.inbox, body, args.file_name)}")
        return 0
    if not args.cloud or not args.credential:
        ap.error("--cloud and --credential (or $KASSA_FEED_CREDENTIAL), or --inbox")
    report = post(args.cloud, args.feed, args.credential, body, args.file_name)
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if not report.get("ok"):
        return 1
    for bad in report.get("bad_rows", []):
        print(f"row {bad['row']} {bad['field']}: {bad['code']}: {bad['message']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
