"""A purchase order as CSV (UTF-8, one row per line) and as a one-page-per-50-lines PDF written
here (PDF 1.4, the standard Helvetica font: no dependency). The PDF's standard font has Latin
letters only; other letters print as "?" there — the CSV keeps every name."""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["po_csv", "po_pdf", "pdf_document"]

ROWS_PER_PAGE = 50


def po_csv(po: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["po", "supplier", "expected", "sku", "qty", "unit_cost", "received", "outstanding"])
    for ln in po["lines"]:
        w.writerow(
            [
                po["po"],
                po["supplier"],
                po.get("expected", ""),
                ln["sku"],
                ln["qty"],
                ln["unit_cost"],
                ln["received"],
                ln["outstanding"],
            ]
        )
    return out.getvalue().encode("utf-8")


def _pdf_text(s: str) -> str:
    latin = s.encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_document(pages: list[list[str]]) -> bytes:
    """A PDF of A4 pages, each a list of text lines (Helvetica 10 pt, 14 pt apart)."""
    objs: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content = "BT /F1 10 Tf 14 TL 50 800 Td " + " ".join(f"({_pdf_text(t)}) '" for t in lines)
        stream = (content + " ET").encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def po_pdf(po: dict[str, Any], store: str, currency: str) -> bytes:
    head = [
        f"Purchase order {po['po']}",
        f"From store {store} to {po['supplier']}",
        f"Expected: {po.get('expected') or '-'}    State: {po['state']}",
        "",
        f"{'SKU':<20} {'Qty':>8} {'Unit cost':>12} {'Received':>9}",
    ]
    rows = [
        f"{ln['sku']:<20} {ln['qty']:>8} {ln['unit_cost']:>12} {ln['received']:>9}"
        for ln in po["lines"]
    ]
    rows.append("")
    rows.append(f"Total (minor units of {currency}): {po['value']}")
    pages = [head + rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)]
    return pdf_document(pages)


def stock_doc_moves(kind: str, body: dict[str, Any]) -> list[tuple[str, int, int | None, str]]:
    """The stock movements of a stock document's event as plain rows (the analytics flatten step
    reads bodies as dicts): (sku, delta, counted or None, reference)."""
    if kind == "count.approved":
        return [(s, c - e, c, body["count"]) for s, e, c in body["variances"]]
    sign = -1 if kind == "transfer.sent" else 1
    return [(s, sign * q, None, body["transfer"]) for s, q in body["lines"]]
