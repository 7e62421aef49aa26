"""Over a real store server on loopback: a sale's receipt, printed to the loopback printer the way
the till prints it (the order as the store answered, the store's settings from /v1/config),
carries the shop's tax id, the local date, the short order number and a CODE128 of it; after-sales
finds the order by that number as scanned or typed; a refund gets its own short number, printed
the same way, and it finds the order too. ``kassa hw`` runs as a command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from actors.process import StoreProcess
from domain.store import StoreConfig
from gwkit import Api, error_code, new_id, sign_in
from hw.queue import PrintQueue

pytestmark = pytest.mark.ray

TAX_ID = "0105559000123"
ZONE = "Pacific/Kiritimati"  # UTC+14: the local date is rarely the UTC one


def code128(number: str) -> bytes:
    """ESC/POS CODE128, code set B: GS k 73 n "{B" data."""
    data = b"{B" + number.encode()
    return b"\x1dkI" + bytes([len(data)]) + data


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("receipt") / "store"
    data.mkdir(parents=True)
    settings = {"auth": {"ip_free_failures": 1000}, "tax_id": TAX_ID, "zone": ZONE}
    (data / "store.json").write_text(json.dumps(settings))
    proc = StoreProcess(data, products=50).start()
    try:
        yield proc
    finally:
        proc.stop()


def open_day(admin: Api, till: str) -> None:
    r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": 50_000})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text


@pytest.fixture(scope="module")
def sold(store):
    """One cash sale at T1, as the till's pay command answered it."""
    admin = sign_in(store.url, "admin", "ADM")
    for till in ("T1", "AS1"):
        open_day(admin, till)
    rows = admin.ok(admin.get("/v1/products", q="885", limit=50))
    code = next(p["barcodes"][0] for p in rows if p["unit"] == "each" and p["barcodes"])
    c1 = sign_in(store.url, "c1", "T1")
    total = c1.ok(c1.cmd("scan", {"code": code}))["view"]["total"]
    return c1.ok(c1.cmd("pay", {"tenders": [{"kind": "cash", "amount": total + 10_000}]}))["order"]


def printed(store, tmp_path, loopback_printer, submit) -> bytes:
    """Print through the till's print queue with the store's own settings; the captured job."""
    config = StoreConfig.from_dict(requests.get(store.url + "/v1/config", timeout=30).json())
    assert config.tax_id == TAX_ID
    printer = {"kind": "network", "host": "127.0.0.1", "port": loopback_printer.port, "timeout": 5}
    with PrintQueue(tmp_path, printer, config) as q:
        submit(q)
        assert q.wait_idle(60)
    jobs = loopback_printer.wait_jobs(1, timeout=30)
    assert len(jobs) == 1
    return jobs[0]


def test_sale_receipt_carries_date_tax_id_and_short_number_as_barcode(
    store, sold, tmp_path, loopback_printer
):
    number = sold["number"]
    assert number == "T1-000001"
    job = printed(store, tmp_path, loopback_printer, lambda q: q.submit(sold, "en", till="T1"))
    assert code128(number) in job
    assert number.encode() in job and TAX_ID.encode() in job
    local = datetime.fromtimestamp(sold["ts"] / 1e6, UTC).astimezone(ZoneInfo(ZONE))
    assert f"{local:%b} {local.day}, {local.year} {local:%H:%M}".encode() in job
    assert sold["order_id"].encode() not in job


def test_after_sales_finds_the_order_by_its_number(store, sold):
    a1 = sign_in(store.url, "a1", "AS1")
    for typed in (sold["number"], "t1-1", "T1-000001 "):
        found = a1.ok(a1.get("/v1/orders", q=typed))
        assert [r["order"]["order_id"] for r in found] == [sold["order_id"]], typed


def test_refund_has_its_own_number_printed_and_found(store, sold, tmp_path, loopback_printer):
    a1 = sign_in(store.url, "a1", "AS1")
    line = sold["lines"][0]["line_id"]
    res = a1.ok(
        a1.post(
            f"/v1/orders/{sold['order_id']}/refund",
            {
                "id": new_id(),
                "lines": {line: 1},
                "reason": "broken",
                "approval": {"staff": "m1", "pin": "9999"},
            },
        )
    )
    refund = res["result"]
    assert refund["number"] == "R-AS1-000001"
    job = printed(
        store,
        tmp_path,
        loopback_printer,
        lambda q: q.submit_refund(refund, "en", original=sold, till="AS1"),
    )
    assert code128("R-AS1-000001") in job and b"T1-000001" in job
    assert refund["refund_id"].encode() not in job
    found = a1.ok(a1.get("/v1/orders", q="R-AS1-000001"))
    assert [r["order"]["order_id"] for r in found] == [sold["order_id"]]
    assert found[0]["refund_numbers"] == ["R-AS1-000001"]


def test_kassa_hw_runs_as_a_command(tmp_path, loopback_printer):
    def kassa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kassa_cli.main", "hw", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    helped = kassa("--help")
    assert helped.returncode == 0
    for action in ("preview", "test-print", "status", "drawer", "display", "printers", "jobs"):
        assert action in helped.stdout
    printer = json.dumps({"kind": "network", "host": "127.0.0.1", "port": loopback_printer.port})
    done = kassa("test-print", "--printer", printer, "--lang", "en")
    assert done.returncode == 0, done.stderr
    job = loopback_printer.wait_jobs(1, timeout=30)[0]
    assert code128("DEMO-000001") in job and b"kassa demo shop" in job
    bad = kassa("test-print", "--printer", "{host: 1}")
    assert bad.returncode == 2 and "--printer is not JSON" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("lang", ["en", "zh", "th", "ar"])
def test_sale_refund_and_reprint_previews(lang, artifacts):
    """The receipts people look at, saved for a person to check (artifacts/receipts/)."""
    from hw.cli import main

    for kind, extra in (("sale", []), ("refund", ["--refund"]), ("reprint", ["--copy"])):
        for paper in ("80", "58"):
            out = artifacts / f"receipt-{kind}-{lang}-{paper}.png"
            assert (
                main(["preview", "--lang", lang, "--paper", paper, "--out", str(out), *extra]) == 0
            )
            assert out.stat().st_size > 5000
