"""HQ repricing the store's catalogue inside the catalogue (``Catalogue.price_split`` and
``prepare_update(prices=...)``): the products whose price alone changes are not sent as rows,
checked, written whole or indexed again, and the store ends exactly as the long way — every row
sent, merged and the catalogue written whole — leaves it: the same file, byte for byte, the
same journal, the same products in the same order, the same answers to a search and to a till
host."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import actors.catalogue as catalogue_mod
import actors.catalogue_hq_store as hq_store_mod
from actors.catalogue import Catalogue, products_of_chunks
from actors.catalogue_sync import CatalogueSync
from actors.catalogue_sync_local import LocalTarget
from actors.journal import Journal
from actors.shared_catalogue import SharedCatalogue
from actors.till import Who
from bundlekit import TestHQ, ean, product
from domain.catalogue import CatalogueIndex, Product, normal_dict, product_from_dict
from domain.catalogue_bundle import read_header
from domain.catalogue_merge import effective, price_only
from domain.catalogue_reprice import hq_prices, repriced, row_repriced
from domain.catalogue_rows import product_row
from domain.errors import InvalidInput
from domain.events import CatalogueVersionApplied, decode_body
from domain.ports import ManualClock
from domain.store import StoreConfig
from kassa_cli.sample import sample_products

STORE = "S001"
FIELDS = ["favourite", "low_stock", "image"]


class LongWay(LocalTarget):
    """The store before the catalogue could reprice itself: every row crosses (the old path)."""

    price_split = None  # type: ignore[assignment]


class Counting(LocalTarget):
    def __init__(self, data_dir: Path, config: StoreConfig) -> None:
        super().__init__(data_dir, config)
        self.sent: list[int] = []  # rows sent to each update
        self.asked: list[int | None] = []  # rows asked of the catalogue (None: all)

    async def rows(self, skus: list[str] | None = None) -> tuple[str, list[dict]]:
        self.asked.append(None if skus is None else len(skus))
        return await super().rows(skus)

    async def update(self, cid: str, products: list[dict], *a: Any, **k: Any) -> dict:
        self.sent.append(len(products))
        return await super().update(cid, products, *a, **k)


class Shop:
    def __init__(self, tmp: Path, hq: TestHQ, kind: type[LocalTarget]) -> None:
        self.dir = tmp
        self.target = kind(tmp, StoreConfig(store_id=STORE))
        self.sync = CatalogueSync(
            tmp, STORE, hq.public, self.target, self.target.journal, ManualClock()
        )

    def apply(self, data: bytes) -> dict:
        return asyncio.run(self.sync.apply_bytes(data, "hq"))

    def journal(self) -> list[tuple[str, Any]]:
        j = Journal(self.dir / "journal.sqlite")
        try:
            return [(e.kind, decode_body(e.kind, e.body)) for e in j.scan()]
        finally:
            j.close()


def _v1(n: int) -> list[dict]:
    return [product(f"P{i:04d}", 1000 + i, ean(i + 1)) for i in range(n)]


@pytest.mark.parametrize("delta_max", [20_000, 40], ids=["small", "large"])
def test_hq_repricing_inside_the_catalogue_ends_exactly_as_the_long_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delta_max: int
) -> None:
    """HQ reprices all 120 products (one renamed, one with a new barcode, one at its old price,
    one new, one removed); the store made one product a favourite and has one of its own.
    ``large``: more changes than ``DELTA_MAX``, the path a reprice of 300,000 takes."""
    monkeypatch.setattr(catalogue_mod, "DELTA_MAX", delta_max)
    hq = TestHQ()
    v1 = _v1(120)
    v2 = [{**p, "price": p["price"] + 7} for p in v1 if p["sku"] != "P0009"]
    v2[3]["names"] = {"en": "Durian crisps"}
    v2[4]["barcodes"] = [ean(9999)]
    v2[5]["price"] = v1[5]["price"]
    v2.append(product("NEW-1", 9000, names={"en": "Mango sticky rice"}))
    bundles = [hq.bundle(STORE, 1, v1), hq.bundle(STORE, 2, v2, base=1, removed=["P0009"])]
    new, old = Shop(tmp_path / "new", hq, Counting), Shop(tmp_path / "old", hq, LongWay)
    try:
        outs: dict[str, list[dict]] = {"new": [], "old": []}
        for name, shop in (("new", new), ("old", old)):
            shop.apply(bundles[0])
            mine = [
                {**shop.target.cat.index.by_sku["P0002"].to_dict(), "favourite": True},
                {"sku": "LOCAL", "names": {"en": "our own"}, "price": 55},
            ]
            asyncio.run(shop.target.update("local-edit-0001", mine, "import", Who("m1")))
            shop.apply(bundles[1])  # onto the catalogue the store changed: merged whole
            outs[name].append(shop.apply(hq.bundle(STORE, 3, v2, base=2)))  # nothing changes
            outs[name].append(shop.apply(hq.bundle(STORE, 4, v1[:-1], base=3)))  # and back
        v4 = [{**p, "price": p["price"] * 2} for p in v1[:-1]]
        v4[10]["favourite"] = True  # HQ's value of a field the store may own: merged long
        search = new.target.cat.index.prepare_search()
        asked = len(new.target.asked)
        bundle = hq.bundle(STORE, 5, v4, base=4)
        assert new.apply(bundle) == old.apply(bundle)
        assert new.target.cat.index.prepare_search() is search  # no name changed: kept
        assert outs["new"] == outs["old"]  # the same answers, version by version
        assert (new.dir / "catalogue.json").read_bytes() == (
            old.dir / "catalogue.json"
        ).read_bytes()
        assert new.journal() == old.journal()
        a, b = new.target.cat.index, old.target.cat.index
        assert list(a.by_sku.values()) == list(b.by_sku.values())
        assert (a.by_code, a.by_plu, a.version) == (b.by_code, b.by_plu, b.version)
        for q in ("durian", "mango", "product p00", "885"):
            assert new.target.cat.search(q) == old.target.cat.search(q)
        again = Catalogue(new.dir, StoreConfig(store_id=STORE))  # a restart reads the same
        assert list(again.index.by_sku.values()) == list(b.by_sku.values())
        # the last reprice sent the catalogue the rows of two products alone (HQ changed one's
        # favourite; the store made the other one its favourite) and asked for no rows
        assert new.target.sent[-1] == 2 and len(new.target.asked) == asked
    finally:
        new.target.close()
        old.target.close()


def test_a_reprice_the_store_would_refuse_is_refused_the_same_way(tmp_path: Path) -> None:
    """A price above the store's limit among HQ's new prices: nothing is repriced inside the
    catalogue; the update refuses the row the long way, naming it as before, and nothing
    changes."""
    hq = TestHQ()
    v1 = _v1(30)
    v2 = [{**p, "price": p["price"] + 1} for p in v1]
    v2[17]["price"] = 2_000_000_000
    errors = []
    for kind in (Counting, LongWay):
        shop = Shop(tmp_path / kind.__name__, hq, kind)
        try:
            shop.apply(hq.bundle(STORE, 1, v1))
            before = (shop.dir / "catalogue.json").read_bytes()
            with pytest.raises(InvalidInput) as err:
                shop.apply(hq.bundle(STORE, 2, v2, base=1))
            errors.append((err.value.code, err.value.details["row"], err.value.details["rows"]))
            assert (shop.dir / "catalogue.json").read_bytes() == before
            assert shop.sync.version == 1
        finally:
            shop.target.close()
    assert errors[0] == errors[1]


def _host_after(cat: Catalogue, host: CatalogueIndex, have: str) -> CatalogueIndex:
    kind, version, chunks, removed = cat.changes(have)
    if kind == "full":
        return CatalogueIndex(products_of_chunks(chunks), version)
    if kind == "prices":
        return SharedCatalogue._reprice(host, chunks, removed, version)
    SharedCatalogue._apply(host, products_of_chunks(chunks), removed, version)
    return host


changes = st.lists(
    st.sampled_from(["same", "price", "price", "price", "name", "favourite", "gone"]),
    min_size=60,
    max_size=60,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(what=changes, large=st.booleans(), new=st.booleans())
def test_price_split_then_update_equals_every_row_sent(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    what: list[str],
    large: bool,
    new: bool,
) -> None:
    """Any mix of HQ's changes to 60 products: the catalogue repricing what it can itself and
    taking the rest as rows ends as the catalogue taking every row (what the sync sent before):
    the same event, file, products and order; a till host holding the version before ends with
    the same products whichever way it is sent the change."""
    monkeypatch.setattr(catalogue_mod, "DELTA_MAX", 10 if large else 20_000)
    base = sample_products(60)
    cats = []
    for name in ("inside", "rows"):
        cat = Catalogue(tmp_path_factory.mktemp(name), StoreConfig())
        merged, ev = cat.prepare_update(base, "hq", replace_all=True)
        cat.commit(merged, ev.version)
        cats.append(cat)
    inside, rows = cats
    v1 = inside.version
    host = CatalogueIndex(products_of_chunks(inside.changes("")[2]), v1)
    hq: dict[str, dict] = {}
    gone = []
    for i, (p, how) in enumerate(zip(base, what, strict=True)):
        d = normal_dict(p)
        if how == "gone":
            gone.append(d["sku"])
            continue
        if how != "same":
            d["price"] += 1 + i
        if how == "name":
            d["names"] = {"en": f"renamed {i}"}
        if how == "favourite":
            d["favourite"] = not d["favourite"]
        hq[d["sku"]] = d
    if new:
        hq["NEW-1"] = normal_dict({"sku": "NEW-1", "names": {"en": "new"}, "price": 5})
    # the long way: every row the delta names, the price-only ones as HQ's rows
    current = [p.to_dict() for p in map(rows.index.by_sku.get, hq) if p is not None]
    same, rest = price_only(current, hq, FIELDS)
    done = {p["sku"] for p in same}
    long_rows = same + effective({s: r for s, r in hq.items() if s not in done}, {}, [], FIELDS)
    # inside the catalogue: prices, then the rows of the others
    version, prices, rest_blob = inside.price_split(hq)
    assert version == v1
    pairs = orjson.loads(prices)
    priced = {s for s, _ in pairs}
    assert priced == done
    short = effective({s: r for s, r in hq.items() if s not in priced}, {}, [], FIELDS)
    a, ev_a = inside.prepare_update(short, "hq", remove=gone, prices=pairs)
    b, ev_b = rows.prepare_update(long_rows, "hq", remove=gone)
    assert ev_a == ev_b
    inside.commit(a, ev_a.version)
    rows.commit(b, ev_b.version)
    assert inside.path.read_bytes() == rows.path.read_bytes()
    assert list(inside.index.by_sku.values()) == list(rows.index.by_sku.values())
    assert inside.search("renamed") == rows.search("renamed")
    host = _host_after(inside, host, v1)
    assert host.version == inside.version
    assert list(host.by_sku.values()) == list(inside.index.by_sku.values())
    assert host.by_code == inside.index.by_code


class Actor:
    """The catalogue actor's two calls a till host makes, in process."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat

    async def version(self) -> str:
        return self.cat.version

    async def changes(self, have: str) -> tuple:
        return self.cat.changes(have)


def test_a_till_host_takes_hqs_new_prices_without_loading_every_product(tmp_path: Path) -> None:
    """After HQ repriced every product, the till host is sent ``[sku, price]`` pairs, and
    swaps in a new copy: an index a till already holds keeps its prices (a basket's command
    in progress sees one catalogue), the next command sees every new price."""
    cat = Catalogue(tmp_path, StoreConfig())
    base = sample_products(500)
    merged, ev = cat.prepare_update(base, "hq", replace_all=True)
    cat.commit(merged, ev.version)
    shared = SharedCatalogue(Actor(cat))  # type: ignore[arg-type]
    before = asyncio.run(shared.index())
    hq = {p["sku"]: {**normal_dict(p), "price": p["price"] + 3} for p in base}
    version, prices, rest = cat.price_split(hq)
    assert orjson.loads(rest) == [] and version == cat.version
    change, ev = cat.prepare_update([], "hq", prices=orjson.loads(prices))
    cat.commit(change, ev.version)
    assert cat.changes(before.version)[0] == "prices"
    shared.changed()
    after = asyncio.run(shared.index())
    assert after is not before and after.version == cat.version
    assert list(after.by_sku.values()) == list(cat.index.by_sku.values())
    assert [p.price for p in before.by_sku.values()] == [p["price"] for p in base]


def test_a_saved_row_repriced_is_the_row_of_the_repriced_product() -> None:
    """The saved row's price is changed in its bytes: the same bytes as the product's row made
    again, whatever its names, SKU or barcodes hold."""
    tricky = [
        Product("P1", {"en": 'say "price":5,"sku":"x"', "price": "1"}, 10),
        Product('price"', {"en": "a"}, 0, category='"price":1,', sellable=False),
        Product("Z", {"zh": "价格"}, 999_999, unit="kg", plu="12345", merge=True),
    ]
    for p in tricky:
        for price in (0, 7, 10**9):
            row = orjson.dumps(product_row(p), option=orjson.OPT_SORT_KEYS)
            want = orjson.dumps(product_row(repriced(p, price)), option=orjson.OPT_SORT_KEYS)
            assert row_repriced(row, price) == want


def _perturbed() -> st.SearchStrategy[tuple[str, Any]]:
    fields = ["sku", "names", "price", "tax_class", "category", "barcodes", "unit", "plu"]
    fields += ["sellable", "low_stock", "favourite", "image", "merge", "extra"]
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-2, 2),
        st.sampled_from(["", "std", "each", "P1", "x"]),
        st.just([]),
        st.just(()),
        st.just({"en": "Milk"}),
        st.just({"en": "Milk", "th": "นม"}),
    )
    return st.tuples(st.sampled_from(fields), st.one_of(values, st.just("<drop>")))


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(_perturbed(), max_size=3))
def test_a_row_is_a_price_change_exactly_when_the_dicts_say_so(
    changes: list[tuple[str, Any]],
) -> None:
    """The catalogue's field-by-field test answers what the sync's comparison of the two dicts
    (``price_only``) answered, whatever HQ's row holds."""
    from domain.catalogue_reprice import _same_but_price

    p = Product("P1", {"en": "Milk"}, 100, favourite=False, low_stock=0)
    row = p.to_dict()
    for field, value in changes:
        if value == "<drop>":
            row.pop(field, None)
        else:
            row[field] = value
    assert _same_but_price(row, p) == ({**row, "price": p.price} == p.to_dict())


class Meanwhile(LocalTarget):
    """A manager's import lands between the reprice's comparison and its update."""

    edit: list[dict] = []

    async def price_split(
        self, hq: dict[str, dict], pairs: list[list] | None = None
    ) -> tuple[str, bytes | None, list[dict]]:
        out = await super().price_split(hq, pairs)
        await super().update("local-edit-0002", self.edit, "import", Who("m1"))
        return out


def test_an_import_between_the_comparison_and_the_reprice_merges_the_whole_catalogue(
    tmp_path: Path,
) -> None:
    """The catalogue changed after it compared HQ's rows: the repriced prices are not put in
    (they were found on the version before); the apply merges the whole catalogue again, ending
    as it would had the import come before the apply."""
    hq = TestHQ()
    v1 = _v1(30)
    v2 = [{**p, "price": p["price"] + 5} for p in v1]
    edit = [{**normal_dict(v1[4]), "price": 1}, {"sku": "LOCAL", "names": {"en": "x"}, "price": 9}]
    Meanwhile.edit = edit
    new, old = Shop(tmp_path / "new", hq, Meanwhile), Shop(tmp_path / "old", hq, LongWay)
    try:
        for shop in (new, old):
            shop.apply(hq.bundle(STORE, 1, v1))
        asyncio.run(old.target.update("local-edit-0002", edit, "import", Who("m1")))
        bundle = hq.bundle(STORE, 2, v2, base=1)
        assert new.apply(bundle) == old.apply(bundle)
        assert (new.dir / "catalogue.json").read_bytes() == (
            old.dir / "catalogue.json"
        ).read_bytes()
        assert new.journal() == old.journal()
        assert new.target.cat.index.by_sku["P0004"].price == v2[4]["price"]  # HQ's price back
    finally:
        new.target.close()
        old.target.close()


def test_a_repriced_product_is_the_product_with_its_new_price() -> None:
    """``repriced`` is written out field by field: every field of ``Product`` is copied (a
    field added to ``Product`` and not to ``repriced`` fails here)."""
    import dataclasses

    p = Product(
        "S1", {"en": "Rice"}, 100, "red", "food", (ean(3),), "kg", "12345", False, 4, True,
        "rice.png", True,
    )  # fmt: skip
    assert [f.name for f in dataclasses.fields(Product)] == list(Product.__slots__)
    assert all(getattr(p, f) != getattr(Product("X", {"en": "x"}, 0), f) for f in Product.__slots__)
    assert repriced(p, 250) == dataclasses.replace(p, price=250)
    assert repriced(p, 100) is p


def _no_sha(journal: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The journal without the bundles' hashes (HQ's two bundles of one version differ)."""
    return [
        (k, replace(b, sha256="") if isinstance(b, CatalogueVersionApplied) else b)
        for k, b in journal
    ]


def _pairs_and_rows(
    hq: TestHQ, v1: list[dict], v2: list[dict], version: int, fields: list[str]
) -> tuple[bytes, bytes]:
    """The delta from ``v1`` to ``v2`` as HQ now sends it (products whose price alone changed
    as ``[sku, price]`` pairs, format 2) and as every row."""
    was = {p["sku"]: p for p in v1}
    pairs = [
        [p["sku"], p["price"]]
        for p in v2
        if p["sku"] in was and p != was[p["sku"]] and {**was[p["sku"]], "price": p["price"]} == p
    ]
    priced = {s for s, _ in pairs}
    rest = [p for p in v2 if p["sku"] not in priced and p != was.get(p["sku"])]
    gone = [s for s in was if s not in {p["sku"] for p in v2}]
    kw: dict[str, Any] = {"base": version - 1, "removed": gone, "store_fields": fields}
    return (
        hq.bundle(STORE, version, rest, extra={"repriced": pairs}, **kw),
        hq.bundle(STORE, version, [p for p in v2 if p != was.get(p["sku"])], **kw),
    )


@pytest.mark.parametrize("owned", [False, True], ids=["hq-prices", "store-may-own-prices"])
def test_hqs_price_pairs_end_exactly_as_hqs_rows(tmp_path: Path, owned: bool) -> None:
    """HQ sends a reprice as ``[sku, price]`` pairs (and a renamed product, a new one, a
    removed one as before): the store ends exactly as when HQ sent every row — the same
    catalogue file byte for byte, journal, HQ's products in ``hq.sqlite``. The catalogue is
    sent no row of a repriced product and ``hq.sqlite`` is changed in place, not written
    again. When the store may own prices, the pairs are made rows and merged the long way
    (the store's own price of P0002 stays)."""
    fields = [*FIELDS, "price"] if owned else FIELDS
    hq = TestHQ()
    v1 = _v1(90)
    v2 = [{**p, "price": p["price"] + 11} for p in v1 if p["sku"] != "P0009"]
    v2[3]["names"] = {"en": "Durian crisps"}
    v2.append(product("NEW-1", 9000, names={"en": "Mango sticky rice"}))
    v3 = [{**p, "price": p["price"] * 3} for p in v2]
    shops = {
        "pairs": Shop(tmp_path / "pairs", hq, Counting),
        "rows": Shop(tmp_path / "rows", hq, Counting),
    }
    try:
        for shop in shops.values():
            shop.apply(hq.bundle(STORE, 1, v1, store_fields=fields))
            if owned:
                mine = [{**shop.target.cat.index.by_sku["P0002"].to_dict(), "price": 5}]
                asyncio.run(shop.target.update("local-price-01", mine, "import", Who("m1")))
        hq_file = shops["pairs"].dir / "hq_catalogue" / "hq.sqlite"
        inode = hq_file.stat().st_ino
        for version, (old, new) in ((2, (v1, v2)), (3, (v2, v3))):
            with_pairs, with_rows = _pairs_and_rows(hq, old, new, version, fields)
            assert read_header(with_pairs)[0]["format"] == 2
            got = shops["pairs"].apply(with_pairs), shops["rows"].apply(with_rows)
            assert got[0].pop("sha256") != got[1].pop("sha256")  # two bundles of HQ's
            assert got[0] == got[1]
        a, b = shops["pairs"], shops["rows"]
        assert (a.dir / "catalogue.json").read_bytes() == (b.dir / "catalogue.json").read_bytes()
        assert _no_sha(a.journal()) == _no_sha(b.journal())
        assert a.sync.store.all() == b.sync.store.all()
        assert a.sync.store.all()["P0005"]["price"] == (1005 + 11) * 3
        assert (a.target.cat.index.by_sku["P0002"].price == 5) is owned
        if not owned:  # the last reprice: no row crossed to the catalogue, no new hq.sqlite
            assert a.target.sent[-1] == 0 and b.target.sent[-1] == 0
            assert hq_file.stat().st_ino == inode
    finally:
        for shop in shops.values():
            shop.target.close()


def test_a_price_pair_the_store_would_refuse_is_refused_naming_its_row(tmp_path: Path) -> None:
    """One of HQ's new prices above the store's limit: the pairs go the long way as rows, the
    update refuses naming the row as when HQ sent every row, and nothing changes."""
    hq = TestHQ()
    v1 = _v1(30)
    v2 = [{**p, "price": p["price"] + 1} for p in v1]
    v2[17]["price"] = 2_000_000_000
    errors = []
    for way in (0, 1):
        shop = Shop(tmp_path / str(way), hq, Counting)
        try:
            shop.apply(hq.bundle(STORE, 1, v1))
            before = (shop.dir / "catalogue.json").read_bytes()
            with pytest.raises(InvalidInput) as err:
                shop.apply(_pairs_and_rows(hq, v1, v2, 2, FIELDS)[way])
            errors.append((err.value.code, err.value.details["row"], err.value.details["rows"]))
            assert (shop.dir / "catalogue.json").read_bytes() == before
            assert shop.sync.version == 1 and shop.sync.store.all()["P0017"]["price"] == 1017
        finally:
            shop.target.close()
    assert errors[0] == errors[1] and errors[0][0] == "amount.too_large"


def test_hqs_prices_are_checked_each_as_a_rows_price_would_be(tmp_path: Path) -> None:
    """A pair naming a product not held, or a price that is not a whole number within the
    store's limit, sends all the pairs the long way (None); pairs that are not pairs of a SKU
    and a whole number refuse the bundle (``catalogue.bad_bundle``) and nothing changes."""
    held = {p.sku: p for p in map(product_from_dict, sample_products(5))}
    limits, rate_of = StoreConfig().limits, StoreConfig().rate_of
    sku = next(iter(held))
    assert hq_prices(held, [[sku, 7]], limits, rate_of) == [(sku, 7)]
    for bad in ([sku, True], [sku, -1], [sku, 2_000_000_000], ["NOT-HELD", 7]):
        assert hq_prices(held, [[sku, 7], bad], limits, rate_of) is None, bad
    hq = TestHQ()
    shop = Shop(tmp_path, hq, Counting)
    try:
        v1 = _v1(3)
        shop.apply(hq.bundle(STORE, 1, v1))
        for pairs in ([["P0001", "12"]], [["P0001", 1, 2]], [[7, 1]], ["P0001"]):
            with pytest.raises(InvalidInput) as err:
                shop.apply(hq.bundle(STORE, 2, [], base=1, extra={"repriced": pairs}))
            assert err.value.code == "catalogue.bad_bundle", pairs
        assert shop.sync.version == 1 and shop.target.cat.index.by_sku["P0001"].price == 1001
    finally:
        shop.target.close()


class ImportAfterVersion(LocalTarget):
    """A manager's import lands after the sync read the catalogue's version, before HQ's new
    prices reach the update."""

    edit: list[dict] = []

    async def version(self) -> str:
        out = await super().version()
        if self.edit:
            edit, ImportAfterVersion.edit = self.edit, []
            await super().update("local-edit-0003", edit, "import", Who("m1"))
        return out


def test_an_import_before_hqs_prices_reach_the_catalogue_merges_the_whole_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HQ's pairs were meant for the version before an import: the update answers moved, the
    pairs are made rows and the whole catalogue is merged, ending as when HQ sent every row
    after the import (HQ's price back on the product the import repriced, the store's own
    product kept); ``hq.sqlite``'s prices written ahead are put in once."""
    monkeypatch.setattr(hq_store_mod, "STAGE_PRICES", 5)
    hq = TestHQ()
    v1 = _v1(30)
    v2 = [{**p, "price": p["price"] + 5} for p in v1]
    edit = [{**normal_dict(v1[4]), "price": 1}, {"sku": "LOCAL", "names": {"en": "x"}, "price": 9}]
    shops = [Shop(tmp_path / "pairs", hq, ImportAfterVersion), Shop(tmp_path / "rows", hq, LongWay)]
    try:
        for shop in shops:
            shop.apply(hq.bundle(STORE, 1, v1))
        asyncio.run(shops[1].target.update("local-edit-0003", edit, "import", Who("m1")))
        ImportAfterVersion.edit = edit
        with_pairs, with_rows = _pairs_and_rows(hq, v1, v2, 2, FIELDS)
        got = shops[0].apply(with_pairs), shops[1].apply(with_rows)
        assert got[0].pop("sha256") != got[1].pop("sha256") and got[0] == got[1]
        a, b = shops
        assert (a.dir / "catalogue.json").read_bytes() == (b.dir / "catalogue.json").read_bytes()
        assert _no_sha(a.journal()) == _no_sha(b.journal())
        assert a.target.cat.index.by_sku["P0004"].price == v2[4]["price"]
        assert a.target.cat.index.by_sku["LOCAL"].price == 9
        assert a.sync.store.all() == b.sync.store.all()
    finally:
        for shop in shops:
            shop.target.close()
