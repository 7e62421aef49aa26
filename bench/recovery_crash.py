"""Crash-to-selling bench: how long a till cannot sell after the whole store server is killed.

A real ``kassa store serve`` (demo data: 300 products, till T1's day open) with one till scanning
and paying as fast as the server answers; N times: the server and everything it started are
SIGKILLed (``StoreProcess.kill``: the process group, Ray's daemons and workers), a new server is
launched on the same data folder and port, and the till's commands (resent with the same id, as
the kiosk does) are timed until one is answered 200 again. Two figures per kill: from the new
process's launch, and from the kill (which includes reaping the old processes). The next kill
comes once the new server has every actor up (Ray's session folder is then a stale one for the
next start). Beside them, in the same run, the time to import Ray and ``ray.init`` alone in a
fresh process: what the till waited for before the selling path stopped waiting for Ray.

    uv run python bench/recovery_crash.py --kills 10 [--launcher]

``--launcher``: the store runs under the service's launcher (``kassa_cli.launcher``, what the
systemd unit runs); each kill -9 takes the server's whole session and the launcher starts it again
by itself (no reaping first: it kills the leftovers and starts the new server at once).

Each kill's wait is split into its steps (``actors.boot_clock``: the new process created, the
interpreter up, the imports, the folder's checks, the ledger, the catalogue copy, the tills, the
gateway listening, then the till's first answer). The till is the kiosk's own client and worker,
with its retry policy after a refused connection. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from itertools import pairwise
from pathlib import Path
from typing import Any

from actors.process import StoreProcess
from kiosk.client import Offline, Session, StoreClient, new_id
from kiosk.worker import Worker

__all__ = ["measure", "ray_init_seconds"]


def _post(url: str, body: dict, token: str = "", timeout: float = 5.0) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _get(url: str, token: str, timeout: float = 10.0) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Till(threading.Thread):
    """A cashier at till T1: scan, scan, pay, again, through the kiosk's own client and worker
    (``kiosk.client``): a command that meets a dead, starting or stopping server is sent again
    with the same id when the till's retry policy says (``kiosk.worker.retry_wait``).
    ``answered`` holds when each command was answered 200 (monotonic seconds)."""

    def __init__(self, url: str, token: str, codes: list[str]) -> None:
        super().__init__(daemon=True)
        self.client = StoreClient(url, "T1")
        self.client.session = Session(staff="c1", token=token)
        self.worker = Worker()  # the till's own lanes, retry and backoff
        self.codes = codes
        self.answered: list[float] = []
        self.refused: list[dict] = []
        self.failed: list[float] = []  # when a send met no server (monotonic seconds)
        self.stop = threading.Event()
        self.orders = 0

    def send(self, op: str, args: dict) -> dict | None:
        cid, out, err = new_id(), list[dict](), list[Exception]()

        def call() -> dict:
            try:
                res = self.client.command(cid, op, args)
            except Offline:
                self.failed.append(time.monotonic())
                raise
            self.answered.append(time.monotonic())
            return res

        self.worker.change(call, out.append, err.append)
        while not (out or err) and not self.stop.is_set():
            self.worker.pump()  # the till's Tk loop does this every few ms
            time.sleep(0.002)
        if err:
            self.refused.append({"op": op, "code": getattr(err[0], "code", str(err[0]))})
        return out[0] if out else None

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            view = None
            for _ in range(2):
                res = self.send("scan", {"code": self.codes[i % len(self.codes)]})
                i += 1
                view = res["view"] if res else view
            paid = view and view["lines"] and self.send("pay", {"tenders": [_cash(view)]})
            self.orders += 1 if paid else 0

    def first_failure_after(self, t: float, timeout: float = 120.0) -> float:
        """When a send first met no server after ``t``: answers read after that are the new
        server's (an answer the old one sent just before its kill can be read after it)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            later = [f for f in self.failed[-50:] if f > t]
            if later:
                return min(later)
            time.sleep(0.002)
        raise TimeoutError("the till never missed the killed server")

    def first_after(self, t: float, timeout: float = 120.0) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            later = [a for a in self.answered[-50:] if a > t]
            if later:
                return min(later)
            time.sleep(0.005)
        raise TimeoutError("the till did not sell again")


def _cash(view: dict) -> dict:
    return {"kind": "cash", "amount": view["total"]}


def _setup(data: Path) -> tuple[StoreProcess, str, list[str]]:
    """The demo's data (products, staff) in ``data``, T1's day open, a cashier signed in."""
    demo = StoreProcess(data, products=300).start()
    port = demo.port
    st, mgr = _post(
        f"{demo.url}/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": "m1", "pin": "9999", "till": "CM"},
        timeout=60,
    )
    assert st == 200, mgr
    st, res = _post(
        f"{demo.url}/v1/day/open", {"id": str(uuid.uuid4()), "till": "T1", "float": 0}, mgr["token"]
    )
    assert st == 200 or res.get("error", {}).get("code") == "day.already_open", res
    products = _get(f"{demo.url}/v1/products?q=885&limit=40", mgr["token"])
    codes = [p["barcodes"][0] for p in products if p.get("barcodes")]
    st, cashier = _post(
        f"{demo.url}/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": "c1", "pin": "1111", "till": "T1"},
        timeout=60,
    )
    assert st == 200, cashier
    demo.stop()  # the demo's own HQ goes with it; the store is served as the shop serves it
    store = StoreProcess(data, port=port, demo=False).start()
    return store, cashier["token"], codes


def _pct(xs: list[float]) -> dict:
    return {
        "p50": round(statistics.median(xs), 3),
        "max": round(max(xs), 3),
        "min": round(min(xs), 3),
    }


class Supervised:
    """The store under the service's launcher (``kassa_cli.launcher``), as the systemd unit runs
    it: a kill -9 takes the server's session (the server, Ray's daemons and workers); the launcher
    sees it, kills what is left and starts the server again at once."""

    def __init__(self, store: StoreProcess) -> None:
        self.data, self.port, self.url = store.data, store.port, store.url
        cmd = [sys.executable, "-m", "kassa_cli.launcher", "--data", str(self.data)]
        with open(store.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*cmd, "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0", PYTHONUNBUFFERED="1"),
            )  # fmt: skip
        self.up = StoreProcess(self.data, port=self.port, demo=False)
        self.up.proc = self.proc  # its waits: the launcher alive, the store answering

    def server(self) -> int:
        return int(json.loads((self.data / ".launcher.json").read_text())["server"])

    def kill(self) -> None:
        os.killpg(self.server(), signal.SIGKILL)  # the server leads its session's group

    def wait_up(self, all_actors: bool = True) -> None:
        self.up.wait_up(180, all_actors)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def measure(kills: int, data: Path | None = None, launcher: bool = False) -> dict:
    """Crash-to-selling over ``kills`` kill -9s of a real ``kassa store serve`` with a till
    selling: seconds from the new process's launch (its exec under ``launcher``), and from the
    kill, to the first command answered 200 (p50/max/min), plus how many orders the till
    completed. ``launcher``: the store runs under ``kassa_cli.launcher``, which starts it again
    by itself; else the bench reaps the old processes and launches a new server."""
    with tempfile.TemporaryDirectory() as tmp:
        store, token, codes = _setup(Path(data or Path(tmp) / "store"))
        sup = None
        if launcher:
            store.stop()
            sup = Supervised(store)
            sup.wait_up()
        till = Till(store.url, token, codes)
        till.start()
        from_launch: list[float] = []
        from_kill: list[float] = []
        ledger: list[dict] = []  # each start's ledger: snapshot, events replayed, seconds
        steps: list[dict[str, float]] = []  # each start's steps (actors.boot_clock), seconds
        try:
            for _ in range(kills):
                till.first_after(time.monotonic())  # selling now
                time.sleep(0.5)
                killed = killed_done = time.monotonic()
                if sup is not None:
                    sup.kill()  # the launcher starts it again
                    launched = None
                    # an answer the old server sent just before the kill is not a sale
                    killed_done = till.first_failure_after(killed)
                else:
                    store.kill()
                    launched = time.monotonic()
                    store = StoreProcess(store.data, port=store.port, demo=False)
                    store.start(all_actors=False)
                sold = till.first_after(launched or killed_done)
                step = _steps(store.data, killed, launched, sold)
                steps.append(step)
                # from the launch; under the launcher, from the new server's exec or a spare's wake
                from_launch.append(sold - (launched or killed + next(iter(step.values()), 0.0)))
                from_kill.append(sold - killed)
                ledger.append(_get(f"{store.url}/v1/health", token).get("ledger_start") or {})
                (sup or store).wait_up(all_actors=True)  # every actor up before the next kill
        finally:
            till.stop.set()
            till.join(30)
            till.worker.stop(5.0)
            (sup or store).stop()
    return {
        "kills": kills,
        "launcher": launcher,
        "launch_to_selling_s": _pct(from_launch),
        "kill_to_selling_s": _pct(from_kill),
        "orders": till.orders,
        "ledger_start_s": _pct([float(x.get("seconds") or 0) for x in ledger]),
        "steps_s": {k: _pct([s[k] for s in steps if k in s]) for k in steps[0]} if steps else {},
        "replayed_max": max((int(x.get("replayed") or 0) for x in ledger), default=0),
        "refused": till.refused[:5],
    }


def _steps(data: Path, killed: float, launched: float | None, sold: float) -> dict[str, float]:
    """One restart's wait split into its steps (seconds each): the old processes reaped, the new
    process created, the interpreter up, kassa's imports, the folder's checks, the ledger, the
    catalogue copy, the tills, the gateway listening (``server.json``'s "boot", monotonic times
    from ``actors.boot_clock``), and the till's first command answered after that."""
    try:
        boot = json.loads((data / "server.json").read_text()).get("boot") or {}
    except (OSError, ValueError):
        boot = {}
    marks = [("kill", killed)] + ([("launch", launched)] if launched is not None else [])
    marks += [(k, float(v)) for k, v in boot.items() if isinstance(v, (int, float))]
    marks.append(("sold", sold))
    return {f"{a}->{b}": round(tb - ta, 3) for (a, ta), (b, tb) in pairwise(marks)}


def ray_init_seconds(tmp: Path) -> float:
    """Import Ray and ``ray.init`` the store's private node, in a fresh process (seconds)."""
    code = (
        "import time, sys; t = time.monotonic(); from actors.ray_boot import start_ray, stop_ray; "
        "start_ray(sys.argv[1]); print(time.monotonic() - t); stop_ray()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0"),
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--launcher", action="store_true", help="under kassa_cli.launcher")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ray_s = ray_init_seconds(Path(tmp) / "ray-only")
    res = measure(args.kills, launcher=args.launcher)
    res["baseline_ray_init_s"] = round(ray_s, 3)
    launch, kill = res["launch_to_selling_s"], res["kill_to_selling_s"]
    print(f"{'figure (s)':<34}{'p50':>8}{'max':>8}{'target':>8}")
    print(f"{'launch -> till sells again':<34}{launch['p50']:>8}{launch['max']:>8}{'<= 2':>8}")
    print(f"{'kill -> till sells again':<34}{kill['p50']:>8}{kill['max']:>8}{'':>8}")
    print(f"{'baseline: import Ray + ray.init':<34}{res['baseline_ray_init_s']:>8}")
    led = res["ledger_start_s"]
    print(f"{'  of which the ledger starts':<34}{led['p50']:>8}{led['max']:>8}")
    print(f"  (events replayed after a snapshot: at most {res['replayed_max']})")
    for step, v in res["steps_s"].items():  # where the wait went, step by step
        print(f"{'  ' + step:<34}{v['p50']:>8}{v['max']:>8}")
    print(f"orders completed meanwhile: {res['orders']}; refused: {len(res['refused'])}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
