"""Recovery bench: how long the store's ledger takes to start with 10k, 1M and 10M events in its
journal, from genesis (the baseline, in the same run) and from a snapshot; and, when
``bench.recovery_crash`` is there, crash-to-selling over 20 kills. Ends with one JSON line.

    uv run python bench/recovery.py [--sizes 10000,1000000,10000000] [--dir /var/tmp/kassa-recovery]
                                    [--full-max 1000000] [--kills 20] [--reuse]
                                    [--server 1000000] [--launcher]

Each size gets a journal of a busy shop made once by ``bench/journal_gen.py`` (kept in ``--dir``
and reused). Each start runs in a process of its own (its peak memory is that process's):

* ``genesis``: no snapshot, the whole journal replayed (the start before snapshots). Above
  ``--full-max`` events it is estimated linearly from the largest size measured, and the time to
  make the first snapshot (which replays the same events) is given as measured;
* ``crash``: the newest snapshot 25,000 events behind the end (a crash half-way between two
  snapshots, which the ledger makes every 50,000 events; half the journal for a small one): the
  snapshot and the tail;
* ``clean``: the snapshot written by ``Ledger.close()`` at a clean stop: nothing to replay.

A start is the store ledger's: the start check (SQLite's quick check and the chain over the tail
replayed, at least 5,000 events) and the load; ``load_s`` is the load alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TAIL = 25_000
HERE = Path(__file__).resolve().parent


def worker(mode: str, data: Path, upto: int) -> dict[str, Any]:
    """In a process of its own: one start (or the making of a snapshot)."""
    import analytics.events  # noqa: F401 - the kinds the store's ledger knows
    import domain.drawer
    import domain.feedback  # noqa: F401
    from actors.ledger import Ledger
    from actors.snapshots import list_snapshots, make_snapshot
    from domain.book import BookRules

    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    if mode == "make":
        header = make_snapshot(data, upto=upto or None)
        out["snapshot_seq"] = header.seq if header else 0
    elif mode == "close":
        Ledger(data / "journal.sqlite").close()
    else:
        led = Ledger(data / "journal.sqlite", check=True, rules=BookRules(True))
        if led.full_check is not None:  # the background full check: not part of the start
            led.full_check.kill()
            led.full_check.wait()
        out.update(led.started)
        out["load_s"] = out.pop("seconds")
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    snaps = list_snapshots(data, "ledger")
    out["snapshot_mb"] = round(snaps[0][1].stat().st_size / 2**20, 2) if snaps else 0
    return out


def run(mode: str, data: Path, upto: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "recovery.py"), "--worker", mode, str(data), str(upto)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{mode} on {data} failed:\n{r.stderr[-3000:]}")
    res: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"  {mode:8} {json.dumps(res)}", file=sys.stderr, flush=True)
    return res


def journal_for(base: Path, n: int) -> Path:
    data = base / str(n)
    if not (data / "journal.sqlite").exists():
        sys.path.insert(0, str(HERE))
        from journal_gen import write_journal

        print(f"generating {n} events in {data}", file=sys.stderr, flush=True)
        out = write_journal(data / "journal.sqlite", n)
        (data / "gen.json").write_text(json.dumps(out))
    return data


def measure_size(data: Path, n: int, full: bool, reuse: bool = False) -> dict[str, Any]:
    print(
        f"{n} events ({(data / 'journal.sqlite').stat().st_size / 2**30:.2f} GiB)", file=sys.stderr
    )
    upto = n - min(TAIL, n // 2)
    snaps = data / "snapshots"
    kept = reuse and (snaps / f"ledger-{upto}.snap").exists()  # made by an earlier run
    if kept:
        for p in snaps.glob("ledger-*.snap"):
            if p.name != f"ledger-{upto}.snap":
                p.unlink()
        snaps.rename(data / "snapshots.kept")
    else:
        shutil.rmtree(snaps, ignore_errors=True)
    out: dict[str, Any] = {"events": n}
    if full:
        out["genesis"] = run("start", data)
    if kept:
        shutil.rmtree(snaps, ignore_errors=True)
        (data / "snapshots.kept").rename(snaps)
        out["make_snapshot"] = {"reused": True, "peak_rss_mb": 0.0}
    else:
        out["make_snapshot"] = run("make", data, upto)  # replays the journal up to there
    out["crash"] = run("start", data)
    run("close", data)  # the clean stop's snapshot at the end
    out["clean"] = run("start", data)
    return out


def server_start(base: Path, n: int) -> dict[str, Any]:
    """The whole store server (``kassa store serve``) on a demo store whose journal got ``n``
    busy-shop events more: seconds until it answers (the selling path up), from genesis and from
    the snapshot at the journal's end (a clean stop's)."""
    import requests

    from actors.process import StoreProcess

    data = base / f"server-{n}" / "store"
    if not (data / "journal.sqlite").exists():
        demo = ["demo", "--no-till", "--data", str(data), "--products", "300", "--exit-after-setup"]
        subprocess.run([sys.executable, "-m", "kassa_cli.main", *demo], check=True, timeout=600)
        sys.path.insert(0, str(HERE))
        from journal_gen import write_journal

        write_journal(data / "journal.sqlite", n, append=True)
    shutil.rmtree(data / "snapshots", ignore_errors=True)
    out: dict[str, Any] = {"events": n}
    for mode in ("genesis", "snapshot"):
        st = StoreProcess(data, demo=False)
        t0 = time.perf_counter()
        st.start(timeout=1800, all_actors=False)  # the selling path: the tills sell from here
        up = time.perf_counter() - t0
        try:
            st.wait_up(timeout=1800, all_actors=True)
            every = time.perf_counter() - t0
            h = requests.get(st.url + "/v1/health", timeout=120).json()
        finally:
            st.stop()
        out[mode] = {"selling_s": round(up, 2), "all_actors_s": round(every, 2),
                     "ledger_start": h.get("ledger_start")}  # fmt: skip
        print(f"  server {mode:8} {json.dumps(out[mode])}", file=sys.stderr, flush=True)
        if mode == "genesis":
            run("make", data)  # the snapshot a clean stop leaves
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,1000000,10000000")
    ap.add_argument("--dir", type=Path, default=Path("/var/tmp/kassa-recovery"))
    ap.add_argument("--full-max", type=int, default=1_000_000, help="largest genesis start run")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--reuse", action="store_true", help="the crash snapshot of an earlier run")
    ap.add_argument("--server", type=int, default=0, help="events for the server start (0: none)")
    ap.add_argument("--launcher", action="store_true", help="kills under kassa_cli.launcher")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        mode, data, upto = a.worker
        print(json.dumps(worker(mode, Path(data), int(upto))))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    results = []
    rate = None  # events per second of the largest genesis start measured
    for n in sizes:
        res = measure_size(journal_for(a.dir, n), n, n <= a.full_max, a.reuse)
        if "genesis" in res:
            rate = n / res["genesis"]["seconds"]
        elif rate:
            res["genesis_estimated_s"] = round(n / rate, 1)
        results.append(res)
    server = server_start(a.dir, a.server) if a.server else None
    crash = None
    try:
        from bench import recovery_crash  # the fast-start part's bench, when it is there

        crash = recovery_crash.measure(a.kills, launcher=a.launcher)
    except ImportError:
        print("bench.recovery_crash not here: crash-to-selling not measured", file=sys.stderr)
    head = "events     genesis s      crash s (load s, tail)  clean s (load s)  peak MB g/c"
    print(f"\n{head}  snap MB")
    for r in results:
        g, c, k = r.get("genesis", {}), r["crash"], r["clean"]
        gs = f"{g['seconds']:.2f}" if g else f"~{r.get('genesis_estimated_s', '?')} est."
        gm = g.get("peak_rss_mb", r["make_snapshot"]["peak_rss_mb"]) or float("nan")
        print(
            f"{r['events']:<10} {gs:<14} {c['seconds']:>6.2f} ({c['load_s']:.2f}, {c['replayed']})"
            f"{'':8}{k['seconds']:>6.2f} ({k['load_s']:.2f}){'':5}{gm:>5.0f}/{c['peak_rss_mb']:.0f}"
            f"{'':6}{k['snapshot_mb']}"
        )
    if server:
        g, s = server["genesis"], server["snapshot"]
        print(f"store server, {a.server} events: selling after {g['selling_s']} s from genesis,")
        print(f"  {s['selling_s']} s from the snapshot (every actor up: {g['all_actors_s']} s, "
              f"{s['all_actors_s']} s)")  # fmt: skip
    summary = {"bench": "recovery", "tail": TAIL, "sizes": results, "server": server}
    print(json.dumps({**summary, "crash": crash}))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
