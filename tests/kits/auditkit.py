"""A scene for the operation-log tests (``GET /v1/audit`` and the manager counter's tab): a
cashier sells on till A1 from 127.0.0.1; the after-sales clerk refunds that order on till A2
from another loopback address, 127.0.0.2, so the log's address column means something."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gwkit import Api, new_id

REFUND_IP = "127.0.0.2"
PINS = {"c1": "1111", "a1": "4444", "m1": "9999", "admin": "0000"}


class _FromAddress(HTTPAdapter):
    """Connections from ``address`` (Linux answers any 127/8 address on loopback)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kw)


def signed_in(url: str, staff: str, till: str, address: str = "") -> Api:
    """A session of ``staff`` on ``till``, its requests sent from ``address`` when given."""
    api = Api(url, till)
    if address:
        api.s = requests.Session()
        api.s.mount("http://", _FromAddress(address))
    r = api.post("/v1/sessions", {"id": new_id(), "staff": staff, "pin": PINS[staff], "till": till})
    assert r.status_code == 200, r.text
    api.me = r.json()
    api.token = api.me["token"]
    return api


def refund_scene(url: str) -> dict[str, Any]:
    """Open the days of A1 and A2, sell one item on A1 (c1), refund it on A2 (a1, from
    ``REFUND_IP``, reason "damaged box"); returns the order, the refund's event and its ack."""
    admin = signed_in(url, "admin", "A9")
    for till in ("A1", "A2"):
        r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": 0})
        assert r.status_code == 200 or "already" in r.text, r.text
    products = admin.ok(admin.get("/v1/products", q="885", limit=50))
    code = next(p["barcodes"][0] for p in products if p["unit"] == "each" and p["barcodes"])
    c1 = signed_in(url, "c1", "A1")
    view = c1.ok(c1.cmd("scan", {"code": code}))["view"]
    paid = c1.ok(c1.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"]}]}))
    order = paid["order"]
    a1 = signed_in(url, "a1", "A2", REFUND_IP)
    res = a1.ok(
        a1.post(f"/v1/orders/{order['order_id']}/refund", {"id": new_id(), "reason": "damaged box"})
    )
    assert res["event"] == "order.refunded", res
    return {"order": order, "refund": res, "total": view["total"]}
