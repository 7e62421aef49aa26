"""Event versions: an event written by older code is read by this code in the current shape
(upcast on read; the stored bytes and the hash chain never change), and an event written by a
newer kassa than this one is refused (``event.too_new``), never misread.

The example is a realistic change, played by a kind registered for the test only: a weighed item
first stored ``weight_g`` (v1), then ``grams`` (v2: a rename), then ``qty`` with its ``unit``
(v3: one field for pieces and grams, as ``basket.line_added`` has it)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest

from actors.journal import Journal, Pending
from actors.journal_check import verify_journal
from actors.ledger import Ledger
from analytics.flatten import flatten
from domain.errors import Conflict
from domain.events import _KIND_OF, KINDS, Envelope, current_body, decode_body, register
from domain.journal_format import encode_body, seal
from domain.upcast import UPCASTERS, Upcasters

KIND = "test.item_weighed"


@dataclass(frozen=True, slots=True)
class ItemWeighed:
    sku: str
    qty: int
    unit: str


def _v1_to_v2(body: dict) -> dict:
    out = dict(body)
    out["grams"] = out.pop("weight_g")
    return out


def _v2_to_v3(body: dict) -> dict:
    return {"sku": body["sku"], "qty": body["grams"], "unit": "kg"}


@pytest.fixture
def weighed_kind():
    register(KIND, version=3)(ItemWeighed)
    UPCASTERS.register(KIND, 1)(_v1_to_v2)
    UPCASTERS.register(KIND, 2)(_v2_to_v3)
    yield
    KINDS.pop(KIND, None)
    _KIND_OF.pop(ItemWeighed, None)
    UPCASTERS.steps.pop((KIND, 1), None)
    UPCASTERS.steps.pop((KIND, 2), None)


def _env(v: int, body: dict, seq: int = 1) -> Envelope:
    return seal(b"\0" * 32, seq, f"id-{seq:08d}", 1, KIND, v, "", "", "", "A1", encode_body(body))


def test_an_old_body_is_read_in_the_current_shape(weighed_kind):
    assert _env(1, {"sku": "A1", "weight_g": 250}).decoded() == ItemWeighed("A1", 250, "kg")
    assert _env(2, {"sku": "A1", "grams": 250}).decoded() == ItemWeighed("A1", 250, "kg")
    now = _env(3, {"sku": "A1", "qty": 2, "unit": "each"})
    assert now.decoded() == ItemWeighed("A1", 2, "each")
    # the readers that work on plain dicts (analytics, the event feed) get the same shape
    assert current_body(KIND, 1, {"sku": "A1", "weight_g": 5}) == {
        "sku": "A1",
        "qty": 5,
        "unit": "kg",
    }


def test_an_event_from_a_newer_kassa_is_refused_not_misread(weighed_kind):
    with pytest.raises(Conflict) as err:
        _env(4, {"sku": "A1", "qty": 2, "unit": "each", "tare": 5}).decoded()
    assert err.value.code == "event.too_new"
    assert "newer kassa" in err.value.message and "v4" in err.value.message
    with pytest.raises(Conflict) as err:
        current_body(KIND, 4, {"sku": "A1"})
    assert err.value.code == "event.too_new"


def test_a_real_kind_of_a_newer_version_is_refused():
    raw = b'{"member":"M1","amount":100,"tender":"cash"}'
    assert decode_body("wallet.topped_up", raw, 1).amount == 100
    with pytest.raises(Conflict) as err:
        decode_body("wallet.topped_up", raw, 2)
    assert err.value.code == "event.too_new"


def test_a_gap_in_the_chain_of_upcasters_is_refused():
    reg = Upcasters()
    reg.register("k", 1)(lambda b: {**b, "two": True})
    assert reg.upcast("k", 1, 2, {"one": 1}) == {"one": 1, "two": True}
    with pytest.raises(Conflict) as err:
        reg.upcast("k", 1, 3, {"one": 1})
    assert err.value.code == "event.no_upcaster"
    with pytest.raises(ValueError):
        reg.register("k", 1)(lambda b: b)


def test_old_events_in_a_journal_keep_their_bytes_and_chain(weighed_kind, tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    olds = [
        (1, {"sku": "A1", "weight_g": 120}),
        (2, {"sku": "B2", "grams": 300}),
        (3, {"sku": "C3", "qty": 1, "unit": "each"}),
    ]
    raws = [msgspec.json.encode(b) for _, b in olds]
    j.append(
        [
            Pending(f"cmd-{i:06d}", b"x", 10 + i, KIND, v, "s", "T1", "", b["sku"], raw)
            for i, ((v, b), raw) in enumerate(zip(olds, raws, strict=True))
        ]
    )
    j.close()
    ledger = Ledger(path)  # replays every event through the upcasters
    envs = ledger.read(0)
    assert [e.body for e in envs] == raws  # stored bytes untouched
    assert [e.v for e in envs] == [1, 2, 3]
    assert [e.decoded() for e in envs] == [
        ItemWeighed("A1", 120, "kg"),
        ItemWeighed("B2", 300, "kg"),
        ItemWeighed("C3", 1, "each"),
    ]
    ledger.journal.close()
    assert verify_journal(path).ok


def test_the_warehouse_quarantines_an_event_from_a_newer_kassa():
    good = {"seq": 1, "id": "a" * 8, "ts": 1_700_000_000_000_000, "kind": "wallet.topped_up"}
    good |= {"v": 1, "staff": "s", "till": "T1", "ip": "", "agg": "M1"}
    good["body"] = {"member": "M1", "amount": 500, "tender": "cash"}
    newer = {**good, "seq": 2, "id": "b" * 8, "v": 2}
    bad: list[dict] = []
    tables = flatten([good, newer], "S001", "UTC", quarantine=bad)
    assert [q["seq"] for q in bad] == [2] and "event.too_new" in bad[0]["error"]
    assert tables["wallet_movements"].height == 1
