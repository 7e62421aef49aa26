"""The store's monitoring over real HTTP on loopback: the demo store (with its own HQ cloud on
loopback, linked) whose disk reports 50 MB free (``KASSA_FAKE_DISK_FREE_MB``, the disk probe's
fake). ``/metrics`` is scraped with the scrape token and as a manager (a cashier 403, nobody 401),
its figures are plausible after a sale; the low disk is an alert in ``/v1/alerts`` and, sent by
the store itself (signed like its uploads), in HQ's ``/v1/hq/store-health``."""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from actors.process import StoreProcess
from gwkit import Api, error_code, new_id, sign_in
from storekit import kassa, wait_for

pytestmark = [pytest.mark.ray, pytest.mark.timeout(900)]
STORE = "S001"
FREE_MB = 50
ENV = {"KASSA_FAKE_DISK_FREE_MB": str(FREE_MB), "KASSA_ALERTS_EVERY_S": "2",
       "KASSA_HEALTH_REPORT_S": "5"}  # fmt: skip


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    data = tmp_path_factory.mktemp("metrics") / "store"
    data.mkdir()
    # a slow, loaded test machine must not raise commit.slow: only the disk is low here
    settings = {"auth": {"ip_free_failures": 1000}, "alerts": {"commit_p99_ms": 60000}}
    (data / "store.json").write_text(json.dumps(settings))
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        st = StoreProcess(data, products=300).start()
    try:
        log = st.log_path.read_text()
        hq_url = re.search(r"kassa demo cloud \(HQ\) on (http://127\.0\.0\.1:\d+)", log).group(1)  # type: ignore[union-attr]
        hq_token = (data.with_name("store-hq") / "hq_token").read_text().strip()
        yield {"data": data, "store": st, "url": st.url, "hq": hq_url, "hq_token": hq_token}
    finally:
        st.stop()


def scrape(url: str, token: str) -> requests.Response:
    return requests.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text answer: (name, sorted labels) -> value."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sell_one(c1: Api) -> dict:
    product = next(
        p
        for p in c1.ok(c1.get("/v1/products", q="885", limit=50))
        if p["unit"] == "each" and p["barcodes"] and p["sellable"]
    )
    view = c1.ok(c1.cmd("scan", {"code": product["barcodes"][0]}))["view"]
    tenders = [{"kind": "cash", "amount": view["total"] + 10_000}]
    return c1.ok(c1.cmd("pay", {"tenders": tenders}))["order"]


def test_metrics_are_scraped_with_the_token_or_by_a_manager_only(shop):
    url, data = shop["url"], shop["data"]
    path = data / "metrics_token"
    token = path.read_text().strip()
    assert len(token) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    printed = kassa("store", "metrics-token", "--data", str(data))
    assert printed.returncode == 0 and printed.stdout.strip() == token
    # nobody and a wrong token: 401; a cashier's session: 403 naming the permission
    anon = requests.get(url + "/metrics", timeout=60)
    assert anon.status_code == 401, anon.text
    assert scrape(url, "0" * 64).status_code == 401
    c1 = sign_in(url, "c1", "T1")
    refused = c1.get("/metrics")
    assert refused.status_code == 403 and error_code(refused) == "auth.forbidden"
    assert refused.json()["error"]["details"]["action"] == "health.view"
    assert c1.get("/v1/alerts").status_code == 403
    # the token and a manager's session read it
    m1 = sign_in(url, "m1", "T2")
    as_manager = m1.get("/metrics")
    assert as_manager.status_code == 200, as_manager.text[:300]
    got = scrape(url, token)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/plain")
    assert "kassa_disk_free_bytes" in got.text


def test_figures_are_plausible_after_a_sale(shop):
    url, data = shop["url"], shop["data"]
    token = (data / "metrics_token").read_text().strip()
    before = samples(scrape(url, token).text)
    c1 = sign_in(url, "c1", "T1")
    sell_one(c1)
    assert requests.get(url + f"/v1/no-such-route/{new_id()}", timeout=60).status_code == 404
    after = samples(scrape(url, token).text)

    def value(name: str, **labels: str) -> float:
        return after[(name, tuple(sorted(labels.items())))]

    # commits as the gateway saw them: the scan and the payment at least
    till = ("kassa_commit_seconds_count", (("source", "till"),))
    assert after[till] - before.get(till, 0) >= 2
    assert value("kassa_commit_seconds_sum", source="till") < 60 * after[till]
    # request latency per route: the canonical path, never the till's own id or a raw URL
    cmds = value(
        "kassa_http_request_seconds_count", method="POST", route="/v1/tills/{till}/commands"
    )
    assert cmds >= 2
    routes = {dict(k[1]).get("route") for k in after if k[0].startswith("kassa_http_")}
    assert "(unmatched)" in routes and not any("T1" in r or "no-such" in r for r in routes if r)
    # the made-up disk, the journal on the real one, the PC, the licence, the catalogue
    assert value("kassa_disk_free_bytes") == FREE_MB * 1024 * 1024
    assert value("kassa_disk_total_bytes") > value("kassa_disk_free_bytes")
    journal = (data / "journal.sqlite").stat().st_size
    assert value("kassa_journal_bytes") >= journal > 0
    assert value("kassa_journal_seq") > 100  # the demo's products, staff, members and the sale
    assert value("kassa_system_memory_total_bytes") >= value("kassa_system_memory_available_bytes")
    assert value("kassa_server_resident_bytes") >= value("process_resident_memory_bytes") > 1e7
    assert 0 <= value("kassa_system_cpu_percent") <= 100
    assert value("kassa_licence_ok") == 1 and value("kassa_licence_grace_days_left") > 0
    assert value("kassa_licence_state", code="licence.ok") == 1
    assert value("kassa_catalogue_version") >= 1  # the demo HQ published its catalogue
    assert value("kassa_upload_backlog_events") >= 0
    assert value("kassa_alert", code="disk.low") == 1 and value("kassa_alerts_active") == 1
    assert abs(value("kassa_last_evaluation_timestamp_seconds") - time.time()) < 120


def test_low_disk_is_an_alert_at_the_store_and_at_hq(shop):
    url, hq, hq_token = shop["url"], shop["hq"], shop["hq_token"]
    m1 = sign_in(url, "m1", "T2")
    got = m1.ok(m1.get("/v1/alerts"))
    assert [a["code"] for a in got["alerts"]] == ["disk.low"], got["alerts"]
    disk = got["alerts"][0]
    assert disk["values"]["free_mb"] == FREE_MB and disk["values"]["limit_mb"] == 2048
    assert got["figures"]["disk_free_bytes"] == FREE_MB * 1024 * 1024
    assert got["thresholds"]["commit_p99_ms"] == 60000  # store.json's, the rest the defaults
    # HQ: the store sent its summary itself, signed; HQ's reads need HQ's credentials
    assert requests.get(hq + "/v1/hq/store-health", timeout=60).status_code == 401
    auth = {"Authorization": f"Bearer {hq_token}"}

    def at_hq() -> dict | None:
        r = requests.get(hq + "/v1/hq/store-health", params={"store": STORE}, headers=auth,
                         timeout=60)  # fmt: skip
        assert r.status_code == 200, r.text
        row = r.json()["stores"][0]
        return row if row["state"] == "alert" else None

    row = wait_for(at_hq, 120, "the store's health report at HQ")
    assert row["store"] == STORE and [a["code"] for a in row["alerts"]] == ["disk.low"]
    assert row["figures"]["disk_free_bytes"] == FREE_MB * 1024 * 1024 and row["received_us"]
    # HQ's own metrics: admin (HQ's token) only; the store's alert counted there
    assert requests.get(hq + "/metrics", timeout=60).status_code == 401
    text = requests.get(hq + "/metrics", headers=auth, timeout=60).text
    hq_samples = samples(text)
    assert hq_samples[("kassa_hq_store_alerts", (("store", STORE),))] == 1
    assert hq_samples[("kassa_hq_store_seq_held", (("store", STORE),))] > 0
    # a report HQ cannot tie to the store's secret is refused, and changes nothing
    forged = requests.post(
        hq + "/v1/health-report",
        data=json.dumps({"store": STORE, "alerts": []}),
        headers={"X-Kassa-Store": STORE, "X-Kassa-Timestamp": str(int(time.time())),
                 "X-Kassa-Nonce": os.urandom(16).hex(), "X-Kassa-Signature": "0" * 64},
        timeout=60,
    )  # fmt: skip
    assert forged.status_code == 401
    assert at_hq() is not None


def test_hq_health_report_checks(tmp_path: Path):
    """What HQ keeps of a report: plain figures and alerts about the store that signed it."""
    from cloud.hqhealth import BadReport, check_report

    ok = check_report(
        STORE,
        json.dumps(
            {"store": STORE, "evaluated_us": 5, "alerts": [{"code": "disk.low", "values": {}}]}
        ).encode(),
    )
    assert ok["alerts"][0]["code"] == "disk.low" and ok["evaluated_us"] == 5
    for bad in (
        b"[]",
        b"not json",
        json.dumps({"store": "S999"}).encode(),
        json.dumps({"alerts": [{"code": ""}]}).encode(),
        json.dumps({"figures": {"x": {"nested": 1}}}).encode(),
        b"{" + b" " * 70_000 + b"}",
    ):
        with pytest.raises(BadReport):
            check_report(STORE, bad)
