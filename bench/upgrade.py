"""How long a selling till waits while ``kassa store upgrade`` switches the store server.

    uv run python bench/upgrade.py [--switches 5] [--tills 4]

A demo store with ``--tills`` tills selling (scan, pay cash, again; each command resent with its id
on a connection error or 503, as the till does) is switched ``--switches`` times to a new server
process (``--exec`` as ``kassa store upgrade`` takes it; default: this kassa). For each switch: the
longest any command waited for its answer while the switch ran, the phases the new server logged
(prepare while the old one serves; the old one stopping; the new one starting to sell), refused
commands (must be 0). Prints one line per switch, then one JSON line:
``{"bench": "upgrade", "switches": N, "scan_wait_p50_s", "scan_wait_max_s", "refused", ...}``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "kits"))

from actors.process import StoreProcess  # noqa: E402
from gwkit import sign_in  # noqa: E402
from sellkit import SellingTill, longest_wait_during, server_pid, stop_server, upgrade  # noqa: E402

STAFF = ("c1", "c2", "c3", "m1")


def _phases(data: Path, start: int) -> dict[str, float]:
    text = (data / "upgrade.log").read_text(errors="replace")[start:]
    found = re.findall(r"took the store over: (\{.*\})", text)
    return json.loads(found[-1]) if found else {}


def measure(switches: int = 5, tills: int = 4, exe: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="kassa-upgrade-") as tmp:
        data = Path(tmp) / "store"
        st = StoreProcess(data, products=300).start()
        sellers: list[SellingTill] = []
        pid = 0
        waits: list[float] = []
        phases: list[dict[str, float]] = []
        try:
            m = sign_in(st.url, "m1", "T1")
            names = [f"T{i + 1}" for i in range(tills)]
            for t in names[1:]:
                m.ok(m.post("/v1/day/open", {"id": f"bench-open-{t}-0001", "till": t, "float": 0}))
            codes = [
                p["barcodes"][0]
                for p in m.ok(m.get("/v1/products", q="885", limit=40))
                if p["unit"] == "each" and p["barcodes"] and p["sellable"]
            ]
            for i, t in enumerate(names):
                token = sign_in(st.url, STAFF[i % len(STAFF)], t).token
                sellers.append(SellingTill(st.url, t, token, codes))
            for s in sellers:
                s.start()
            for n in range(switches):
                sold = sum(len(s.acked) for s in sellers)
                while sum(len(s.acked) for s in sellers) < sold + 2 * tills:
                    time.sleep(0.02)
                log = data / "upgrade.log"
                at = log.stat().st_size if log.exists() else 0
                t0 = time.monotonic()
                r = upgrade(data, exe)
                t1 = time.monotonic()
                if r.returncode != 0:
                    raise RuntimeError(r.stdout + r.stderr)
                pid = server_pid(data)
                sold = sum(len(s.acked) for s in sellers)
                while sum(len(s.acked) for s in sellers) < sold + tills:
                    time.sleep(0.02)
                waits.append(longest_wait_during(sellers, t0, t1))
                phases.append(_phases(data, at))
                print(
                    f"switch {n + 1}: longest scan wait {waits[-1]:.3f} s, "
                    f"command {t1 - t0:.1f} s, phases {phases[-1]}",
                    flush=True,
                )
        finally:
            for s in sellers:
                s.stop_ev.set()
            for s in sellers:
                s.join(180)
            if pid:
                stop_server(pid)
            st.stop()
        return {
            "bench": "upgrade",
            "switches": switches,
            "tills": tills,
            "scan_wait_p50_s": round(statistics.median(waits), 3),
            "scan_wait_max_s": round(max(waits), 3),
            "old_stop_p50_s": round(statistics.median(p.get("old_stop_s", 0) for p in phases), 3),
            "new_start_p50_s": round(statistics.median(p.get("start_s", 0) for p in phases), 3),
            "refused": sum(len(s.refused) for s in sellers),
            "sales": sum(len(s.acked) for s in sellers),
            "resends": sum(s.resends for s in sellers),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--switches", type=int, default=5)
    ap.add_argument("--tills", type=int, default=4)
    ap.add_argument("--exec", dest="exe", default=None, help="the new version's kassa")
    args = ap.parse_args()
    print(json.dumps(measure(args.switches, args.tills, args.exe)), flush=True)


if __name__ == "__main__":
    main()
