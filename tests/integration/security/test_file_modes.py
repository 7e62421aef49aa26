"""The store's data folder is owner-only: a real store server trades for a while, then every file in
its data folder (journal and its -wal/-shm, auth_secret, cloud_secret, analytics copy, uploader
state, licence, settings) is 0600 and every folder 0700 — including files made after the start and
files an older version left readable — and another local account cannot read the journal."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest
import requests

from actors.process import StoreProcess
from actors.wire import run_dir
from gwkit import new_id, sign_in
from seckit import run_as_other

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def store():
    # a parent every account may pass through (pytest's own temporary folders are 0700 already,
    # which would hide a readable journal from the other account whatever the store did)
    base = Path(tempfile.mkdtemp(prefix="kassa-modes-"))
    os.chmod(base, 0o755)
    data = base / "store"
    data.mkdir()
    os.chmod(data, 0o755)  # as an older version left it, with a readable leftover inside
    (data / "leftover.json").write_text("{}")
    os.chmod(data / "leftover.json", 0o644)
    proc = StoreProcess(data, products=300).start()
    try:
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(base, ignore_errors=True)


def trade(store) -> None:
    """A sale, a top-up, a new till, a report (the analytics copy) and an upload."""
    m = sign_in(store.url, "m1", "FM1")
    m.ok(m.post("/v1/day/open", {"id": new_id(), "till": "FM1", "float": 1000}))
    p = [
        x
        for x in m.ok(m.get("/v1/products", q="885", limit=50))
        if x["unit"] == "each" and x["barcodes"] and x["sellable"]
    ][0]
    view = m.ok(m.cmd("scan", {"code": p["barcodes"][0]}))["view"]
    m.ok(m.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 10_000}]}))
    m.ok(m.post("/v1/members/M0002/topup", {"id": new_id(), "amount": 500}))
    m.ok(m.get("/v1/reports/x", scope="store"))
    end = time.time() + 90
    while time.time() < end:
        up = requests.get(store.url + "/v1/health", timeout=30).json()["upload"]
        if up.get("backlog_events") == 0:
            break
        time.sleep(0.5)


def test_every_file_is_0600_and_every_folder_0700(store):
    trade(store)
    files, bad = [], []
    run = run_dir(store.data)  # the internal sockets' folder: Ray's session lives inside it
    assert stat.S_IMODE(os.lstat(run).st_mode) == 0o700  # its contents: test_internal_sockets.py
    for root, dirs, names in os.walk(store.data):
        if Path(root) == run:
            dirs[:] = []
            continue
        for d in dirs:
            mode = stat.S_IMODE(os.lstat(os.path.join(root, d)).st_mode)
            if mode != 0o700:
                bad.append((os.path.join(root, d), oct(mode)))
        for n in names:
            p = os.path.join(root, n)
            mode = stat.S_IMODE(os.lstat(p).st_mode)
            files.append(os.path.relpath(p, store.data))
            if mode != 0o600:
                bad.append((p, oct(mode)))
    top = stat.S_IMODE(os.stat(store.data).st_mode)
    assert top == 0o700, oct(top)
    # the files that hold secrets and personal data are all there, so the check means something
    for name in (
        "journal.sqlite",
        "journal.sqlite-wal",
        "auth_secret",
        "analytics.duckdb",
        "store.json",
        "leftover.json",
        "catalogue.json",
        "tills.json",
    ):
        assert name in files, (name, sorted(files))
    assert any(f.startswith("licence" + os.sep) for f in files), sorted(files)
    assert bad == [], bad


def test_another_account_cannot_read_the_journal(store):
    secret_files = [
        str(store.data / n) for n in ("journal.sqlite", "auth_secret", "analytics.duckdb")
    ]
    probe = f"""
        import os
        out = []
        for p in {secret_files!r}:
            try:
                open(p, "rb").read(16)
                out.append("READ " + p)
            except PermissionError:
                out.append("DENIED")
        try:
            os.listdir({str(store.data)!r})
            out.append("LISTED")
        except PermissionError:
            out.append("DENIED")
        print(";".join(out))
    """
    r = run_as_other(probe)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ";".join(["DENIED"] * 4), r.stdout
    # the control: the same account reads a world-readable file beside the data folder, so what
    # stops it above is the data folder's modes
    public = store.data.parent / "public.txt"
    public.write_text("hello")
    os.chmod(public, 0o644)
    ok = run_as_other(f"print(open({str(public)!r}).read())")
    assert ok.returncode == 0 and ok.stdout.strip() == "hello", ok.stderr
