"""Stock documents against a real ledger (no Ray, no sockets): a receipt written before receipts
named their supplier reads as v2 with the supplier its reference named; a PO received in part
stays open, in full is received, over-received is shown, closed refuses more; a count's approval
is decided in the ledger against the level at its commit (sales during the count included),
moves the levels once and survives a replay; transfers move levels out and in, once per
reference; the PO's PDF is a well-formed document."""

from __future__ import annotations

import re

import pytest

from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import StockReceived, decode_body
from domain.stock import StockBook
from domain.stock_docs import (
    ApproveCount,
    StockDocs,
    decide_count_lines,
    decide_count_start,
    decide_po,
    decide_receipt_lines,
    decide_transfer_received,
    decide_transfer_sent,
)
from domain.stock_export import po_csv, po_pdf
from tests.unit.conftest import cid


def docs_of(ledger) -> tuple[StockDocs, StockBook]:
    docs, levels = StockDocs(), StockBook()
    for e in ledger.read():
        body = e.decoded()
        docs.apply(body, e.ts)
        levels.apply(body)
    return docs, levels


def test_a_v1_receipt_reads_as_v2_with_the_supplier_its_reference_named():
    raw = b'{"sku":"SOAP","qty":24,"reference":"ACME/INV-889"}'
    body = decode_body("stock.received", raw, 1)
    assert body == StockReceived("SOAP", 24, "ACME/INV-889", "ACME", 0, "")
    assert decode_body("stock.received", b'{"sku":"S","qty":1}', 1).supplier == ""


def test_a_po_received_in_part_stays_open_in_full_is_received(shop):
    po = decide_po("PO-1", "ACME", [{"sku": "SOAP", "qty": 10, "unit_cost": 150},
                                    {"sku": "MILK-1L", "qty": 4, "unit_cost": 300}])  # fmt: skip
    shop.submit(po)
    docs, _ = docs_of(shop.ledger)
    for body in decide_receipt_lines([{"sku": "SOAP", "qty": 6}], docs.pos["PO-1"], "", "DN-1"):
        assert (body.supplier, body.unit_cost, body.po) == ("ACME", 150, "PO-1")
        shop.submit(body)
    docs, levels = docs_of(shop.ledger)
    st = docs.pos["PO-1"]
    assert st.state == "open" and st.outstanding("SOAP") == 4 and st.outstanding("MILK-1L") == 4
    assert levels.level("SOAP") == 6
    rest = [{"sku": "SOAP", "qty": 4}, {"sku": "MILK-1L", "qty": 5, "unit_cost": 310}]
    for body in decide_receipt_lines(rest, st):
        shop.submit(body)
    docs, levels = docs_of(shop.ledger)
    st = docs.pos["PO-1"]
    assert st.state == "received"
    rows = {r["sku"]: r for r in st.to_dict()["lines"]}
    assert rows["MILK-1L"]["over"] == 1 and rows["SOAP"]["outstanding"] == 0
    assert levels.level("MILK-1L") == 5
    with pytest.raises(Conflict) as exc:
        decide_receipt_lines([{"sku": "SOAP", "qty": 1}], st)
    assert exc.value.code == "stockdoc.po_closed"
    csv_text = po_csv(st.to_dict()).decode()
    assert csv_text.splitlines()[1].startswith("PO-1,ACME,,SOAP,10,150,10,0")


@pytest.mark.parametrize(
    "lines",
    [[], [{"sku": "A", "qty": 0}], [{"sku": "A", "qty": 1, "unit_cost": -1}],
     [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}], "A"],
)  # fmt: skip
def test_a_bad_po_is_refused(lines):
    with pytest.raises(InvalidInput):
        decide_po("PO-2", "ACME", lines)


def test_a_count_is_approved_against_the_level_at_its_commit_once(shop):
    shop.submit(StockReceived("SOAP", 10))
    shop.submit(decide_count_start("C1", "category", "household", True))
    docs, _ = docs_of(shop.ledger)
    cats = {"SOAP": "household", "MILK-1L": "dairy"}
    with pytest.raises(InvalidInput) as exc:
        decide_count_lines(docs.counts["C1"], "C1", [{"sku": "MILK-1L", "counted": 1}], cats)
    assert exc.value.code == "stockdoc.out_of_scope"
    shop.submit(decide_count_lines(docs.counts["C1"], "C1", [{"sku": "SOAP", "counted": 7}], cats))
    shop.do("add", {"sku": "SOAP", "qty": 1})  # sold while counting: expected is 9 at approval
    docs, _ = docs_of(shop.ledger)
    approve = ApproveCount("C1", dict(docs.counts["C1"].lines))
    key = cid()
    ack = shop.submit(approve, command_id=key, cmd=b"approve C1")
    assert ack.body.variances == (("SOAP", 10, 7),)  # not paid yet: the basket holds no stock
    again = shop.submit(approve, command_id=key, cmd=b"approve C1")
    assert again.duplicate and again.seq == ack.seq
    docs, levels = docs_of(shop.ledger)
    assert levels.level("SOAP") == 7 and shop.ledger.book.stock.level("SOAP") == 7
    assert docs.counts["C1"].state == "approved"
    assert docs.moves["SOAP"][-1][1:3] == ("count", -3)
    with pytest.raises(Conflict):
        decide_count_lines(docs.counts["C1"], "C1", [{"sku": "SOAP", "counted": 1}], cats)
    with pytest.raises(NotFound):
        decide_count_lines(None, "C9", [{"sku": "SOAP", "counted": 1}], cats)
    with pytest.raises(Conflict) as exc:
        shop.submit(ApproveCount("C2", {}))
    assert exc.value.code == "stockdoc.count_empty"


def test_transfers_move_levels_out_and_in_once_per_reference(shop):
    shop.submit(StockReceived("SOAP", 10))
    shop.submit(decide_transfer_sent("T-1", "S002", "S001", [{"sku": "SOAP", "qty": 3}]))
    with pytest.raises(InvalidInput):
        decide_transfer_sent("T-2", "S001", "S001", [{"sku": "SOAP", "qty": 1}])
    shop.submit(decide_transfer_received("T-9", "S003", [{"sku": "BREAD", "qty": 2}], set()))
    docs, levels = docs_of(shop.ledger)
    assert (levels.level("SOAP"), levels.level("BREAD")) == (7, 2)
    assert shop.ledger.book.stock.level("SOAP") == 7
    with pytest.raises(Conflict):
        decide_transfer_received("T-9", "S003", [{"sku": "BREAD", "qty": 2}], set(docs.received))


def test_the_po_pdf_is_a_well_formed_document():
    lines = [{"sku": f"SKU-{i}", "qty": i + 1, "unit_cost": 100} for i in range(120)]
    po = decide_po("PO-7", "Dairy Co", lines)
    st = StockDocs()
    st.apply(po, 0)
    data = po_pdf(st.pos["PO-7"].to_dict(), "S001", "THB")
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    assert data[start : start + 4] == b"xref"
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", data)]
    for n, off in enumerate(offsets, start=1):
        assert data[off:].startswith(f"{n} 0 obj".encode())
    assert len(re.findall(rb"/Type /Page\b", data)) == 3  # 120 lines + total, 50 a page
    assert b"(Purchase order PO-7) '" in data and b"(SKU-119 " in data


def test_approved_counts_and_transfers_are_stock_movements_in_analytics(shop):
    from analytics.flatten import flatten

    shop.submit(StockReceived("SOAP", 10, "INV-1", "ACME", 150))
    shop.submit(decide_transfer_sent("T-1", "S002", "S001", [{"sku": "SOAP", "qty": 3}]))
    shop.submit(decide_transfer_received("T-2", "S003", [{"sku": "SOAP", "qty": 1}], set()))
    shop.submit(ApproveCount("C1", {"SOAP": 5}))
    moves = flatten(shop.ledger.read(), "S001", "UTC")["stock_movements"]
    rows = moves.select("kind", "delta", "counted", "reference").rows()
    assert rows == [
        ("received", 10, None, "INV-1"),
        ("transfer_out", -3, None, "T-1"),
        ("transfer_in", 1, None, "T-2"),
        ("counted", -3, 5, "C1"),
    ]
    assert sum(moves["delta"]) == 5 == shop.ledger.book.stock.level("SOAP")
