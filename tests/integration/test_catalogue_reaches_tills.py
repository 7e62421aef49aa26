"""A product imported at the store reaches every till's next scan at once, in both till
placements, through the one path (``actors.shared_catalogue.SharedCatalogue``): the update marks
the till host's copy stale and the next command loads the new one — no wait for the periodic
version check."""

from __future__ import annotations

import os

import pytest

from actors.process import StoreProcess
from gwkit import error_code, new_id, sign_in

pytestmark = pytest.mark.ray


@pytest.mark.parametrize("placement", ["gateway", "actor"])
def test_a_new_price_and_a_new_product_reach_the_next_scan(tmp_path, placement):
    os.environ["KASSA_TILL_PLACEMENT"] = placement
    try:
        st = StoreProcess(tmp_path / "store", products=300).start()
        try:
            c1 = sign_in(st.url, "c1", "T1")
            m1 = sign_in(st.url, "m1", "T2")  # the back office, beside the till
            p = next(
                p
                for p in c1.ok(c1.get("/v1/products", q="885", limit=50))
                if p["unit"] == "each" and p["barcodes"] and p["sellable"]
            )
            code = p["barcodes"][0]
            first = c1.ok(c1.cmd("scan", {"code": code}))["view"]["lines"][-1]
            assert first["unit_price"] == p["price"]
            new_price = p["price"] + 1234
            fresh = "8859999999992"  # a product the shop did not have
            rows = [
                {
                    **{k: p[k] for k in ("sku", "names", "barcodes", "unit", "tax_class")},
                    "price": new_price,
                },
                {"sku": "NEW-1", "names": {"en": "New thing"}, "price": 777, "barcodes": [fresh]},
            ]
            r = m1.post("/v1/products/import", {"id": new_id(), "products": rows})
            assert r.status_code == 200, error_code(r)
            lines = c1.ok(c1.cmd("scan", {"code": code}))["view"]["lines"]
            assert lines[-1]["unit_price"] == new_price, lines[-1]
            lines = c1.ok(c1.cmd("scan", {"code": fresh}))["view"]["lines"]
            assert lines[-1]["sku"] == "NEW-1" and lines[-1]["unit_price"] == 777
        finally:
            st.stop()
    finally:
        os.environ.pop("KASSA_TILL_PLACEMENT", None)
