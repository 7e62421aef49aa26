"""Publisher against a small in-memory master: full, delta and none; deltas from any held
version equal the full bundle; unknown bases get a full bundle; preview; concurrent publishes."""

from __future__ import annotations

import copy
import os
import stat
import threading
from typing import Any

import pytest

from cloud.licence import LicenceAuthority
from cloud.publish import Publisher
from domain.catalogue_bundle import apply_delta, unpack
from domain.errors import InvalidInput, NotFound
from domain.ports import ManualClock

S1, S2 = "S001", "S002"


class FakeMaster:
    """``cloud.master.MasterData``'s reading side as publishing uses it."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: list[dict[str, Any]] = []
        self.fields = ["favourite", "low_stock", "image"]
        self.profiles: dict[str, dict] = {s: {"id": s, "name": s} for s in (S1, S2)}
        self.v = 0
        self.audited: list[tuple] = []

    def set(self, *products: dict) -> None:
        for p in products:
            self.products[p["sku"]] = p
        self.v += 1

    def drop(self, sku: str) -> None:
        del self.products[sku]
        self.v += 1

    def version(self) -> int:
        return self.v

    def products_for_store(self, store: str, at_us: int) -> list[dict]:
        out = []
        for p in self.products.values():
            q = copy.deepcopy(p)
            for ch in self.prices:
                if ch["sku"] == q["sku"] and ch["from_us"] <= at_us:
                    q["price"] = ch["price"]
            out.append(q)
        return out

    def scheduled_prices(self, store: str, after_us: int) -> list[dict]:
        return [dict(c) for c in self.prices if c["from_us"] > after_us]

    def store_profile(self, store: str) -> dict | None:
        return self.profiles.get(store)

    def store_profiles(self) -> list[dict]:
        return list(self.profiles.values())

    def store_fields(self) -> list[str]:
        return list(self.fields)

    def audit(self, who: str, what: str, detail: dict) -> None:
        self.audited.append((who, what, detail))


def _p(sku: str, price: int = 100, **kw: Any) -> dict:
    return {"sku": sku, "names": {"en": f"P {sku}", "th": f"สินค้า {sku}"}, "price": price, **kw}


@pytest.fixture
def env(tmp_path):
    clock = ManualClock()
    master = FakeMaster()
    master.set(*[_p(f"A{i:03d}", 100 + i, barcodes=[f"885000{i:07d}"]) for i in range(50)])
    auth = LicenceAuthority(tmp_path, clock)
    pub = Publisher(tmp_path, master, auth, clock)
    yield pub, master, auth, clock
    pub.close()


def _open(pub: Publisher, data: bytes, store: str = S1):
    return unpack(data, pub.authority.public_key_text(), store=store)


def _by_sku(products: list[dict]) -> dict[str, dict]:
    return {p["sku"]: p for p in products}


def test_nothing_published_is_a_clear_not_found(env) -> None:
    pub, *_ = env
    with pytest.raises(NotFound) as e:
        pub.bundle_for(S1, None)
    assert e.value.code == "catalogue.none_published"


def test_full_then_nothing_then_delta_equal_to_full(env) -> None:
    pub, master, _auth, clock = env
    v1 = pub.publish([S1], "ana", "first")
    full1 = _open(pub, pub.bundle_for(S1, None) or b"")
    assert (full1.kind, full1.version, len(full1.products)) == ("full", v1, 50)
    assert full1.store_fields == ["favourite", "low_stock", "image"]
    assert pub.bundle_for(S1, v1) is None
    held = apply_delta({}, None, full1)

    clock.advance(60)
    master.set(_p("A001", 999))  # changed price
    master.set(_p("A002", 102, names={"en": "Renamed", "th": "ใหม่"}))  # changed name
    master.set(_p("N001", 5000))  # added
    master.drop("A003")  # removed
    master.prices.append({"sku": "A004", "price": 1, "from_us": clock.now_us() + 3_600_000_000})
    v2 = pub.publish([S1], "ana")
    assert v2 > v1
    delta = _open(pub, pub.bundle_for(S1, v1) or b"")
    assert (delta.kind, delta.base, delta.version) == ("delta", v1, v2)
    assert sorted(p["sku"] for p in delta.products) == ["A001", "A002", "N001"]
    assert delta.removed == ["A003"]
    assert delta.prices == [{"sku": "A004", "price": 1, "from_us": master.prices[0]["from_us"]}]
    full2 = _open(pub, pub.bundle_for(S1, None) or b"")
    assert apply_delta(held, v1, delta) == _by_sku(full2.products)
    assert _by_sku(full2.products)["A001"]["price"] == 999
    assert master.audited[-1][:2] == ("ana", "catalogue.publish")


def test_delta_from_an_older_version_and_unknown_bases(env) -> None:
    pub, master, _auth, clock = env
    v1 = pub.publish([S1, S2], "ana")
    full1 = _open(pub, pub.bundle_for(S1, None) or b"")
    master.set(_p("A010", 1))
    pub.publish([S1], "ana")
    master.set(_p("A011", 2))
    master.drop("A012")
    v_s2 = pub.publish([S2], "ana")  # a version S1 never got
    master.set(_p("A013", 3))
    v3 = pub.publish([S1], "ana")
    d = _open(pub, pub.bundle_for(S1, v1) or b"")  # built on request, two versions back
    assert (d.kind, d.base, d.version) == ("delta", v1, v3)
    assert sorted(p["sku"] for p in d.products) == ["A010", "A011", "A013"]
    full3 = _open(pub, pub.bundle_for(S1, None) or b"")
    assert apply_delta(_by_sku(full1.products), v1, d) == _by_sku(full3.products)
    assert pub.bundle_for(S1, v1) == pub.bundle_for(S1, v1)  # kept, not rebuilt differently
    for have in (v_s2, v3 + 10, 0):
        assert _open(pub, pub.bundle_for(S1, have) or b"").kind == "full", have
    assert pub.bundle_for(S2, v_s2) is None
    with pytest.raises(Exception) as e:
        _open(pub, pub.bundle_for(S2, None) or b"", store=S1)
    assert getattr(e.value, "code", "") == "catalogue.foreign_store"


def test_pulls_are_recorded_and_listed(env) -> None:
    pub, _master, _auth, clock = env
    v1 = pub.publish([S1, S2], "ana", "opening")
    assert pub.pull(S1, None) is not None
    clock.advance(5)
    assert pub.pull(S1, v1) is None
    rows = {r["store"]: r for r in pub.stores_catalogue()}
    assert rows[S1]["published"] == v1 and rows[S1]["pulled"] == v1
    assert rows[S1]["pulled_at_us"] == clock.now_us() and rows[S1]["up_to_date"]
    assert rows[S2]["pulled"] is None and not rows[S2]["up_to_date"]
    pubs = pub.publications()
    assert pubs[0]["version"] == v1 and pubs[0]["stores"] == [S1, S2]
    assert (pubs[0]["who"], pubs[0]["note"], pubs[0]["state"]) == ("ana", "opening", "done")


def test_preview_shows_changed_fields(env) -> None:
    pub, master, *_ = env
    first = pub.preview(S1)
    assert first["from_version"] is None and first["counts"]["added"] == 50
    v1 = pub.publish([S1], "ana")
    master.set({**master.products["A001"], "price": 777})
    master.drop("A002")
    master.set(_p("Z001", 1))
    pv = pub.preview(S1)
    assert pv["from_version"] == v1 and pv["to_version"] == v1 + 1
    assert pv["changed"] == [{"sku": "A001", "fields": {"price": [101, 777]}}]
    assert pv["removed"] == ["A002"]
    assert [a["sku"] for a in pv["added"]] == ["Z001"]
    assert pv["counts"] == {"added": 1, "changed": 1, "removed": 1}


def test_two_publishes_at_once_get_two_versions(env) -> None:
    pub, *_ = env
    got: list[int] = []
    ts = [threading.Thread(target=lambda: got.append(pub.publish([S1], "x"))) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert len(set(got)) == 2
    assert pub.bundle_for(S1, max(got)) is None
    assert _open(pub, pub.bundle_for(S1, min(got)) or b"").kind == "delta"


def test_no_store_or_an_unknown_store_is_refused(env) -> None:
    pub, master, *_ = env
    with pytest.raises(InvalidInput) as e:
        pub.publish(["S001", "S0O1"], "ana")  # a typo publishes nothing
    assert (e.value.code, e.value.details["stores"]) == ("publish.unknown_store", ["S0O1"])
    with pytest.raises(InvalidInput):
        pub.preview("S0O1")
    assert pub.publications() == [] and pub.latest(S1) is None
    master.profiles.clear()
    with pytest.raises(InvalidInput) as e:
        pub.publish(None, "ana")
    assert e.value.code == "publish.no_stores"


def test_folder_and_files_are_private(env, tmp_path) -> None:
    pub, *_ = env
    pub.publish([S1], "ana")
    pub.bundle_for(S1, None)
    for path in (tmp_path / "publish").rglob("*"):
        want = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(os.stat(path).st_mode) == want, path


def test_export_for_usb_is_a_delta_from_what_the_store_last_pulled(env) -> None:
    pub, master, *_ = env
    v1 = pub.publish([S1], "ana")
    assert _open(pub, pub.export(S1, full=False)).kind == "full"  # never pulled: all of it
    pub.pull(S1, None)
    master.set(_p("A020", 1))
    v2 = pub.publish([S1], "ana")
    usb = _open(pub, pub.export(S1, full=False))
    assert (usb.kind, usb.base, usb.version, [p["sku"] for p in usb.products]) == (
        "delta",
        v1,
        v2,
        ["A020"],
    )
    assert _open(pub, pub.export(S1)).kind == "full"
    pub.pull(S1, v1)
    assert _open(pub, pub.export(S1, full=False)).kind == "full"  # runs the newest: a full one
