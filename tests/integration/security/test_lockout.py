"""Lock-out is not a denial of service: one LAN address guessing is made to wait before it can lock
the manager or the admin; a lock that expires starts the count afresh; the data folder's owner
unlocks the admin (or sets a PIN) from the store PC whether the server runs or not, and no other
local account can. A real store server on loopback, with a 5-second lock to see one expire."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from actors.process import StoreProcess
from pinkit import journal_rows, journal_seq, sign_in, write_policy
from seckit import run_as_other

pytestmark = pytest.mark.ray

LIMIT, LOCK_S = 10, 5


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("lockout") / "store"
    write_policy(data, lock_s=LOCK_S)
    proc = StoreProcess(data, products=50).start()
    try:
        yield proc
    finally:
        proc.stop()


def lock(store, staff: str, net: str) -> None:
    """LIMIT wrong PINs for ``staff``, each from its own address (no back-off applies)."""
    for i in range(LIMIT):
        r = sign_in(store.url, staff, "0101", "X1", src=f"{net}.{i + 1}")
        assert r.code == "auth.bad_credentials", r
    r = sign_in(store.url, staff, "0101", "X1", src=f"{net}.200")
    assert r.code == "auth.locked", r


def kassa(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_one_address_guessing_is_throttled_before_it_locks_the_manager_or_the_admin(store):
    seq = journal_seq(store.data)
    answers = [
        sign_in(store.url, ("m1", "admin", "c1", "a1")[i % 4], "5678", "Z1", src="127.0.4.1")
        for i in range(30)
    ]
    assert [a.code for a in answers[:5]] == ["auth.bad_credentials"] * 5
    assert {a.code for a in answers[5:]} == {"auth.throttled"}
    assert all(a.status == 429 for a in answers[5:])
    assert 1 <= answers[5].details["retry_after_s"] <= 60
    assert int(answers[5].headers["Retry-After"]) == answers[5].details["retry_after_s"]
    # only the five that were let through were checked
    assert len(journal_rows(store.data, seq, "auth.pin_attempt")) == 5
    # the manager and the admin still sign in, from their own tills
    assert sign_in(store.url, "m1", "9999", "M1", src="127.0.4.2").status == 200
    assert sign_in(store.url, "admin", "0000", "AD", src="127.0.4.3").status == 200
    # while the guessing address must still wait, even with a right PIN
    assert sign_in(store.url, "c1", "1111", "Z1", src="127.0.4.1").code == "auth.throttled"


def test_an_expired_lock_starts_the_count_afresh(store):
    lock(store, "c2", "127.0.5")
    r = sign_in(store.url, "c2", "2222", "Y1", src="127.0.5.201")
    assert r.code == "auth.locked" and 1 <= r.details["retry_after_s"] <= LOCK_S + 1, r
    time.sleep(LOCK_S + 0.5)
    r = sign_in(store.url, "c2", "0101", "Y1", src="127.0.5.202")  # one typo after the lock
    assert r.code == "auth.bad_credentials" and r.details["failures_left"] == LIMIT - 1, r
    assert sign_in(store.url, "c2", "2222", "Y1", src="127.0.5.203").status == 200


def test_the_owner_unlocks_the_admin_and_sets_a_pin_while_the_server_runs(store):
    lock(store, "admin", "127.0.6")
    seq = journal_seq(store.data)
    p = kassa("store", "unlock", "--data", str(store.data), "admin", "--reason", "test")
    assert p.returncode == 0, p.stderr
    assert "server running" in p.stdout
    rows = journal_rows(store.data, seq)
    assert [(r["kind"], r["ip"], r["body"]["staff"]) for r in rows] == [
        ("staff.unlocked", "store-pc", "admin")
    ]
    assert sign_in(store.url, "admin", "0000", "AD", src="127.0.6.201").status == 200
    p = kassa(
        "store", "set-pin", "--data", str(store.data), "admin", "--pin-stdin", stdin="24680\n"
    )
    assert p.returncode == 0, p.stderr
    assert (
        sign_in(store.url, "admin", "0000", "AD", src="127.0.6.202").code == "auth.bad_credentials"
    )
    assert sign_in(store.url, "admin", "24680", "AD", src="127.0.6.203").status == 200


def _open_path_to(path: Path) -> list[tuple[Path, int]]:
    """Let any account traverse the folders down to ``path`` (as a careless owner might);
    returns what to restore."""
    changed = []
    for d in [*reversed(path.parents), path]:
        mode = stat.S_IMODE(d.stat().st_mode)
        if mode & 0o001 == 0:
            changed.append((d, mode))
            os.chmod(d, mode | 0o001)
    return changed


def test_no_other_local_account_can_unlock(store):
    lock(store, "c3", "127.0.7")
    sock = store.data / "admin.sock"
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    r = run_as_other(f"""
        from kassa_cli.main import main
        raise SystemExit(main(["store", "unlock", "--data", {str(store.data)!r}, "c3"]))
    """)  # the data folder is the owner's: the command cannot reach it
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "cannot reach the store's data folder" in r.stderr, r.stderr
    # even with the folders opened up and the socket made world-writable, the server asks the
    # kernel who is calling and refuses
    restore = _open_path_to(store.data)
    os.chmod(sock, 0o666)
    try:
        r = run_as_other(f"""
            import json, socket
            s = socket.socket(socket.AF_UNIX)
            s.connect({str(sock)!r})
            try:
                s.sendall(json.dumps({{"op": "unlock", "staff": "c3"}}).encode() + b"\\n")
            except BrokenPipeError:
                pass  # refused at once: the answer is already waiting
            print(s.makefile().readline())
        """)
    finally:
        os.chmod(sock, 0o600)
        for d, mode in restore:
            os.chmod(d, mode)
    assert "local.refused" in r.stdout, (r.stdout, r.stderr)
    assert sign_in(store.url, "c3", "3333", "C3", src="127.0.7.201").code == "auth.locked"


def test_recovery_journals_directly_while_the_server_is_stopped(tmp_path):
    """No server (no Ray): the commands journal through the ledger's own checks; a lost pin_key is
    recovered by setting the PIN again; a folder held by a server is left alone."""
    from actors.ledger import Ledger, Request
    from actors.staff import load_pin_key, sealed_pin, unseal_pin_hash, verify_pin
    from domain.staff import PinAttempted, StaffCreated

    data = tmp_path / "store"
    data.mkdir()
    key = load_pin_key(data)
    ledger = Ledger(data / "journal.sqlite")
    ledger.submit(
        Request(
            str(uuid.uuid4()),
            b"c",
            StaffCreated("admin", "Admin", "admin", "en", sealed_pin(key, "admin", "0000")),
        )
    )
    for _ in range(LIMIT):
        ledger.submit(
            Request(
                str(uuid.uuid4()),
                b"a",
                PinAttempted("admin", "T1", "sign_in", LIMIT, 1800, time.time_ns() // 1000),
            )
        )
    assert ledger.book.staff.account("admin").locked_until > 0
    ledger.journal.close()

    p = kassa("store", "unlock", "--data", str(data), "admin")
    assert p.returncode == 0 and "server stopped" in p.stdout, p.stderr
    os.unlink(data / "pin_key")  # the key is lost: the old sealed PIN cannot be read any more
    p = kassa("store", "set-pin", "--data", str(data), "admin", "--pin-stdin", stdin="13579\n")
    assert p.returncode == 0, p.stderr
    ledger = Ledger(data / "journal.sqlite")
    acc = ledger.book.staff.account("admin")
    ledger.journal.close()
    assert acc.failures == 0 and acc.locked_until == 0
    new_key = load_pin_key(data)
    assert new_key != key and stat.S_IMODE((data / "pin_key").stat().st_mode) == 0o600
    assert verify_pin(unseal_pin_hash(new_key, "admin", acc.pin_hash), "13579")

    # a server holding the folder (its lock) but not answering: nothing is written beside it
    import fcntl

    seq = journal_seq(data)
    fd = os.open(data / "admin.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        p = kassa("store", "unlock", "--data", str(data), "admin")
    finally:
        os.close(fd)
    assert p.returncode == 1 and "local.server_busy" in p.stderr
    assert journal_seq(data) == seq
    # a stale socket left by a crashed server is no obstacle
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(data / "admin.sock"))
    s.close()
    p = kassa("store", "set-pin", "--data", str(data), "admin", "--pin-stdin", stdin="11223\n")
    assert p.returncode == 0, p.stderr


def test_the_back_off_doubles_per_address_is_capped_and_forgets():
    """Without a server: the rules of ``actors.staff.Throttle`` on a manual clock."""
    from actors.staff import Throttle
    from domain.errors import Throttled
    from domain.store import AuthPolicy

    now = [1000.0]
    t = Throttle(
        AuthPolicy(ip_free_failures=2, ip_backoff_s=10, ip_backoff_max_s=25, ip_forget_s=100),
        clock=lambda: now[0],
    )

    def fail(ip: str) -> None:
        t.begin(ip)
        t.end(ip, True)

    def waits(ip: str) -> int:
        with pytest.raises(Throttled) as e:
            t.begin(ip)
        return e.value.details["retry_after_s"]

    fail("10.0.0.1")
    t.begin("10.0.0.1")
    t.end("10.0.0.1", False)  # a right PIN neither counts nor forgives
    fail("10.0.0.1")
    assert waits("10.0.0.1") == 10
    t.begin("10.0.0.2")  # another address is not affected
    t.end("10.0.0.2", False)
    now[0] += 10.5
    t.begin("10.0.0.1")
    assert waits("10.0.0.1") >= 1  # one attempt in flight at a time once throttled
    t.end("10.0.0.1", True)
    assert waits("10.0.0.1") == 20
    now[0] += 20.5
    fail("10.0.0.1")
    assert waits("10.0.0.1") == 25  # capped
    fail("2001:db8::1")
    fail("2001:db8::2")  # one /64 is one client
    assert waits("2001:db8::ffff") == 10
    assert waits("::ffff:10.0.0.1") == 25  # an IPv4-mapped address is the IPv4 one
    now[0] += 101
    t.begin("10.0.0.1")  # quiet for ip_forget_s: forgotten
