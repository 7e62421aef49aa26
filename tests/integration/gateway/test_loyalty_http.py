"""Loyalty over real HTTP on loopback, one store for the module (store.json gives the rules, so
they are journaled at start): an order naming a member earns points once (a retried pay does not
earn twice), points pay part of an order, a bearer coupon is used once by two tills paying at the
same time, a full refund gives the coupon's use and the points back, and the roles hold."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from gwkit import Api, error_code, journal_rows, new_id, running_store, sign_in

pytestmark = pytest.mark.ray

RULES = {
    "points_per_unit": 1,
    "unit": 100,
    "point_value": 10,
    "tiers": [{"name": "Gold", "by": "visits", "threshold": 2, "window_days": 30,
               "multiplier_bp": 20000, "discount_bp": 500}],
}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("loyalty") / "store"
    data.mkdir(parents=True)
    cfg = {"auth": {"ip_free_failures": 1000}, "loyalty": RULES}
    (data / "store.json").write_text(json.dumps(cfg))
    with running_store(data) as proc:
        yield proc


@pytest.fixture(scope="module")
def apis(store) -> dict[str, Api]:
    admin = sign_in(store.url, "admin", "ADM")
    for t in ("T1", "T2", "A1"):
        r = admin.post("/v1/day/open", {"id": new_id(), "till": t, "float": 10_000})
        assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    admin.ok(admin.post("/v1/members", {"id": new_id(), "member": "LM1", "name": "Lee"}))
    return {
        "c1": sign_in(store.url, "c1", "T1"),
        "c2": sign_in(store.url, "c2", "T2"),
        "a1": sign_in(store.url, "a1", "A1"),
        "m1": sign_in(store.url, "m1", "M1"),
    }


@pytest.fixture(scope="module")
def code(apis) -> str:
    rows = apis["m1"].ok(apis["m1"].get("/v1/products", q="885", limit=50))
    return next(p["barcodes"][0] for p in rows if p["unit"] == "each" and p["barcodes"])


def loyalty(api: Api) -> dict:
    return api.ok(api.get("/v1/members/LM1/loyalty"))


def sell(api: Api, code: str, tenders, cid: str | None = None, qty: int = 1) -> tuple[int, dict]:
    """Scan ``code`` ``qty`` times; pay with ``tenders(total)`` naming LM1."""
    for _ in range(qty):
        view = api.ok(api.cmd("scan", {"code": code}))["view"]
    r = api.cmd("pay", {"tenders": tenders(view["total"]), "member": "LM1"}, cid=cid)
    return view["total"], r


def cash(total: int) -> list[dict]:
    return [{"kind": "cash", "amount": total + 1_000}]


def test_the_rules_of_store_json_are_journaled_and_points_are_earned_once(store, apis, code):
    rows = [r for r in journal_rows(store.data) if r[1] == "loyalty.rules_set"]
    assert len(rows) == 1
    c1 = apis["c1"]
    assert loyalty(c1)["points"] == 0 and loyalty(c1)["tier"] is None
    cid = new_id()
    total, r = sell(c1, code, cash, cid, qty=3)
    assert r.status_code == 200, r.text
    earned = total // 100
    assert loyalty(c1)["points"] == earned
    again = c1.cmd("pay", {"tenders": cash(total), "member": "LM1"}, cid=cid)  # a lost reply
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert loyalty(c1)["points"] == earned  # derived from the one order: not earned twice
    assert not any("points" in json.loads(bytes(r[5])) for r in journal_rows(store.data)
                   if r[1] == "order.completed")  # fmt: skip


def test_points_pay_part_of_an_order(apis, code):
    c1 = apis["c1"]
    have = loyalty(c1)["points"]
    assert have > 0
    use = have - 1  # partial redemption: one point stays

    def tenders(total: int) -> list[dict]:
        part = min(use * 10, total)
        pts = -(-part // 10)
        return [{"kind": "points", "amount": part, "points": pts, "member": "LM1"}] + (
            cash(total - part) if total > part else []
        )

    total, r = sell(c1, code, tenders)
    assert r.status_code == 200, r.text
    part = min(use * 10, total)
    view = loyalty(c1)
    # one visit before this order: it earns at the base rate, and makes the member Gold
    assert view["points"] == have - (-(-part // 10)) + (total - part) // 100
    assert view["tier"]["name"] == "Gold" and view["next_tier"] is None
    too_many = [{"kind": "points", "amount": 10**6, "points": 10**5, "member": "LM1"}]
    _, r = sell(c1, code, lambda t: too_many[:0] + [{**too_many[0], "amount": t,
                                                      "points": -(-t // 10)}])  # fmt: skip
    assert error_code(r) in ("loyalty.insufficient_points",), r.text
    c1.ok(c1.cmd("void", {"reason": "test"}))


def test_a_bearer_coupon_pays_once_across_two_tills_and_a_full_refund_gives_it_back(apis, code):
    m1, c1, c2, a1 = apis["m1"], apis["c1"], apis["c2"], apis["a1"]
    assert (
        c1.post("/v1/coupons", {"id": new_id(), "kind": "amount", "value": 100}).status_code == 403
    )
    made = m1.ok(m1.post("/v1/coupons", {"id": new_id(), "kind": "amount", "value": 100}))
    coupon = made["code"]
    assert c1.ok(c1.get(f"/v1/coupons/{coupon}"))["left"] == 1
    views = [t.ok(t.cmd("scan", {"code": code}))["view"] for t in (c1, c2)]
    answers: dict[str, requests.Response] = {}

    def pay(api: Api, total: int) -> None:
        tenders = [{"kind": "coupon", "amount": 100, "reference": coupon}, *cash(total - 100)]
        answers[api.till] = api.cmd("pay", {"tenders": tenders})

    pairs = zip((c1, c2), views, strict=True)
    threads = [threading.Thread(target=pay, args=(t, v["total"])) for t, v in pairs]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    got = {t: r.status_code for t, r in answers.items()}
    assert sorted(got.values()) == [200, 409], {t: r.text for t, r in answers.items()}
    loser = next(t for t in (c1, c2) if got[t.till] == 409)
    assert error_code(answers[loser.till]) == "coupon.used_up"
    loser.ok(loser.cmd("void", {"reason": "test"}))
    order_id = next(r for r in answers.values() if r.status_code == 200).json()["order"]["order_id"]
    assert c1.ok(c1.get(f"/v1/coupons/{coupon}"))["left"] == 0
    a1.ok(a1.post(f"/v1/orders/{order_id}/refund", {"id": new_id(), "reason": "back"}))
    assert c1.ok(c1.get(f"/v1/coupons/{coupon}"))["left"] == 1


def test_rules_are_a_managers_and_bad_rules_are_refused(apis):
    c1, m1 = apis["c1"], apis["m1"]
    body = {"id": new_id(), "rules": {**RULES, "points_per_unit": 2}}
    assert c1.post("/v1/loyalty/rules", body).status_code == 403
    bad = m1.post("/v1/loyalty/rules", {"id": new_id(), "rules": {"unit": 0}})
    assert error_code(bad) == "loyalty.bad_rules"
    m1.ok(m1.post("/v1/loyalty/rules", body))
    assert m1.get("/v1/members/NOBODY/loyalty").status_code == 404
