"""Backup and restore against real processes on loopback: the demo store server (with its demo HQ
cloud) sells on four tills while ``kassa store backup`` runs beside it; the backup restores to a
store whose journal verifies and whose sales and wallet balances equal the original's at the
backup's seq; HQ got the backup, refuses a wrong store secret, and its copy restores an empty
folder — with every event HQ received after the backup — into a store that sells again and
whose new events HQ accepts as the continuation of the same chain. A tampered file is refused.
Backups are encrypted with the store's key (``backup.key``): HQ holds only ciphertext, and a
restore without the key is refused."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from actors.backup import read_manifest, start_schedule
from actors.backup_schedule import read_status, status_lines
from actors.process import StoreProcess, free_port
from actors.store_file import update_store_json
from domain.backup_crypt import MAGIC
from domain.backup_format import archive_name
from gwkit import error_code, journal_seq, new_id, sign_in
from storekit import kassa, wait_for

pytestmark = pytest.mark.ray

TILLS = (("c1", "T1", "M0001"), ("c2", "T2", "M0002"), ("c3", "T3", "M0003"), ("m1", "T4", "M0004"))


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("backup")
    proc = StoreProcess(root / "store", products=300).start()
    state = {"root": root, "proc": proc, "hq": root / "store-hq"}
    try:
        yield state
    finally:
        proc.stop()
        cloud = state.get("cloud")
        if cloud is not None:
            cloud.terminate()
            cloud.wait(30)


def product_code(url: str) -> str:
    api = sign_in(url, "m1", "T4")
    rows = api.ok(api.get("/v1/products", q="885", limit=50))
    return next(
        p["barcodes"][0]
        for p in rows
        if p["unit"] == "each" and p["barcodes"] and p["sellable"] and p["price"] <= 5000
    )


def sell(
    url: str, staff: str, till: str, member: str, code: str, stop, out: list, waits: list
) -> None:
    """Sell until ``stop``; ``waits`` gets (when, seconds) of each scan, ``out`` the sales made
    (or what went wrong)."""
    api = sign_in(url, staff, till)
    n = 0
    try:
        while not stop.is_set():
            t = time.monotonic()
            view = api.ok(api.cmd("scan", {"code": code}))["view"]
            waits.append((t, time.monotonic() - t))
            total = view["total"]
            cash = [{"kind": "cash", "amount": total + 10_000}]
            tenders = (
                [{"kind": "wallet", "amount": total, "member": member}] if n % 3 == 2 else cash
            )
            r = api.cmd("pay", {"tenders": tenders})
            if r.status_code != 200 and tenders is not cash:  # the wallet ran dry
                r = api.cmd("pay", {"tenders": cash})
            assert r.status_code == 200, error_code(r)
            n += 1
    except BaseException as exc:  # reported by the test
        out.append(exc)
    out.append(n)


def truth(data: Path, upto: int) -> tuple[dict, dict]:
    """Orders and their total per till, and each member's wallet balance, from the journal's
    events up to seq ``upto``."""
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT kind, till, body FROM events WHERE seq <= ? AND kind IN "
        "('order.completed', 'wallet.topped_up')",
        (upto,),
    ).fetchall()
    con.close()
    sales: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wallets: Counter[str] = Counter()
    for kind, till, body in rows:
        b = json.loads(bytes(body))
        if kind == "wallet.topped_up":
            wallets[b["member"]] += b["amount"]
            continue
        sales[till][0] += 1
        sales[till][1] += b["total"]
        for p in b["payments"]:
            if p["kind"] == "wallet":
                wallets[p["member"]] -= p["amount"]
    return {t: tuple(v) for t, v in sales.items()}, dict(wallets)


def open_days(url: str) -> None:
    admin = sign_in(url, "admin", "ADM")
    for _, till, _ in TILLS[1:]:
        r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": 0})
        assert r.status_code == 200 or error_code(r) == "day.already_open", error_code(r)


def test_a_backup_taken_while_four_tills_sell_restores_with_the_same_totals(shop):
    proc, root = shop["proc"], shop["root"]
    open_days(proc.url)
    code = product_code(proc.url)
    stop, results = threading.Event(), {t: [] for _, t, _ in TILLS}
    waits: list[tuple[float, float]] = []
    threads = [
        threading.Thread(target=sell, args=(proc.url, s, t, m, code, stop, results[t], waits))
        for s, t, m in TILLS
    ]
    for th in threads:
        th.start()
    start_seq = journal_seq(proc.data)
    wait_for(lambda: journal_seq(proc.data) > start_seq + 40, 120, "sales before the backup")
    t0 = time.monotonic()
    out = kassa("store", "backup", "--data", str(proc.data), "--to", str(root / "bk"))
    took = time.monotonic() - t0
    time.sleep(1.0)  # the tills go on selling after the copy
    stop.set()
    for th in threads:
        th.join(120)
    for till, res in results.items():
        assert res and isinstance(res[-1], int) and res[-1] > 3, (till, res)
    assert out.returncode == 0, out.stderr
    during = [w for t, w in waits if t0 <= t <= t0 + took]
    print(f"backup took {took:.1f} s; {len(during)} scans meanwhile, longest {max(during):.3f} s")
    assert during and max(during) < 10  # the tills kept selling while it ran
    (archive,) = (root / "bk").glob("*.kbak")
    shop["archive"] = archive
    assert archive.read_bytes().startswith(MAGIC)  # sealed: what leaves the PC is ciphertext
    m = read_manifest(archive).to_dict()
    assert m["store"] == "S001" and str(archive.name).endswith(f"-{m['seq']}.kbak")
    final = journal_seq(proc.data)
    assert start_seq < m["seq"] < final, (start_seq, m["seq"], final, took)
    assert archive.stat().st_mode & 0o777 == 0o600
    sales, wallets = truth(proc.data, m["seq"])
    assert sum(n for n, _ in sales.values()) > 10 and len(sales) == 4
    assert any(w < 50_000 for w in wallets.values())  # wallets were spent before the backup

    restored = root / "restored"
    out = kassa("store", "restore", "--data", str(restored), "--from", str(archive))
    assert out.returncode == 1 and "--key" in out.stderr and not restored.exists(), out.stderr
    shop["key"] = root / "kept-backup.key"  # the owner's copy, kept away from the store PC
    shop["key"].write_text((proc.data / "backup.key").read_text())
    out = kassa(
        "store", "restore", "--data", str(restored), "--from", str(archive),
        "--key", str(shop["key"]),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"seq {m['seq']}" in out.stdout
    out = kassa("journal", "verify", "--data", str(restored))
    assert out.returncode == 0, out.stdout + out.stderr
    assert truth(restored, 10**12) == (sales, wallets)
    # the copy is inspected here, not put back to work: it must not upload a second history
    update_store_json(restored, cloud_url=None)
    copy = StoreProcess(restored, demo=False).start()
    try:
        m1 = sign_in(copy.url, "m1", "T4")
        day = m1.ok(m1.get("/v1/day"))["today"]
        rows = m1.ok(m1.get("/v1/reports/sales", by="till", day=day))
        got = {r["till"]: (r["orders"], r["net_sales"]) for r in rows if r["orders"]}
        assert got == sales, (got, sales)
        for member, balance in wallets.items():
            assert m1.ok(m1.get(f"/v1/members/{member}"))["balance"] == balance
    finally:
        copy.stop()


def test_the_servers_schedule_backs_up_prunes_and_reports_an_unplugged_disk(shop):
    """``start_schedule`` as the server calls it, on the stopped copy restored above: the backup
    runs in a child process into each folder of ``backup.dirs``; the missing one is reported and
    not created; the policy (here one a day) prunes yesterday's; the server's loop goes on."""
    data, root = shop["root"] / "restored", shop["root"]
    usb, unplugged = root / "usb", root / "unplugged" / "kassa"
    usb.mkdir()
    day_ago = int((time.time() - 2 * 86_400) * 1e6)
    (usb / archive_name("S001", day_ago, 1)).write_bytes(b"an old backup")
    update_store_json(
        data,
        backup={
            "dirs": [str(usb), str(unplugged)],
            "every_hours": 1,
            "first_delay_s": 0.1,
            "check_s": 0.2,
            "keep": {"daily": 1, "weekly": 0},
        },
    )

    async def run() -> dict:
        server = SimpleNamespace(data_dir=data)
        task = start_schedule(server)
        assert task is not None and server.backup_task is task
        end = time.monotonic() + 180
        while time.monotonic() < end and not read_status(data).get("last_ok_us"):
            await asyncio.sleep(0.2)
        assert not task.done()  # a missing folder never ends the schedule
        task.cancel()
        return read_status(data)

    status = asyncio.run(run())
    ok, missing = status["results"]
    assert ok["ok"] and (usb / ok["file"]).exists(), status
    assert [p.name for p in usb.iterdir()] == [ok["file"]]  # yesterday's pruned
    assert not missing["ok"] and "plugged in" in missing["error"]
    assert not unplugged.exists() and not unplugged.parent.exists()
    assert status["hq"] == {"ok": False, "skipped": "not linked to HQ"}
    assert read_manifest(usb / ok["file"]).reason == "scheduled"
    lines = "\n".join(status_lines(data))  # what kassa store status shows
    assert ok["file"] in lines and f"{unplugged}: missing: is the disk plugged in?" in lines


def test_a_tampered_backup_is_refused_and_nothing_is_restored(shop):
    archive, root = shop["archive"], shop["root"]
    bad = root / "tampered.kbak"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one byte inside the journal's member
    bad.write_bytes(bytes(raw))
    out = kassa(
        "store", "restore", "--data", str(root / "from-bad"), "--from", str(bad),
        "--key", str(shop["key"]),
    )  # fmt: skip
    assert out.returncode == 1
    assert "not restored" in out.stderr and "changed" in out.stderr, out.stderr
    assert not (root / "from-bad").exists()


def cloud_url(shop) -> str:
    return json.loads((shop["proc"].data / "store.json").read_text())["cloud_url"]


def hq_get(url: str, path: str, token: str, **params: str) -> requests.Response:
    """An HQ read with HQ's token."""
    auth = {"Authorization": f"Bearer {token}"}
    return requests.get(url + path, params=params, headers=auth, timeout=60)


def test_hq_holds_the_backup_and_refuses_a_wrong_store_secret(shop):
    url, token = cloud_url(shop), (shop["hq"] / "hq_token").read_text().strip()
    r = hq_get(url, "/v1/hq/backups", token, store="S001")
    assert r.status_code == 200, r.text
    (row,) = r.json()["backups"]
    assert row["name"] == shop["archive"].name and row["store"] == "S001"
    held = shop["hq"] / "stores" / "S001" / "backups" / row["name"]
    assert held.read_bytes() == shop["archive"].read_bytes()  # the ciphertext, as sent
    assert held.read_bytes().startswith(MAGIC)
    assert requests.get(f"{url}/v1/hq/backups", timeout=60).status_code == 401
    assert requests.get(f"{url}/v1/backups/latest", timeout=60).status_code == 401
    target = shop["root"] / "wrong-secret"
    out = restore_from_hq(target, url, "00" * 32, shop["key"])
    assert out.returncode == 1 and "credentials" in out.stderr, out.stderr
    assert not target.exists()


def restore_from_hq(data: Path, url: str, secret: str, key: Path) -> subprocess.CompletedProcess:
    return kassa(
        "store", "restore", "--data", str(data), "--from-hq", "--cloud", url,
        "--store", "S001", "--secret", secret, "--key", str(key),
    )  # fmt: skip


def hq_held(url: str, token: str) -> int:
    r = hq_get(url, "/v1/stores", token)
    return next(s["held"] for s in r.json()["stores"] if s["id"] == "S001")


def test_hqs_copy_restores_an_empty_folder_that_sells_again(shop):
    proc, root, hq = shop["proc"], shop["root"], shop["hq"]
    url, token = cloud_url(shop), (hq / "hq_token").read_text().strip()
    secret = (proc.data / "cloud_secret").read_text().strip()
    final = wait_for(
        lambda: (s := journal_seq(proc.data)) == hq_held(url, token) and s,
        240,
        "HQ holding the whole journal",
    )
    backup_seq = int(shop["archive"].name.rsplit("-", 1)[1].split(".")[0])
    assert final > backup_seq
    # the store PC dies; a new one restores from HQ into an empty folder
    proc.stop()
    port = free_port()
    shop["cloud"] = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kassa_cli.main",
            "cloud",
            "serve",
            "--data",
            str(hq),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(url + "/v1/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(up, 120, "HQ's cloud")
    new = root / "new-pc" / "data"
    out = restore_from_hq(new, url, secret, shop["key"])
    assert out.returncode == 0, out.stderr
    assert f"journal up to seq {final}" in out.stdout, out.stdout
    assert f"{final - backup_seq} later events received by HQ appended" in out.stdout
    assert kassa("journal", "verify", "--data", str(new)).returncode == 0
    assert truth(new, 10**12) == truth(proc.data, final)  # no sale HQ received is lost
    update_store_json(new, cloud_url=url)  # HQ moved to another port meanwhile
    store = StoreProcess(new, demo=False).start()
    try:
        c1 = sign_in(store.url, "c1", "T1")
        view = c1.ok(c1.cmd("scan", {"code": product_code(store.url)}))["view"]
        paid = c1.ok(c1.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"]}]}))
        assert paid["view"]["basket"] is None
        now = journal_seq(new)
        assert now > final
        wait_for(lambda: hq_held(url, token) >= now, 240, "HQ taking the new store's events")
        assert hq_get(url, "/v1/alerts", token, store="S001").json()["alerts"] == []
    finally:
        store.stop()
