"""A command id resent after its basket was paid and the whole store server was killed and started
again has one effect: the till answers "duplicate", shows no old basket, and the next sale, a line
removal and a void work at once (before the fix the old basket came back and every further command
was refused with ``basket.closed`` until another restart). Both till placements."""

from __future__ import annotations

import os

import pytest

from actors.process import StoreProcess
from gwkit import error_code, new_id, sign_in

pytestmark = pytest.mark.ray


@pytest.mark.parametrize("placement", ["gateway", "actor"])
def test_a_scan_resent_after_payment_and_a_restart_changes_nothing(tmp_path, placement):
    os.environ["KASSA_TILL_PLACEMENT"] = placement
    try:
        st = StoreProcess(tmp_path / "store", products=300).start()
        try:
            c1 = sign_in(st.url, "c1", "T1")
            code = next(
                p["barcodes"][0]
                for p in c1.ok(c1.get("/v1/products", q="885", limit=50))
                if p["unit"] == "each" and p["barcodes"] and p["sellable"]
            )
            old = new_id()
            view = c1.ok(c1.cmd("scan", {"code": code}, cid=old))["view"]
            c1.ok(c1.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 10_000}]}))
            st.kill()
            st.start()
            c1 = sign_in(st.url, "c1", "T1")
            r = c1.ok(c1.cmd("scan", {"code": code}, cid=old))  # the kiosk resends its old id
            assert r["duplicate"] and r["view"]["basket"] is None and r["view"]["lines"] == []
            basket = c1.ok(c1.get("/v1/tills/T1/basket"))
            assert basket["basket"] is None
            r = c1.cmd("scan", {"code": code})
            assert r.status_code == 200, error_code(r)
            lines = r.json()["view"]["lines"]
            assert len(lines) == 1 and not r.json()["duplicate"]
            r = c1.cmd("remove", {"line_id": lines[0]["line_id"]})
            assert r.status_code == 200, error_code(r)
            r = c1.cmd("void", {"reason": "customer left"})
            assert r.status_code == 200, error_code(r)
        finally:
            st.stop()
    finally:
        os.environ.pop("KASSA_TILL_PLACEMENT", None)
