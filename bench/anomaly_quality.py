"""Anomaly quality bench: a normal trading week with planted frauds, sold through the store's own
HTTP API (not the project's generator), scored by the store's rules with the store's settings.

A demo store runs on loopback. Three cashiers sell on three tills for seven days (``--orders``
orders a day in all, 1-4 lines, cash, card or wallet; ordinary behaviour included: a cheap line
taken off now and then, a double scan put right at once, the drawer opened for change now and
then, a few small voids, 5 % discounts, next-day refunds by after-sales, wallet top-ups in hours,
pre-packed produce labels, weighed produce). Among them are planted cases of
``bench.anomaly_plants.KINDS`` kinds, each a few times, each done the way a dishonest person does
it at the counter (repeat scans merge into one line, so goods are taken off by lowering the
count), with amounts and counts drawn from plausible ranges, not from the rules' thresholds.
Every request is made now, so the journal's times are squeezed
into minutes: afterwards each event is re-stamped onto the trading week (the simulated time of the
request that made it, plus the time it took), then ``analytics.anomaly.score`` runs over the
store's tables with ``rules_for`` the store's settings and its catalogue.

Prints recall per planted kind (and the precision of the rule meant to catch it), precision per
rule, overall recall and precision (a flag is right
when its order is a planted one), and the share of normal orders flagged; ends with one JSON line
(``recall``, ``precision``, ``false_positive_rate``). Targets: recall ≥ 0.9, precision ≥ 0.9,
false_positive_rate ≤ 0.01.

    uv run python bench/anomaly_quality.py [--orders 120] [--seed 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.process import StoreProcess  # noqa: E402
from actors.store_file import load_config  # noqa: E402
from analytics.anomaly import score  # noqa: E402
from analytics.anomaly_settings import rule_settings, rules_from  # noqa: E402
from analytics.flagging import catalogue_frame  # noqa: E402
from analytics.flatten import flatten  # noqa: E402
from bench.anomaly_plants import ean, plant_day  # noqa: E402

PINS = {"c1": "1111", "c2": "2222", "c3": "3333", "a1": "4444", "m1": "9999"}
ZONE = ZoneInfo("Asia/Bangkok")
WEEK = datetime(2026, 11, 16, tzinfo=ZONE)  # a Monday
CASHIERS = {"c1": "T1", "c2": "T2", "c3": "T3"}


class Shop:
    """HTTP sessions, the simulated clock (a mark per request) and what was planted."""

    def __init__(self, url: str) -> None:
        self.url, self.http = url, requests.Session()
        self.tokens: dict[tuple[str, str], str] = {}
        self.marks: list[tuple[int, int]] = []  # (wall µs at the request, simulated µs)
        self.sim = WEEK
        self.planted: dict[str, list[str]] = defaultdict(list)  # kind -> order ids
        self.rule_of: dict[str, str] = {}

    def at(self, t: datetime) -> None:
        self.sim = t

    def _token(self, staff: str, till: str) -> str:
        key = (staff, till)
        if key not in self.tokens:
            for k in [k for k in self.tokens if k[0] == staff]:
                del self.tokens[k]  # one session per person: signing in again ends the last
            r = self.http.post(
                self.url + "/v1/sessions",
                json={"id": str(uuid.uuid4()), "staff": staff, "pin": PINS[staff], "till": till},
                timeout=60,
            )
            r.raise_for_status()
            self.tokens[key] = r.json()["token"]
        return self.tokens[key]

    def call(self, staff: str, till: str, method: str, path: str, body: Any = None) -> Any:
        self.marks.append((time.time_ns() // 1000, int(self.sim.timestamp() * 1_000_000)))
        if isinstance(body, dict) and "id" not in body:
            body = {"id": str(uuid.uuid4()), **body}
        for _ in range(2):
            r = self.http.request(
                method,
                self.url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._token(staff, till)}"},
                timeout=60,
            )
            if r.status_code != 401:
                break
            self.tokens.pop((staff, till), None)
        if r.status_code != 200:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    def cmd(self, staff: str, till: str, op: str, **args: Any) -> Any:
        return self.call(
            staff, till, "POST", f"/v1/tills/{till}/commands", {"op": op, "args": args}
        )

    def sell(
        self,
        staff: str,
        codes: list[str],
        pay: str = "cash",
        member: str = "",
        till: str = "",
        remove: int = 0,
        discount_bp: int = 0,
        approval: bool = False,
    ) -> str:
        till = till or CASHIERS.get(staff, "T1")
        view: dict = {}
        for code in codes:
            view = self.cmd(staff, till, "scan", code=code)["view"]
        for line in view["lines"][:remove]:
            view = self.cmd(staff, till, "remove", line_id=line["line_id"])["view"]
        if discount_bp:
            extra = {"approval": {"staff": "m1", "pin": PINS["m1"]}} if approval else {}
            body = {"op": "discount_order", "args": {"kind": "pct", "value": discount_bp}, **extra}
            view = self.call(staff, till, "POST", f"/v1/tills/{till}/commands", body)["view"]
        total = view["total"]
        cash = -(-total // 25) * 25  # cash is handed over in 25-satang steps
        tender: dict[str, Any] = {"kind": pay, "amount": cash if pay == "cash" else total}
        if pay == "card":
            tender |= {"reference": "B-1", "last4": "4242"}
        if pay == "wallet":
            tender["member"] = member
        if pay == "split":  # wallet first, the rest in cash
            part = min(total, 5000)
            tenders = [{"kind": "wallet", "amount": part, "member": member}]
            rest = -(-(total - part) // 25) * 25
            tenders += [{"kind": "cash", "amount": rest}] if total > part else []
            out = self.cmd(staff, till, "pay", tenders=tenders, member=member)
        else:
            out = self.cmd(
                staff, till, "pay", tenders=[tender], **({"member": member} if member else {})
            )
        return str(out["order"]["order_id"])

    def till_of(self, staff: str) -> str:
        return CASHIERS.get(staff, "T1")

    def pay(self, staff: str, till: str, view: dict) -> str:
        cash = -(-view["total"] // 25) * 25
        out = self.cmd(staff, till, "pay", tenders=[{"kind": "cash", "amount": cash}])
        return str(out["order"]["order_id"])

    def sweetheart(self, staff: str, code: str, n: int, rng: random.Random) -> str:
        """``n`` of one item scanned (repeat scans merge into one line), the count lowered to one
        a few minutes later while bagging, one paid."""
        till = self.till_of(staff)
        for _ in range(n):
            view = self.cmd(staff, till, "scan", code=code)["view"]
        self.at(self.sim + timedelta(minutes=rng.randint(2, 5)))
        line = view["lines"][-1]["line_id"]
        view = self.cmd(staff, till, "quantity", line_id=line, qty=1)["view"]
        return self.pay(staff, till, view)

    def take_off(self, staff: str, codes: list[str], rng: random.Random) -> str:
        """Every item scanned; the first one's line taken off a few minutes later; the rest paid."""
        till = self.till_of(staff)
        for code in codes:
            view = self.cmd(staff, till, "scan", code=code)["view"]
        self.at(self.sim + timedelta(minutes=rng.randint(1, 4)))
        first = max(view["lines"], key=lambda ln: (ln.get("code") == codes[0], ln["unit_price"]))
        view = self.cmd(staff, till, "remove", line_id=first["line_id"])["view"]
        return self.pay(staff, till, view)

    def plant(self, kind: str, rule: str, order_id: str) -> None:
        self.planted[kind].append(order_id)
        self.rule_of[kind] = rule


def setup(shop: Shop, rng: random.Random) -> dict[str, Any]:
    """Products, stock, members and open days; the codes to sell."""
    rows = shop.call("m1", "T1", "GET", "/v1/products?q=885&limit=200")
    each = [p for p in rows if p["unit"] == "each" and p["barcodes"] and p["sellable"]]
    by_price = sorted(each, key=lambda p: p["price"])
    cheap = [p["barcodes"][0] for p in by_price[:60]]
    dear = [p["barcodes"][0] for p in by_price[-10:]]
    own = [
        {"sku": "BQ-BRANDY", "names": {"en": "Brandy 70cl"}, "price": 120000, "unit": "each",
         "plu": "90001", "barcodes": [ean("885999000001")], "tax_class": "std"},
        {"sku": "BQ-APPLE", "names": {"en": "Apples"}, "price": 8000, "unit": "kg",
         "plu": "90002", "barcodes": [], "tax_class": "std"},
        {"sku": "BQ-SHELF", "names": {"en": "Never received"}, "price": 4500, "unit": "each",
         "plu": "", "barcodes": [ean("885999000002")], "tax_class": "std"},
    ]  # fmt: skip
    shop.call("m1", "T1", "POST", "/v1/products/import", {"products": own, "source": "bench"})
    for p in each[:200]:
        shop.call("m1", "T1", "POST", "/v1/stock/receive", {"sku": p["sku"], "qty": 100000})
    shop.call("m1", "T1", "POST", "/v1/stock/receive", {"sku": "BQ-BRANDY", "qty": 1000})
    shop.call("m1", "T1", "POST", "/v1/stock/receive", {"sku": "BQ-APPLE", "qty": 10**7})
    members = [f"BM{i:03d}" for i in range(30)]
    for m in members:
        shop.call("c1", "T1", "POST", "/v1/members", {"member": m, "name": f"Member {m}"})
        shop.call(
            "c1", "T1", "POST", f"/v1/members/{m}/topup", {"amount": 500000, "tender": "card"}
        )
    return {"cheap": cheap, "dear": dear, "members": members, "brandy": ean("885999000001")}


def open_days(shop: Shop) -> None:
    for till in ("T1", "T2", "T3", "T5", "T9"):
        try:
            shop.call("m1", "T1", "POST", "/v1/day/open", {"till": till, "float": 0})
        except RuntimeError as exc:
            if "already_open" not in str(exc):
                raise


def normal_day(shop: Shop, day: datetime, n: int, rng: random.Random, g: dict) -> int:
    """``n`` ordinary orders spread over 08:30-21:30 on the three tills."""
    minutes = sorted(rng.randrange(8 * 60 + 30, 21 * 60 + 30) for _ in range(n))
    label = lambda: ean(f"2090002{rng.randrange(1500, 4500):05d}")  # noqa: E731 - produce label
    weigh = lambda: ean(f"2390002{rng.randrange(200, 1500):05d}")  # noqa: E731
    for i, m in enumerate(minutes):
        shop.at(day + timedelta(minutes=m, seconds=rng.randrange(60)))
        staff = ("c1", "c2", "c3")[i % 3]
        codes = [rng.choice(g["cheap"]) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.08:
            codes.append(label() if rng.random() < 0.5 else weigh())
        r = rng.random()
        if r < 0.03:  # an ordinary void
            for c in codes:
                shop.cmd(staff, CASHIERS[staff], "scan", code=c)
            shop.cmd(staff, CASHIERS[staff], "void", reason="customer left")
            continue
        pay = "cash" if r < 0.6 else "card" if r < 0.88 else "wallet"
        member = rng.choice(g["members"]) if pay == "wallet" else ""
        if rng.random() < 0.02:  # change for a customer: the drawer opened without a sale
            shop.call(staff, CASHIERS[staff], "POST", "/v1/drawer", {"reason": "change"})
        if rng.random() < 0.03:  # a double scan, put right at once
            till = CASHIERS[staff]
            shop.cmd(staff, till, "scan", code=codes[0])
            view = shop.cmd(staff, till, "scan", code=codes[0])["view"]
            line = view["lines"][-1]
            shop.cmd(staff, till, "quantity", line_id=line["line_id"], qty=line["qty"] - 1)
            shop.pay(staff, till, shop.cmd(staff, till, "scan", code=codes[-1])["view"])
            continue
        remove = 1 if rng.random() < 0.04 and len(codes) > 2 else 0
        disc = 500 if rng.random() < 0.05 else 0
        oid = shop.sell(staff, codes, pay, member, remove=remove, discount_bp=disc)
        if rng.random() < 0.01:  # an ordinary refund, at the after-sales counter
            shop.at(shop.sim + timedelta(hours=2) if m < 19 * 60 else shop.sim)
            shop.call("a1", "T5", "POST", f"/v1/orders/{oid}/refund", {"reason": "faulty"})
    return n


def restamp(data: Path, marks: list[tuple[int, int]]) -> list[dict]:
    """The journal's events with each time moved onto the simulated week."""
    import bisect

    walls = [w for w, _ in marks]
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    out = []
    try:
        q = "SELECT seq, id, ts, kind, staff, till, ip, agg, body FROM events ORDER BY seq"
        for seq, eid, ts, kind, staff, till, ip, agg, body in con.execute(q):
            i = bisect.bisect_right(walls, ts) - 1
            sim = marks[i][1] + min(ts - marks[i][0], 60_000_000) if i >= 0 else ts
            out.append(dict(seq=seq, id=eid, ts=sim, kind=kind, staff=staff, till=till, ip=ip,
                            agg=agg, body=bytes(body)))  # fmt: skip
    finally:
        con.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=120, help="ordinary orders a day")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="kassa-anomaly-"))
    proc = StoreProcess(base / "data", products=600).start()
    t0 = time.time()
    try:
        shop = Shop(proc.url)
        shop.at(WEEK - timedelta(hours=14))  # set up on the Sunday before, at 10:00
        g = setup(shop, rng)
        open_days(shop)
        normal = 0
        for d in range(7):
            day = WEEK + timedelta(days=d)
            plant_day(shop, day, d, rng, g)
            normal += normal_day(shop, day, args.orders, rng, g)
        events = restamp(proc.data, shop.marks)
    finally:
        proc.stop()
    cfg = load_config(proc.data)
    frames: dict[str, Any] = dict(flatten(events, cfg.store_id, cfg.zone))
    frames["catalogue"] = catalogue_frame(proc.data, cfg.store_id)
    flags = score(frames, rules_from(rule_settings(cfg)))
    return report(shop, flags, frames, time.time() - t0)


def report(shop: Shop, flags: Any, frames: dict, took: float) -> int:
    got = set(zip(flags["rule"].to_list(), flags["order_id"].to_list(), strict=True))
    planted_orders = {o for ids in shop.planted.values() for o in ids}
    by_rule = Counter(flags["rule"].to_list())
    right = {r: sum(1 for rr, o in got if rr == r and o in planted_orders) for r in by_rule}

    def precision(rule: str) -> float:
        return right.get(rule, 0) / by_rule[rule] if by_rule.get(rule) else float("nan")

    print(f"{'kind':24} {'rule':24} planted found recall precision(rule)")
    hits = total = 0
    for kind, ids in sorted(shop.planted.items()):
        rule, n = shop.rule_of[kind], len(set(ids))
        found = sum((rule, o) in got for o in set(ids))
        hits, total = hits + found, total + n
        print(f"{kind:24} {rule:24} {n:7} {found:5} {found / n:6.2f} {precision(rule):15.2f}")
    print(f"\n{'rule':24} flags right precision")
    for rule, n in sorted(by_rule.items()):
        print(f"{rule:24} {n:5} {right[rule]:5} {precision(rule):9.2f}")
    orders = frames["orders"]["order_id"].to_list()
    normal = [o for o in orders if o not in planted_orders]
    wrongly = {o for _, o in got if o not in planted_orders}
    fp = len(wrongly & set(normal)) / max(1, len(normal))
    out = {
        "kinds": len(shop.planted),
        "planted": total,
        "orders": len(orders),
        "recall": round(hits / max(1, total), 4),
        "precision": round(sum(right.values()) / max(1, len(got)), 4),
        "false_positive_rate": round(fp, 4),
        "seconds": round(took, 1),
    }
    print(f"\nnormal orders flagged: {len(wrongly & set(normal))} of {len(normal)}")
    if wrongly:
        print("wrongly flagged:", sorted((r, o) for r, o in got if o in wrongly)[:20])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
