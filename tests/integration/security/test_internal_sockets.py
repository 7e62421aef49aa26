"""Another account on the store PC cannot reach the store server's internal sockets nor use its Ray,
and what those sockets receive is data: a pickle that would run code is refused unread.

One demo store server for the module, its data folder in a world-readable place (as /var/lib/kassa
would be), so that only the store's own controls stand between the other account and the sockets.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import PIPE

import msgspec
import pytest

from actors.process import StoreProcess
from actors.wire import run_dir, socket_name
from gwkit import journal_seq, quiet_journal_seq
from seckit import (
    OTHER_UID,
    as_other,
    listening_sockets,
    need_other_uid,
    run_as_other,
    session_pids,
    unix_listeners,
)

pytestmark = pytest.mark.ray

HEAD = struct.Struct("!I")


@pytest.fixture(scope="module")
def store():
    base = Path(tempfile.mkdtemp(prefix="kassa-sock-"))
    base.chmod(0o755)  # others may enter the data folder's parent, as on a real store PC
    proc = StoreProcess(base / "store", products=300).start()
    try:
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(base, ignore_errors=True)


# a forged wallet top-up of 999,999.00 with no session, as the old hot path would have journaled it
FORGE = r"""
import json, os, socket, struct, sys
import msgspec
from actors.ledger import LEDGER_METHODS, Request, command_hash
from domain.events import WalletToppedUp
out = {}
req = Request("f" * 36, command_hash("x", 1), WalletToppedUp("M1", 99_999_900, "cash"),
              "m1", "T1", "127.0.0.1")
payload = msgspec.msgpack.encode((1, "submit", LEDGER_METHODS["submit"].dump_arg(req)))
frame = struct.pack("!I", len(payload)) + payload
try:
    out["list_run_dir"] = sorted(os.listdir(RUN))
except OSError as exc:
    out["list_run_dir"] = type(exc).__name__
for path in PATHS:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path.replace("@", "\0", 1) if path.startswith("@") else path)
    except OSError as exc:
        out[path] = type(exc).__name__
        continue
    try:
        s.sendall(frame)
        out[path] = "answered: " + repr(s.recv(65536)[:200])
    except OSError as exc:
        out[path] = "connected, then " + type(exc).__name__
    finally:
        s.close()
print(json.dumps(out))
"""


def forge_as_other(paths: list[str], run: Path) -> dict:
    code = f"RUN = {str(run)!r}\nPATHS = {paths!r}\n" + FORGE
    res = run_as_other(code, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_another_account_can_neither_find_nor_reach_the_internal_sockets(store):
    need_other_uid()
    data = store.data
    listeners = unix_listeners(session_pids(store.proc.pid))
    ledger = socket_name(data.absolute(), "ledger")
    assert ledger in listeners  # the hot path's socket, as a file…
    assert not [p for p in listeners if p.startswith("@")]  # …and nothing in the abstract namespace
    run = run_dir(data.absolute())
    assert run.stat().st_mode & 0o777 == 0o700 and run.stat().st_uid == os.geteuid()
    before = quiet_journal_seq(data)
    # every Unix socket the server listens on (its own and Ray's), and where the old code listened
    old_name = (
        "@kassa-" + hashlib.sha256(str(data.absolute()).encode()).hexdigest()[:16] + "-ledger"
    )
    out = forge_as_other(listeners + [old_name], run)
    assert out.pop("list_run_dir") == "PermissionError"
    assert out[ledger] == "PermissionError"
    for path, outcome in out.items():
        assert outcome in ("PermissionError", "ConnectionRefusedError", "FileNotFoundError"), (
            path,
            outcome,
        )
    assert journal_seq(data) == before


def test_the_server_hangs_up_on_another_user_even_with_the_folder_opened(store):
    """Defence in depth: were the folder's and socket's modes opened by mistake, the ledger asks the
    kernel who connected (SO_PEERCRED) and hangs up on anyone but its own user, unanswered."""
    need_other_uid()
    data = store.data
    run = run_dir(data.absolute())
    ledger = socket_name(data.absolute(), "ledger")
    before = quiet_journal_seq(data)
    try:  # the data folder (0700 since the store makes it owner-only) and its run folder
        data.chmod(0o711)
        run.chmod(0o711)
        os.chmod(ledger, 0o666)
        out = forge_as_other([ledger], run)
    finally:
        os.chmod(ledger, 0o600)
        run.chmod(0o700)
        data.chmod(0o700)
    assert out[ledger] in (
        "answered: b''",
        "connected, then ConnectionResetError",
        "connected, then BrokenPipeError",
    ), out
    assert journal_seq(data) == before
    # the ledger is in the server's own process (its log), the till actors in Ray's workers
    logs = [store.log_path, *(run / "ray" / "session_latest" / "logs").glob("worker-*.err")]
    assert any(f"from uid {OTHER_UID}" in p.read_text(errors="replace") for p in logs)


def frame(obj: bytes) -> bytes:
    return HEAD.pack(len(obj)) + obj


def send(path: str, payload: bytes, wait: float = 10.0) -> bytes:
    """Send one frame on a fresh connection; everything the server sends back until it hangs up
    or is quiet for a second."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(wait)
    s.connect(path)
    try:
        s.sendall(payload)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return got
            if not chunk:
                return got
            got += chunk
            s.settimeout(1.0)
    finally:
        s.close()


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_unread(store, tmp_path):
    """As the store's own user (past the folder and the uid check): a pickled call, the old
    protocol, is not data of the new one, and the server hangs up without unpickling it."""
    data = store.data
    ledger = socket_name(data.absolute(), "ledger")
    marker = tmp_path / "pwned"
    before = quiet_journal_seq(data)
    evil = pickle.dumps((1, "submit", _RunsCode(str(marker))), protocol=pickle.HIGHEST_PROTOCOL)
    assert send(ledger, frame(evil)) == b""  # hung up, nothing answered
    # a well-formed call whose argument hides the pickle: refused as a bad call, also unread
    for arg in (evil, [evil, evil], {"body": evil}):
        got = send(ledger, frame(msgspec.msgpack.encode((7, "submit", arg))))
        rid, ok, err = msgspec.msgpack.decode(got[4:])
        assert (rid, ok, err["code"]) == (7, False, "wire.bad_call")
    # the right shape with the pickle as the body, or a kind this store does not know
    for kind in ("wallet.topped_up", "os.system"):
        call = (8, "submit", ("f" * 36, b"x", kind, evil, "m1", "T1", "127.0.0.1"))
        rid, ok, err = msgspec.msgpack.decode(send(ledger, frame(msgspec.msgpack.encode(call)))[4:])
        assert (rid, ok) == (8, False) and err["code"] in ("event.bad_body", "wire.unknown_kind")
    time.sleep(1.0)
    assert not marker.exists()
    assert journal_seq(data) == before
    # and the ledger still serves its own: a lookup of an unknown id answers None
    got = send(ledger, frame(msgspec.msgpack.encode((9, "lookup", ("n" * 36, b"x")))))
    assert msgspec.msgpack.decode(got[4:]) == [9, True, None]


RAY_ATTACK = r"""
import os, sys
# as the store server does, so that 127.0.0.1 stays 127.0.0.1 rather than the LAN address
os.environ.update(RAY_AUTH_MODE=MODE, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0",
                  RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
if TOKEN:
    os.environ["RAY_AUTH_TOKEN"] = TOKEN
import ray
try:
    ray.init(address=ADDRESS, namespace="kassa", logging_level="ERROR", log_to_driver=False)
    print("CONNECTED", flush=True)
    print("RAN", ray.get(ray.remote(lambda: os.getuid()).options(num_cpus=0).remote(),
                         timeout=60), flush=True)
    catalogue = ray.get_actor("catalogue", namespace="kassa")
    print("ACTOR", ray.get(catalogue.version.remote(), timeout=60), flush=True)
except Exception as exc:
    print("REFUSED", type(exc).__name__, str(exc)[:300], flush=True)
"""


def gcs_address(store: StoreProcess) -> str:
    pids = session_pids(store.proc.pid)
    for pid, _, port in listening_sockets(pids):
        try:
            if Path(f"/proc/{pid}/cmdline").read_text().split("\0")[0].endswith("gcs_server"):
                return f"127.0.0.1:{port}"
        except OSError:
            continue
    raise AssertionError("no gcs_server listening in the store's session")


def test_another_account_cannot_use_the_stores_ray(store):
    """The GCS listens on loopback, where every local account reaches it; Ray's token
    authentication (a fresh token, readable only by the store's user) refuses anyone without it.
    The control: the same client with the token gets in."""
    need_other_uid()
    address = gcs_address(store)
    token = (run_dir(store.data.absolute()) / "ray_token").read_text()
    assert (run_dir(store.data.absolute()) / "ray_token").stat().st_mode & 0o077 == 0
    # the two attackers and the control run at once: each waits on Ray's own timeouts
    runs = []
    for mode, guess in (("disabled", ""), ("token", "0" * 64)):
        code = f"MODE, TOKEN, ADDRESS = {mode!r}, {guess!r}, {address!r}\n" + RAY_ATTACK
        cmd, env = as_other(code)
        runs.append(subprocess.Popen(cmd, env=env, cwd="/", stdout=PIPE, stderr=PIPE, text=True))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    code = f"MODE, TOKEN, ADDRESS = 'token', {token!r}, {address!r}\n" + RAY_ATTACK
    control = subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=os.getcwd(), stdout=PIPE, stderr=PIPE, text=True
    )
    for run in runs:
        stdout, stderr = run.communicate(timeout=180)
        out = stdout + stderr
        assert "REFUSED" in stdout and "RAN" not in out and "ACTOR" not in out, out[-2000:]
        assert "Authentication token is missing or incorrect" in out  # refused by the GCS itself
    stdout, stderr = control.communicate(timeout=180)
    assert "ACTOR" in stdout, stdout[-2000:] + stderr[-2000:]


def test_the_run_folder_must_be_private(monkeypatch):
    """The folder holding the sockets is refused unless it is a real folder of the server's user
    that nobody else may enter; a long data path gets a short folder in /tmp/kassa-UID."""
    from domain.errors import Unavailable

    base = Path(tempfile.mkdtemp(prefix="k"))  # short: the folder is DATA/run
    try:
        for n, spoil in enumerate(("symlink", "mode", "owner")):
            data = base / str(n)
            data.mkdir()
            run = data / "run"
            if spoil == "symlink":
                (base / "elsewhere").mkdir(mode=0o700)
                run.symlink_to(base / "elsewhere")
            else:
                run.mkdir(mode=0o700)
                if spoil == "mode":
                    run.chmod(0o755)
                elif os.geteuid() == 0:
                    os.chown(run, OTHER_UID, OTHER_UID)
                else:
                    continue
            with pytest.raises(Unavailable) as err:
                run_dir(data)
            assert err.value.code == "store.run_dir_unsafe"
        assert run_dir(base / "fresh") == base / "fresh" / "run"
        assert (base / "fresh" / "run").stat().st_mode & 0o777 == 0o700
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
        long_data = base / ("x" * 40)
        far = run_dir(long_data)
        assert far.parent == Path(f"/tmp/kassa-{os.geteuid()}")
        assert far.stat().st_mode & 0o777 == 0o700
        assert len(socket_name(long_data, "till-" + "T" * 16)) < 60
        far.rmdir()
    finally:
        shutil.rmtree(base, ignore_errors=True)
