"""The store applying HQ's signed bundles (``actors.catalogue_sync``) over its catalogue file and
journal, without a server: what is applied, journaled, refused, kept, and when prices change."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from actors.catalogue_pull import PullAnswer
from actors.catalogue_sync import CatalogueSync
from actors.catalogue_sync_local import LocalTarget
from actors.catalogue_sync_loop import Puller
from actors.journal import Journal
from actors.till import Who
from bundlekit import TestHQ, ean, product, tamper
from domain.errors import KassaError
from domain.events import decode_body
from domain.ports import ManualClock
from domain.store import StoreConfig

STORE = "S001"


class Shop:
    def __init__(self, tmp: Path, hq: TestHQ) -> None:
        self.dir = tmp / "store"
        self.hq = hq
        self.clock = ManualClock()
        self.target = LocalTarget(self.dir, StoreConfig(store_id=STORE))
        self.sync = CatalogueSync(
            self.dir, STORE, hq.public, self.target, self.target.journal, self.clock
        )

    def apply(self, data: bytes, source: str = "usb") -> dict:
        return asyncio.run(self.sync.apply_bytes(data, source))

    def products(self) -> dict[str, dict]:
        return {p.sku: p.to_dict() for p in self.target.cat.snapshot()[1]}

    def kinds(self) -> list[str]:
        j = Journal(self.dir / "journal.sqlite")
        try:
            return [e.kind for e in j.scan()]
        finally:
            j.close()


@pytest.fixture
def shop(tmp_path):
    s = Shop(tmp_path, TestHQ())
    yield s
    s.target.close()


def test_a_full_bundle_is_applied_and_its_version_journaled(shop):
    out = shop.apply(shop.hq.bundle(STORE, 3, [product("A", 100, ean(1)), product("B", 200)]))
    assert out["applied"] and out["version"] == 3 and out["count"] == 2
    assert {k: v["price"] for k, v in shop.products().items()} == {"A": 100, "B": 200}
    assert shop.kinds() == ["catalogue.updated", "catalogue.version_applied"]
    assert shop.sync.status()["version"] == 3 and shop.sync.status()["source"] == "usb"
    again = shop.apply(shop.hq.bundle(STORE, 3, [product("A", 100)]))  # the same version
    assert not again["applied"] and len(shop.kinds()) == 2


def test_the_stores_own_products_and_fields_survive_hq_updates(shop):
    shop.apply(shop.hq.bundle(STORE, 1, [product("A", 100), product("B", 200)]))
    mine = [
        {**shop.products()["A"], "favourite": True, "low_stock": 7},
        {"sku": "LOCAL", "names": {"en": "our own"}, "price": 55},
    ]
    asyncio.run(shop.target.update("local-edit-0001", mine, "import", Who("m1")))
    delta = shop.hq.bundle(
        STORE, 2, [product("A", 130, names={"en": "HQ name"})], base=1, removed=["B"]
    )
    shop.apply(delta, "hq")
    now = shop.products()
    assert set(now) == {"A", "LOCAL"}
    assert now["A"]["price"] == 130 and now["A"]["names"] == {"en": "HQ name"}
    assert now["A"]["favourite"] is True and now["A"]["low_stock"] == 7
    assert now["LOCAL"]["price"] == 55


@pytest.mark.parametrize(
    "make, code",
    [
        (
            lambda hq, other: tamper(hq.bundle(STORE, 9, [product("A", 1)])),
            "catalogue.bad_signature",
        ),
        (lambda hq, other: other.bundle(STORE, 9, [product("A", 1)]), "catalogue.bad_signature"),
        (lambda hq, other: hq.bundle("S002", 9, [product("A", 1)]), "catalogue.foreign_store"),
        (lambda hq, other: hq.bundle(STORE, 9, [product("A", 1)], base=4), "catalogue.delta_base"),
        (lambda hq, other: hq.bundle(STORE, 1, [product("A", 1)]), "catalogue.older_version"),
        (lambda hq, other: b"not a bundle at all", "catalogue.bad_bundle"),
    ],
)
def test_a_bad_bundle_is_refused_and_nothing_changes(shop, make, code):
    shop.apply(shop.hq.bundle(STORE, 2, [product("A", 100)]))
    before, kinds = shop.products(), shop.kinds()
    with pytest.raises(KassaError) as exc:
        shop.apply(make(shop.hq, TestHQ()))
    assert exc.value.code == code
    assert shop.products() == before and shop.kinds() == kinds
    assert shop.sync.status()["version"] == 2


def test_a_scheduled_price_is_applied_when_due_and_journaled(shop):
    later = shop.clock.now_us() + 3_600_000_000
    shop.apply(
        shop.hq.bundle(
            STORE, 1, [product("A", 100)], prices=[{"sku": "A", "price": 80, "from_us": later}]
        )
    )
    assert asyncio.run(shop.sync.apply_due_prices()) is None
    assert shop.products()["A"]["price"] == 100 and shop.sync.status()["next_price_us"] == later
    shop.clock.advance(3600)
    assert asyncio.run(shop.sync.apply_due_prices())["changed"] == ["A"]
    assert shop.products()["A"]["price"] == 80
    assert shop.kinds()[-1] == "catalogue.updated" and shop.sync.status()["scheduled_prices"] == 0


class FakePull:
    def __init__(self, answers: list) -> None:
        self.answers = answers
        self.asked: list[int | None] = []

    async def pull(self, have: int | None) -> PullAnswer:
        self.asked.append(have)
        a = self.answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a


def test_a_delta_on_the_wrong_base_makes_the_puller_ask_for_a_full_one(shop):
    shop.apply(shop.hq.bundle(STORE, 5, [product("A", 100)]))
    fake = FakePull(
        [
            PullAnswer(200, shop.hq.bundle(STORE, 7, [product("A", 1)], base=6)),
            PullAnswer(200, shop.hq.bundle(STORE, 7, [product("A", 120)])),
        ]
    )
    out = asyncio.run(Puller(shop.sync, fake).pull_once())  # type: ignore[arg-type]
    assert fake.asked == [5, None]
    assert out["version"] == 7 and shop.products()["A"]["price"] == 120


def test_a_failed_pull_is_kept_in_the_status_until_one_succeeds(shop):
    from domain.errors import Unavailable

    fake = FakePull([Unavailable("catalogue.pull_failed", "cannot reach HQ"), PullAnswer(204)])
    puller = Puller(shop.sync, fake)  # type: ignore[arg-type]
    with pytest.raises(KassaError):
        asyncio.run(puller.pull_once())
    st = puller.status()
    assert st["error"]["code"] == "catalogue.pull_failed" and st["failures"] == 1
    assert st["last_pull_us"] and not st["last_ok_us"]
    asyncio.run(puller.pull_once())
    assert puller.status()["error"] is None and puller.status()["last_ok_us"]


def test_a_scheduled_price_hq_withdrew_is_dropped_by_the_next_version(shop):
    later = shop.clock.now_us() + 3_600_000_000
    planned = [{"sku": "A", "price": 80, "from_us": later}]
    shop.apply(shop.hq.bundle(STORE, 1, [product("A", 100)], prices=planned))
    assert shop.sync.status()["scheduled_prices"] == 1
    shop.apply(shop.hq.bundle(STORE, 2, [], base=1, prices=[]), "hq")
    shop.clock.advance(7200)
    assert asyncio.run(shop.sync.apply_due_prices()) is None
    assert shop.products()["A"]["price"] == 100


def _updated_skus(shop: Shop) -> list[tuple[str, ...]]:
    j = Journal(shop.dir / "journal.sqlite")
    try:
        return [
            tuple(decode_body(e.kind, e.body).skus)
            for e in j.scan()
            if e.kind == "catalogue.updated"
        ]
    finally:
        j.close()


def test_a_delta_onto_hqs_own_catalogue_sends_only_what_it_names_and_ends_as_a_full_one(
    tmp_path,
):
    """The day's price changes: the store runs what HQ's last version made, so only the delta's
    products are merged and checked — and the catalogue ends exactly as the same version sent
    full would leave it (a store-owned field kept, a removed product gone, a new one there)."""
    hq = TestHQ()
    v1 = [product(s, 100 + i, ean(i + 1)) for i, s in enumerate("ABCDE")]
    fields_kept = {"favourite": True}
    v2 = [product("B", 150, ean(2), **fields_kept), product("F", 60)]
    full2 = [p for p in v1 if p["sku"] not in ("B", "C")] + v2

    inc = Shop(tmp_path / "inc", hq)
    inc.apply(hq.bundle(STORE, 1, v1))
    inc.apply(hq.bundle(STORE, 2, v2, base=1, removed=["C"]), "hq")
    ref = Shop(tmp_path / "ref", hq)
    ref.apply(hq.bundle(STORE, 1, v1))
    ref.apply(hq.bundle(STORE, 2, full2), "hq")
    try:
        assert inc.products() == ref.products()
        assert set(inc.products()) == {"A", "B", "D", "E", "F"}
        assert inc.products()["B"]["price"] == 150 and inc.products()["B"]["favourite"] is True
        assert sorted(_updated_skus(inc)[-1]) == ["B", "F"]  # only the delta's rows checked
        assert sorted(_updated_skus(ref)[-1]) == ["A", "B", "D", "E", "F"]
    finally:
        inc.target.close()
        ref.target.close()


def test_a_delta_after_the_store_changed_its_catalogue_is_merged_whole(shop):
    """The store imported a price of its own for an HQ product (not a field it owns) since
    HQ's last version: the next delta merges the whole catalogue, so HQ's price comes back."""
    shop.apply(shop.hq.bundle(STORE, 1, [product("A", 100), product("B", 200)]))
    a = shop.products()["A"]
    asyncio.run(shop.target.update("local-price-0001", [{**a, "price": 1}], "import", Who("m1")))
    shop.apply(shop.hq.bundle(STORE, 2, [product("B", 210)], base=1), "hq")
    assert shop.products()["A"]["price"] == 100 and shop.products()["B"]["price"] == 210
    assert sorted(_updated_skus(shop)[-1]) == ["A", "B"]
