"""Payments through providers over real HTTP on loopback, one store for the module: a QR payment
is started, retried with the same key (one payment), confirmed and pays the order; a second Pay
using the same tender at the same time is refused; callbacks are checked against the provider's
secret; the wrong role is refused; a success after a timeout is recorded once, to give back."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from actors.payments.callback import SIG_HEADER, TS_HEADER, sign
from domain.promptpay import check_payload
from gwkit import Api, body_of, error_code, journal_rows, new_id, running_store, sign_in
from storekit import kassa, wait_for

pytestmark = pytest.mark.ray

TIMEOUT_S = 3
PAYMENTS = {
    "qr": "promptpay",
    "card": "card-sim",
    "promptpay": {"id": "0812345678", "id_type": "phone"},
    "card_sim": {"mode": "approve"},
    "timeout_s": TIMEOUT_S,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("pay") / "store"
    data.mkdir(parents=True)
    (data / "store.json").write_text(
        json.dumps({"auth": {"ip_free_failures": 1000}, "payments": PAYMENTS})
    )
    with running_store(data) as proc:
        yield proc


@pytest.fixture(scope="module")
def admin(store):
    return sign_in(store.url, "admin", "ADM")


@pytest.fixture(scope="module")
def codes(admin):
    rows = admin.ok(admin.get("/v1/products", q="885", limit=100))
    return [p["barcodes"][0] for p in rows if p["unit"] == "each" and p["barcodes"]][:6]


def till(store, admin, staff: str, till_id: str) -> Api:
    r = admin.post("/v1/day/open", {"id": new_id(), "till": till_id, "float": 10_000})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    return sign_in(store.url, staff, till_id)


def scan(api: Api, code: str) -> dict:
    return api.ok(api.cmd("scan", {"code": code}))["view"]


def start(api: Api, kind: str, amount: int, key: str | None = None) -> requests.Response:
    return api.post(
        f"/v1/tills/{api.till}/payments", {"id": key or new_id(), "kind": kind, "amount": amount}
    )


def begin(store, admin, code: str) -> tuple[Api, int, str]:
    """T1 signed in, ``code`` scanned, a QR payment started for the total."""
    t1 = till(store, admin, "c1", "T1")
    total = scan(t1, code)["total"]
    key = new_id()
    t1.ok(start(t1, "qr", total, key))
    return t1, total, key


def payment(api: Api, key: str) -> dict:
    return api.ok(api.get(f"/v1/tills/{api.till}/payments/{key}"))["payment"]


def pay(api: Api, tenders: list[dict]) -> requests.Response:
    return api.cmd("pay", {"tenders": tenders})


def events_of(store, key: str) -> list[str]:
    return [
        r[1]
        for r in journal_rows(store.data)
        if r[1].startswith("payment.") and body_of(r).get("key") == key
    ]


def callback(store, provider: str, body: dict, secret: bytes | None = None) -> requests.Response:
    raw = json.dumps(body).encode()
    ts = int(time.time())
    if secret is None:
        secret = bytes.fromhex((store.data / "payments" / f"{provider}.secret").read_text())
    return requests.post(
        f"{store.url}/v1/payments/callback/{provider}",
        data=raw,
        headers={
            "Content-Type": "application/json",
            TS_HEADER: str(ts),
            SIG_HEADER: sign(secret, ts, raw),
        },
        timeout=60,
    )


def test_a_qr_payment_retried_with_its_key_is_one_payment_and_pays_the_order(store, admin, codes):
    t1 = till(store, admin, "c1", "T1")
    total = scan(t1, codes[0])["total"]
    key = new_id()
    first = t1.ok(start(t1, "qr", total, key))["payment"]
    again = t1.ok(start(t1, "qr", total, key))["payment"]  # a lost reply: the till resends
    assert first["key"] == again["key"] == key and first["state"] == "pending"
    assert first["qr"] == again["qr"] and first["provider"] == "promptpay"
    fields = check_payload(first["qr"])  # a PromptPay payload with a good CRC
    assert fields["54"] == f"{total // 100}.{total % 100:02d}" and fields["53"] == "764"
    assert payment(t1, key)["state"] == "pending"
    r = pay(t1, [{"kind": "qr", "amount": total, "key": key}])
    assert (r.status_code, error_code(r)) == (409, "payment.tender_not_succeeded")
    done = t1.ok(t1.post(f"/v1/tills/T1/payments/{key}/confirm", {"reference": "KBANK-991"}))
    assert done["payment"]["state"] == "succeeded"
    order = t1.ok(pay(t1, [{"kind": "qr", "amount": total, "key": key}]))["order"]
    (p,) = order["payments"]
    assert (p["kind"], p["key"], p["provider"], p["reference"]) == (
        "qr",
        key,
        "promptpay",
        "KBANK-991",
    )
    assert events_of(store, key) == ["payment.started", "payment.succeeded"]


def test_a_card_retried_with_the_same_key_charges_once(store, admin, codes):
    t1 = till(store, admin, "c1", "T1")
    total = scan(t1, codes[1])["total"]
    key = new_id()
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda: answers.append(start(t1, "card", total, key)))
        for _ in range(3)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r.status_code for r in answers) == [200, 200, 200], [r.text for r in answers]
    st = wait_for(lambda: (s := payment(t1, key))["state"] == "succeeded" and s, 60, "approval")
    assert st["last4"] == "4242"
    t1.ok(pay(t1, [{"kind": "card", "amount": total, "key": key}]))
    assert events_of(store, key) == ["payment.started", "payment.succeeded"]


def test_a_second_pay_using_the_same_tender_at_the_same_time_is_refused(store, admin, codes):
    t1, t2 = till(store, admin, "c1", "T1"), till(store, admin, "c2", "T2")
    total = scan(t1, codes[2])["total"]
    assert scan(t2, codes[2])["total"] == total
    key = new_id()
    t1.ok(start(t1, "qr", total, key))
    t1.ok(t1.post(f"/v1/tills/T1/payments/{key}/confirm", {}))
    tender = [{"kind": "qr", "amount": total, "key": key}]
    out: dict[str, requests.Response] = {}
    go = threading.Barrier(2)

    def run(api: Api) -> None:
        go.wait()
        out[api.till] = pay(api, tender)

    threads = [threading.Thread(target=run, args=(a,)) for a in (t1, t2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert out["T1"].status_code == 200, out["T1"].text
    assert out["T2"].status_code == 409
    assert error_code(out["T2"]) in ("payment.tender_used", "payment.tender_mismatch")
    r = pay(t2, tender)  # and again, once T1's order holds it
    assert (r.status_code, error_code(r)) == (409, "payment.tender_used")
    t2.ok(t2.cmd("void", {"reason": "test"}))


def test_callbacks_are_checked_against_the_providers_secret(store, admin, codes):
    t1, total, key = begin(store, admin, codes[3])
    secret_file = store.data / "payments" / "promptpay.secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    body = {"key": key, "result": "success", "reference": "FORGED"}
    r = callback(store, "promptpay", body, secret=b"\0" * 32)
    assert (r.status_code, error_code(r)) == (403, "payment.bad_signature")
    assert payment(t1, key)["state"] == "pending"
    r = callback(store, "nobody", body, secret=b"\0" * 32)
    assert (r.status_code, error_code(r)) == (404, "payment.unknown_provider")
    res = kassa(
        "store", "payments", "simulate", "--data", str(store.data), "--url", store.url,
        "--key", key, "--result", "success", "--reference", "PP-CB-1",
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    st = payment(t1, key)
    assert (st["state"], st["reference"]) == ("succeeded", "PP-CB-1")
    t1.ok(pay(t1, [{"kind": "qr", "amount": total, "key": key}]))


def test_the_wrong_role_is_refused(store, admin, codes):
    t1 = till(store, admin, "c1", "T1")
    a1 = sign_in(store.url, "a1", "T3")
    r = a1.post("/v1/tills/T3/payments", {"id": new_id(), "kind": "qr", "amount": 100})
    assert (r.status_code, error_code(r)) == (403, "auth.forbidden")
    total = scan(t1, codes[4])["total"]
    key = new_id()
    t1.ok(start(t1, "qr", total, key))
    r = a1.post(f"/v1/tills/T1/payments/{key}/confirm", {})
    assert (r.status_code, error_code(r)) == (403, "auth.wrong_till")
    r = a1.post(f"/v1/tills/T3/payments/{key}/confirm", {})
    assert (r.status_code, error_code(r)) == (403, "auth.forbidden")
    r = t1.get("/v1/payments/refunds")  # a cashier does not see the refunds list
    assert (r.status_code, error_code(r)) == (403, "auth.forbidden")
    t1.ok(t1.post(f"/v1/tills/T1/payments/{key}/cancel", {}))
    t1.ok(t1.cmd("void", {"reason": "test"}))


def test_a_success_after_the_timeout_and_a_cash_sale_is_recorded_to_give_back(store, admin, codes):
    t1, total, key = begin(store, admin, codes[5])
    wait_for(lambda: payment(t1, key)["state"] == "timed_out", 60, "the timeout")
    order = t1.ok(pay(t1, [{"kind": "cash", "amount": total + 10_000}]))["order"]
    assert [p["kind"] for p in order["payments"]] == ["cash"]
    r = callback(store, "promptpay", {"key": key, "result": "success", "reference": "PP-LATE"})
    assert r.status_code == 200, r.text
    assert r.json()["payment"]["state"] == "late_success"
    again = callback(store, "promptpay", {"key": key, "result": "success", "reference": "PP-LATE"})
    assert again.status_code == 200  # the provider retries its callback: still recorded once
    assert events_of(store, key) == ["payment.started", "payment.timed_out", "payment.late_success"]
    late = admin.ok(admin.get("/v1/payments/refunds"))["payments"]
    mine = [p for p in late if p["key"] == key]
    assert [(p["amount"], p["reference"], p["action"]) for p in mine] == [
        (total, "PP-LATE", "refund")
    ]
