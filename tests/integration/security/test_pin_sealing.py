"""PIN hashes do not leave the store: the demo store (linked to its demo HQ cloud on loopback)
creates staff and changes PINs; neither its journal rows nor the rows HQ received hold an argon2
hash. The sealed hash opens only with the store's own key. A journal from before sealing (plain
argon2id hashes) still loads and its accounts still sign in."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from actors.journal import Journal, Pending
from actors.process import StoreProcess
from actors.staff import hash_pin, load_pin_key, unseal_pin_hash, verify_pin
from domain.errors import Conflict
from domain.events import encode_body, version_of
from domain.staff import SEALED_PREFIX, StaffCreated
from pinkit import call, journal_rows, journal_seq, sign_in

pytestmark = pytest.mark.ray

ARGON2 = b"$argon2"


def legacy_journal(data: Path) -> int:
    """A journal written before sealing: one account with a plain argon2id hash (PIN 5555)."""
    data.mkdir(parents=True)
    j = Journal(data / "journal.sqlite")
    body = StaffCreated("old1", "Old Timer", "cashier", "en", hash_pin("5555"))
    (env,) = j.append(
        [
            Pending(
                str(uuid.uuid4()),
                b"legacy",
                time.time_ns() // 1000,
                "staff.created",
                version_of("staff.created"),
                "demo",
                "",
                "127.0.0.1",
                "",
                encode_body(body),
            )
        ]
    )
    j.close()
    return env.seq


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("sealing") / "store"
    proc = StoreProcess(data, products=50)
    proc.legacy_seq = legacy_journal(data)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def hq_rows(store) -> list[tuple]:
    path = store.data.with_name(store.data.name + "-hq") / "stores" / "S001" / "events.sqlite"
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        con.close()


def test_a_journal_from_before_sealing_still_signs_in(store):
    r = sign_in(store.url, "old1", "5555", "O1")
    assert r.status == 200, r
    assert sign_in(store.url, "old1", "5556", "O1").code == "auth.bad_credentials"


def test_no_argon2_hash_reaches_hq(store):
    admin = sign_in(store.url, "admin", "0000", "ADM")
    assert admin.status == 200, admin
    tok = admin.json["token"]
    for body in (
        {"staff": "n1", "name": "New One", "role": "manager", "pin": "2468"},
        {"staff": "n1", "pin": "8642"},
        {"staff": "old1", "pin": "7531"},
        {"staff": "m1", "pin": "97531"},
    ):
        r = call(store.url, "POST", "/v1/staff", {"id": str(uuid.uuid4()), **body}, token=tok)
        assert r.status == 200, r
    assert sign_in(store.url, "n1", "8642", "N1").status == 200
    assert sign_in(store.url, "old1", "7531", "O1").status == 200
    last = journal_seq(store.data)
    end = time.time() + 240
    while time.time() < end:
        rows = hq_rows(store)
        if rows and rows[-1][0] >= last:
            break
        time.sleep(1)
    else:
        pytest.fail(f"HQ did not receive the journal up to {last}")
    # everything HQ holds after the legacy account, byte for byte: no argon2 hash
    later = [r for r in rows if r[0] > store.legacy_seq]
    assert len(later) >= last - store.legacy_seq
    for row in later:
        assert not any(ARGON2 in (c if isinstance(c, bytes) else str(c).encode()) for c in row), row
    # the journal holds the same: sealed blobs that open only with the store's key
    key = load_pin_key(store.data)
    sealed = [
        r
        for r in journal_rows(store.data, store.legacy_seq)
        if r["kind"] in ("staff.created", "staff.pin_changed")
    ]
    assert len(sealed) >= 6 + 4  # the demo's staff, then the changes above
    assert all(r["body"]["pin_hash"].startswith(SEALED_PREFIX) for r in sealed)
    n1 = [r["body"]["pin_hash"] for r in sealed if r["body"]["staff"] == "n1"][-1]
    assert verify_pin(unseal_pin_hash(key, "n1", n1), "8642")
    with pytest.raises(Conflict):  # bound to its account, and useless without the key
        unseal_pin_hash(key, "m1", n1)
    with pytest.raises(Conflict):
        unseal_pin_hash(bytes(32), "n1", n1)
