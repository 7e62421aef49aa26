"""Publishing a few changes asks HQ's master data only for what changed (``changes_for_store``)
and writes only those rows; after any sequence of edits, deletes, feed products, subscriptions,
price groups, scheduled prices added, deleted and coming due, the chain of deltas a store applies
gives exactly the newest full bundle, which is exactly ``products_for_store``."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from cloud.licence import LicenceAuthority
from cloud.master import MasterData
from cloud.publish import Publisher
from domain.catalogue_bundle import Bundle, apply_delta, unpack
from domain.ports import ManualClock

T0 = 1_767_225_600_000_000
S1, S2 = "S001", "S002"
MIN = 60_000_000


def prod(sku: str, price: int, name: str = "") -> dict[str, Any]:
    return {"sku": sku, "names": {"en": name or f"Item {sku}", "th": f"สินค้า {sku}"}, "price": price}


@pytest.fixture
def hq(tmp_path):
    clock = ManualClock(T0)
    md = MasterData(tmp_path, clock)
    md.put_store_profile({"id": S1, "name": "North", "group": "north"}, "ana")
    md.put_store_profile({"id": S2, "name": "South", "group": "default"}, "ana")
    md.upsert_products([prod(f"A{i:04d}", 1000 + i) for i in range(300)], "ana")
    md.upsert_products([prod(f"F{i:03d}", 500 + i) for i in range(20)], "feed", "feed:acme")
    pub = Publisher(tmp_path, md, LicenceAuthority(tmp_path, clock), clock)
    yield md, pub, clock
    pub.close()
    md.close()


def _open(pub: Publisher, data: bytes | None, store: str) -> Bundle:
    assert data is not None
    return unpack(data, pub.authority.public_key_text(), store=store)


def _by_sku(products: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(p["sku"]): p for p in products}


def _step(md: MasterData, rng: random.Random, clock: ManualClock, n: int) -> None:
    """One random change of master data (or of the time)."""
    now = clock.now_us()
    skus = [p["sku"] for p in md.products(limit=10_000)[0]]
    op = rng.choice(["edit", "edit", "add", "delete", "feed", "price", "unprice", "time", "sub"])
    if op == "edit" and skus:
        sku = rng.choice(skus)
        md.upsert_products([prod(sku, rng.randint(1, 9999), f"Edited {n}")], "ana")
    elif op == "add":
        md.upsert_products([prod(f"N{n:04d}", rng.randint(1, 9999))], "ana")
    elif op == "delete" and skus:
        md.delete_product(rng.choice(skus), "ana")
    elif op == "feed":
        md.upsert_products(
            [prod(f"F{rng.randint(0, 30):03d}", rng.randint(1, 99))], "f", "feed:acme"
        )
    elif op == "price" and skus:
        group = rng.choice(["north", "default", "*", "west"])
        when = now + rng.randint(-10, 30) * MIN
        md.add_price({"sku": rng.choice(skus), "group": group, "price": n, "from_us": when}, "ana")
    elif op == "unprice" and md.prices():
        md.delete_price(rng.choice(md.prices())["id"], "ana")
    elif op == "time":
        clock.advance(us=rng.randint(1, 20) * MIN)
    elif op == "sub":
        store = rng.choice([S1, S2])
        if rng.random() < 0.5:
            md.subscribe(store, "acme")
        else:
            md.unsubscribe(store, "acme")
    if rng.random() < 0.05:  # a store moves to another price group
        md.put_store_profile(
            {"id": S2, "name": "South", "group": rng.choice(["default", "west"])}, "ana"
        )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_chain_of_deltas_after_random_changes_equals_the_newest_full_catalogue(hq, seed) -> None:
    md, pub, clock = hq
    rng = random.Random(seed)
    held: dict[str, tuple[int | None, dict[str, dict[str, Any]]]] = {S1: (None, {}), S2: (None, {})}
    for n in range(60):
        _step(md, rng, clock, n)
        if rng.random() > 0.3:
            continue
        stores = rng.choice([[S1], [S2], [S1, S2]])
        at = clock.now_us()
        version = pub.publish(stores, "ana")
        for store in stores:
            have, products = held[store]
            if rng.random() < 0.3 and have is not None:
                continue  # this store pulls later: its next delta spans versions
            got = _open(pub, pub.bundle_for(store, have), store)
            assert got.kind == ("full" if have is None else "delta")
            products = apply_delta(products, have, got)
            held[store] = (version, products)
            full = _open(pub, pub.bundle_for(store, None), store)
            assert (full.kind, full.version) == ("full", version)
            assert products == _by_sku(full.products), (seed, n, store)
            assert products == _by_sku(md.products_for_store(store, at)), (seed, n, store)
            assert got.prices == full.prices == md.scheduled_prices(store, at)


def test_a_publish_after_a_few_changes_reads_only_those(hq) -> None:
    md, pub, clock = hq
    v1 = pub.publish([S1], "ana")
    full_reads: list[str] = []
    whole = md.products_for_store

    def counted(store: str, at_us: int) -> list[dict[str, Any]]:
        full_reads.append(store)
        return whole(store, at_us)

    md.products_for_store = counted
    md.upsert_products([prod("A0001", 1), prod("A0002", 2)], "ana")
    md.delete_product("A0003", "ana")
    md.add_price({"sku": "A0004", "group": "north", "price": 7, "from_us": T0 + 5 * MIN}, "ana")
    md.add_price({"sku": "A0005", "group": "south", "price": 8, "from_us": T0}, "ana")  # not S1's
    clock.advance(us=10 * MIN)  # A0004's new price comes due
    v2 = pub.publish([S1], "ana")
    assert full_reads == []
    delta = _open(pub, pub.bundle_for(S1, v1), S1)
    assert delta.products == [] and delta.removed == ["A0003"] and delta.version == v2
    # their prices alone changed: [sku, price] pairs, not their rows
    assert delta.repriced == [["A0001", 1], ["A0002", 2], ["A0004", 7]]
    md.subscribe(S1, "acme")  # the store's sources change: everything is read again
    v3 = pub.publish([S1], "ana")
    assert full_reads == [S1]
    assert sorted(p["sku"] for p in _open(pub, pub.bundle_for(S1, v2), S1).products) == [
        f"F{i:03d}" for i in range(20)
    ]
    assert pub.bundle_for(S1, v3) is None


def test_changes_for_store_names_what_changed_between_two_moments(hq) -> None:
    md, _pub, clock = hq
    v0, t0 = md.version(), clock.now_us()
    assert md.changes_for_store(S1, v0, t0, t0) == ([], [])
    md.add_price({"sku": "A0010", "group": "*", "price": 3, "from_us": t0 + MIN}, "ana")
    v1 = md.version()
    changed, removed = md.changes_for_store(S1, v0, t0, t0) or ([], [])
    assert [(p["sku"], p["price"]) for p in changed] == [("A0010", 1010)] and removed == []
    clock.advance(us=2 * MIN)
    changed, _ = md.changes_for_store(S1, v1, clock.now_us(), t0) or ([], [])
    assert [(p["sku"], p["price"]) for p in changed] == [("A0010", 3)]  # came due
    assert md.changes_for_store(S1, v1, clock.now_us(), clock.now_us()) == ([], [])
    md.delete_price(md.prices("A0010")[0]["id"], "ana")
    changed, _ = md.changes_for_store(S1, v1, clock.now_us(), clock.now_us()) or ([], [])
    assert [(p["sku"], p["price"]) for p in changed] == [("A0010", 1010)]
    v2 = md.version()
    md.upsert_products([prod("F001", 1)], "feed", "feed:acme")  # S1 does not take the feed
    assert md.changes_for_store(S1, v2, clock.now_us(), clock.now_us()) == ([], ["F001"])
    md.subscribe(S2, "acme")
    assert md.changes_for_store(S1, v2, clock.now_us(), clock.now_us()) is not None
    assert md.changes_for_store(S2, v2, clock.now_us(), clock.now_us()) is None
    assert md.changes_for_store(S1, v2, t0, clock.now_us()) is None  # the clock went back


def test_two_publishes_at_once_give_two_consistent_versions(hq) -> None:
    md, pub, _clock = hq
    v1 = pub.publish([S1], "ana")
    held = _by_sku(_open(pub, pub.bundle_for(S1, None), S1).products)
    md.upsert_products([prod("A0100", 1)], "ana")
    got: list[int] = []
    ts = [threading.Thread(target=lambda: got.append(pub.publish([S1], "x"))) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert len(set(got)) == 2 and v1 < min(got)
    first, last = sorted(got)
    full = _by_sku(_open(pub, pub.bundle_for(S1, None), S1).products)
    assert full["A0100"]["price"] == 1 and full == _by_sku(md.products_for_store(S1, T0))
    assert apply_delta(held, v1, _open(pub, pub.bundle_for(S1, v1), S1)) == full
    step = _open(pub, pub.bundle_for(S1, first), S1)
    assert (step.kind, step.base, step.products, step.removed) == ("delta", first, [], [])
