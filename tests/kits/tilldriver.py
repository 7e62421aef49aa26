"""Drive a real till window from a test: pump Tk until a condition holds, type, click,
screenshot."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def pump(app, cond: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.update()
        try:
            value = cond()
        except Exception:  # widgets may be half-built while pumping
            value = None
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or cond}; last message: {app.last_error!r}")


def settle(app, seconds: float = 0.2) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.update()
        time.sleep(0.01)


def idle(app, timeout: float = 15.0) -> None:
    pump(app, lambda: app.worker.idle() and app.worker.results.empty(), timeout, "worker idle")
    settle(app, 0.1)


def type_keys(widget, text: str, gap_ms: int, start_ms: int = 1_000_000, enter: bool = True) -> int:
    """Key presses with explicit event times (a scanner: gaps of a few ms; a person: 100+ ms)."""
    widget.focus_force()
    widget.update()
    t = start_ms
    for ch in text:
        keysym = {" ": "space", "-": "minus", ".": "period"}.get(ch, ch)
        widget.event_generate("<KeyPress>", keysym=keysym, when="tail", time=t)
        t += gap_ms
    if enter:
        widget.event_generate("<KeyPress>", keysym="Return", when="tail", time=t)
    widget.update()
    return t


def items(app) -> int:
    """Pieces (and grams) in the sale counter's basket: a repeat scan adds one to its line."""
    return sum(int(ln["qty"]) for ln in (app.screen.view or {}).get("lines") or [])


def scan(app, code: str, start: int = 1_000_000) -> None:
    """Scan ``code`` into the sale counter (a scanner's burst) and wait until the basket holds one
    item more (a new line, or a repeat scan merged into its line)."""
    n = items(app)
    type_keys(app.screen.entry, code, gap_ms=4, start_ms=start)
    pump(app, lambda: items(app) > n or app.last_error, what=f"scan {code}")
    assert not app.last_error, app.last_error


def close_tills(made: list) -> None:
    """Close a test's till windows and free them here, on the Tk thread (the windows only become
    garbage after close(); a later test's thread must not be the one to collect them)."""
    import gc

    for app in made:
        with contextlib.suppress(Exception):
            app.close()
    made.clear()
    gc.collect()


def in_till(store, tmp_path, till_id: str, check: Callable[[Any], None]) -> None:
    """Run ``check(app)`` on a new till window, then close it and free it here, on the Tk thread
    (no name outside this frame holds the window, so it never becomes garbage elsewhere)."""
    import gc

    from kiosk import i18n
    from kiosk.app import TillApp

    made = [TillApp(store.url, till_id, lang="en", printer={"kind": "dummy"}, data_dir=tmp_path)]
    try:
        pump(made[0], lambda: made[0].store, what="store config")
        check(made[0])
    finally:
        i18n.set_language("en")
        try:
            made[0].close()
        except Exception:
            pass
        made.clear()
        gc.collect()


def sign_in(app, staff: str, pin: str) -> None:
    pump(app, lambda: type(app.screen).__name__ == "SignInScreen", what="sign-in screen")
    s = app.screen
    s.staff.delete(0, "end")
    s.staff.insert(0, staff)
    s.pin.delete(0, "end")
    s.pin.insert(0, pin)
    s.button.invoke()
    # argon2id PIN check plus the first reads of the counter: give a loaded CI machine time
    pump(
        app,
        lambda: app.session is not None and type(app.screen).__name__ != "SignInScreen",
        timeout=45.0,
        what=f"signed in as {staff}",
    )
    idle(app)


def screenshot(app, path: Path) -> Path:
    settle(app, 0.3)
    app.update_idletasks()
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    return path


_TOKENS: dict[str, str] = {}


def manager_token(base: str) -> str:
    """A manager's session (till QA) for reading orders and events in checks."""
    import uuid

    if base not in _TOKENS:
        _TOKENS[base] = post(
            f"{base}/v1/sessions",
            {"id": str(uuid.uuid4()), "staff": "m1", "pin": "9999", "till": "QA"},
        )["token"]
    return _TOKENS[base]


def get(url: str) -> Any:
    base = "/".join(url.split("/")[:3])
    for attempt in (1, 2):
        auth = {"Authorization": f"Bearer {manager_token(base)}"}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            # a session of an earlier module's store that had this address (its port reused)
            if exc.code != 401 or attempt == 2:
                raise
            _TOKENS.pop(base, None)
    raise AssertionError("unreachable")


def post(url: str, body: dict, token: str = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers=headers
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def open_day(url: str, till: str, manager: str = "m1", pin: str = "9999") -> None:
    """A manager opens ``till``'s business day (float 0) over HTTP, as a test set-up step."""
    import uuid

    tok = post(
        f"{url}/v1/sessions", {"id": str(uuid.uuid4()), "staff": manager, "pin": pin, "till": till}
    )["token"]
    try:
        post(f"{url}/v1/day/open", {"id": str(uuid.uuid4()), "till": till, "float": 0}, tok)
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # open already
            raise


def _free_display() -> int:
    for n in range(140, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


# Xvfb servers started by xvfb_display, by size. Tk keeps its connection to a display open until
# the process exits (closing the windows does not close it), and Xlib ends the process ("XIO:
# fatal IO error") the moment that server goes away: so a server lives as long as the test
# process, and dies with it (PR_SET_PDEATHSIG).
_SERVERS: dict[str, tuple[subprocess.Popen, str]] = {}


def _die_with_parent() -> None:
    import ctypes
    import signal

    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _xvfb(size: str) -> str:
    running = _SERVERS.get(size)
    if running is not None and running[0].poll() is None:
        return running[1]
    n = _free_display()
    proc = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    end = time.time() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if time.time() > end or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("Xvfb did not start")
        time.sleep(0.05)
    _SERVERS[size] = (proc, f":{n}")
    return f":{n}"


@contextlib.contextmanager
def xvfb_display(size: str = "1280x800"):
    """An Xvfb screen of ``size`` ("1024x768", "1920x1080") as DISPLAY while the block runs (one
    server per size for the whole test process: see ``_SERVERS``)."""
    if not shutil.which("Xvfb"):
        import pytest

        pytest.skip("Xvfb is not installed")
    display = _xvfb(size)
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
