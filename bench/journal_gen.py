"""A fast generator of a valid, hash-chained journal of a busy shop.

``ShopStream(rng)`` yields ``(body, staff, till, ts)`` of the events a busy shop journals, each one
the ledger's book accepts at that point: staff and members registered, each till's day opened with
a sign-in, sales (lines scanned, then the order paid by cash, card or wallet, numbered as the
ledger numbers them), some baskets voided, refunds (by line, back to the original tenders, by
``decide_refund``), wallet top-ups, goods received, days closed at night. ``write_journal`` seals
them with the journal's own chain (``domain.journal_format.seal``) and writes them into a store
journal (``actors.journal_store.SCHEMA``) in big transactions.

    uv run python bench/journal_gen.py DATA_DIR --events 1000000 [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from actors.journal_store import SCHEMA
from actors.ledger import agg_of
from domain.book import Book
from domain.book_records import decide_refund
from domain.day import DayClosed, DayOpened
from domain.events import (
    BasketVoided,
    LineAdded,
    MemberRegistered,
    OrderCompleted,
    OrderLine,
    Payment,
    StockReceived,
    WalletToppedUp,
    encode_body,
    kind_of,
    version_of,
)
from domain.journal_format import GENESIS, seal
from domain.numbering import order_number, refund_number
from domain.staff import SignedIn, StaffCreated
from domain.staff_rules import SEALED_PREFIX

__all__ = ["ShopStream", "write_journal"]

DAY_US = 86_400_000_000
START_US = 1_767_225_600_000_000  # 2026-01-01 UTC


class ShopStream:
    """Events of a busy shop, as the ledger would have committed them (numbers, balances)."""

    def __init__(
        self,
        rng: random.Random,
        tills: int = 4,
        members: int = 200,
        skus: int = 300,
        sales_per_day: int = 5000,
        keep_orders: int = 5000,
    ) -> None:
        self.rng = rng
        self.tills = [f"T{i + 1}" for i in range(tills)]
        self.staff = [f"S{i + 1}" for i in range(tills + 2)]
        self.members = [f"M{i + 1:05d}" for i in range(members)]
        self.skus = [(f"SKU{i:05d}", 50 + rng.randrange(2000)) for i in range(skus)]
        self.sales_per_day = sales_per_day
        self.keep_orders = keep_orders  # orders a refund may pick from (the book keeps no more)
        self.book = Book()  # numbers, wallets and orders, to refund as the ledger decides
        self.ts = START_US
        self.ids = itertools.count(1)

    def _id(self) -> str:
        """A time-ordered UUID (v7 layout): ids and aggregates index in order, as a till's are."""
        n = next(self.ids)
        return (
            f"{self.ts // 1000:012x}"[:8]
            + f"-{n >> 48 & 0xFFFF:04x}-7{n >> 36 & 0xFFF:03x}"
            + (f"-8{n >> 24 & 0xFFF:03x}-{n & 0xFFFFFF:06x}{self.rng.getrandbits(24):06x}")
        )

    def _tick(self, spread_us: int) -> int:
        self.ts += 1 + self.rng.randrange(spread_us)
        return self.ts

    def _emit(self, body: Any, staff: str, till: str) -> tuple[Any, str, str, int]:
        return body, staff, till, self.ts

    def events(self) -> Iterator[tuple[Any, str, str, int]]:
        rng = self.rng
        for s in self.staff:
            pin = SEALED_PREFIX + "x" * 40  # a sealed hash's shape (no one signs in with it)
            yield self._emit(StaffCreated(s, f"Staff {s}", "cashier", "en", pin), "", "")
        for m in self.members:
            yield self._emit(MemberRegistered(m, f"Member {m}", "", f"C{m}"), "", "")
        day = 0
        while True:
            day_start = START_US + day * DAY_US
            self.ts = max(self.ts, day_start + 8 * 3_600_000_000)
            business = datetime.fromtimestamp(day_start / 1e6, UTC).date().isoformat()
            cashier = dict(zip(self.tills, rng.sample(self.staff, len(self.tills)), strict=True))
            for t in self.tills:
                self._tick(1_000_000)
                sess = SignedIn(cashier[t], t, f"{next(self.ids):064x}", "cashier", "en")
                yield self._emit(sess, cashier[t], t)
                yield self._emit(DayOpened(t, business, 20000), cashier[t], t)
            gap = max(1, 12 * 3_600_000_000 // self.sales_per_day)
            for _ in range(self.sales_per_day):
                t = rng.choice(self.tills)
                r = rng.random()
                if r < 0.01:
                    yield from self._refund(cashier[t], t)
                elif r < 0.02:
                    m = rng.choice(self.members)
                    amt = 1000 * rng.randint(1, 20)
                    after = self.book.balance(m) + amt
                    yield self._emit(WalletToppedUp(m, amt, "cash", "", after), cashier[t], t)
                elif r < 0.025:
                    sku = rng.choice(self.skus)[0]
                    yield self._emit(StockReceived(sku, rng.randint(10, 200), "PO"), "", "")
                yield from self._sale(cashier[t], t, gap, void=r > 0.995)
            for t in self.tills:
                self._tick(1_000_000)
                body = DayClosed(t, 20000, business, 20000)
                yield self._emit(body, cashier[t], t)
            day += 1
            if len(self.book.orders) > 2 * self.keep_orders:
                self.book.evict(self.book.horizon(self.keep_orders))

    def _sale(self, staff: str, till: str, gap: int, void: bool) -> Iterator[tuple]:
        rng = self.rng
        basket = self._id()
        lines = []
        for i in range(rng.choice((1, 2, 3, 3, 4, 5, 6, 8))):
            sku, price = rng.choice(self.skus)
            qty = rng.choice((1, 1, 1, 2, 3))
            self._tick(gap // 10 or 1)
            body = LineAdded(basket, f"L{i + 1}", sku, {"en": sku}, "pc", qty, price, "std", 700)
            lines.append(body)
            yield self._emit(body, staff, till)
        self._tick(gap // 2 or 1)
        if void:
            yield self._emit(BasketVoided(basket, "changed mind", len(lines)), staff, till)
            return
        olines = tuple(
            OrderLine(
                ln.line_id,
                ln.sku,
                ln.names,
                "",
                "pc",
                ln.qty,
                ln.unit_price,
                ln.unit_price * ln.qty,
                0,
                ln.unit_price * ln.qty,
                ln.unit_price * ln.qty * 700 // 10700,
                ln.unit_price * ln.qty,
                "std",
                700,
            )  # fmt: skip
            for ln in lines
        )
        total = sum(ln.total for ln in olines)
        member = rng.choice(self.members) if rng.random() < 0.2 else ""
        r = rng.random()
        if member and self.book.balance(member) >= total and r < 0.5:
            pays: tuple[Payment, ...] = (Payment("wallet", total, member=member),)
        elif r < 0.45:
            pays = (Payment("card", total, reference=f"TRM-{next(self.ids)}", last4="4242"),)
        else:
            tendered = -(-total // 1000) * 1000
            pays = (Payment("cash", total, tendered, tendered - total),)
        change = sum(p.change for p in pays)
        number = order_number(till, self.book.numbers.orders.get(till, 0) + 1)
        body = OrderCompleted(
            basket, number, "THB", True, olines, total, 0, sum(ln.tax for ln in olines), total,
            0, pays, change, member,
        )  # fmt: skip
        yield self._emit(body, staff, till)

    def _refund(self, staff: str, till: str) -> Iterator[tuple]:
        if not self.book.orders:
            return
        rec = self.rng.choice(list(dict.values(self.book.orders))[-self.keep_orders :])
        left = [ln for ln in rec.order.lines if rec.refunded_qty.get(ln.line_id, 0) < ln.qty]
        if not left:
            return
        self._tick(10_000_000)
        body = decide_refund(rec, self._id(), {left[0].line_id: 1}, 1, "returned")
        n = self.book.numbers.refunds.get(till, 0) + 1
        yield self._emit(
            _with_number(body, refund_number(till, n)),
            staff,
            till,
        )

    def stream(self) -> Iterator[tuple[Any, str, str, int]]:
        """The events, applied to this stream's book as they go (so numbers and balances hold)."""
        for seq, (body, staff, till, ts) in enumerate(self.events(), 1):
            self.book.apply(body, staff, till, ts, seq)
            yield body, staff, till, ts


def _with_number(body: Any, number: str) -> Any:
    from dataclasses import replace

    return replace(body, number=number)


def write_journal(
    path: Path | str,
    events: int,
    seed: int = 1,
    batch: int = 200_000,
    log: bool = False,
    append: bool = False,
) -> dict[str, Any]:
    """A new journal at ``path`` holding ``events`` events of a busy shop (``append``: added to
    an existing store's journal, chained after its last event); its last seq and hash."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not append:
        raise SystemExit(f"{path} exists")
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.executescript(SCHEMA)
    t0 = time.perf_counter()
    stream = ShopStream(random.Random(seed)).stream()
    prev, seq, kinds = GENESIS, 0, {}
    last = con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    if last:
        seq, prev = last[0], bytes(last[1])
    events += seq
    ins = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    sha = hashlib.sha256
    while seq < events:
        rows = []
        for body, staff, till, ts in itertools.islice(stream, min(batch, events - seq)):
            seq += 1
            kind = kind_of(body)
            kinds[kind] = kinds.get(kind, 0) + 1
            cid = f"{seq:08x}-0000-4000-8000-{seed:012x}"
            raw = encode_body(body)
            env = seal(
                prev, seq, cid, ts, kind, version_of(kind), staff, till, "", agg_of(body), raw
            )
            prev = env.hash
            rows.append((*_fields(env), sha(cid.encode()).digest(), env.hash))
        con.execute("BEGIN")
        con.executemany(ins, rows)
        con.execute("COMMIT")
        if log:
            rate = seq / (time.perf_counter() - t0)
            print(f"{seq} events, {rate:.0f}/s", file=sys.stderr, flush=True)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {"events": seq, "hash": prev.hex(), "seconds": time.perf_counter() - t0, "kinds": kinds}


def _fields(env: Any) -> tuple:
    return (
        env.seq,
        env.id,
        env.ts,
        env.kind,
        env.v,
        env.staff,
        env.till,
        env.ip,
        env.agg,
        env.body,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="store data folder (journal.sqlite is made in it)")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    out = write_journal(a.data / "journal.sqlite", a.events, a.seed, log=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
