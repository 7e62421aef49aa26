"""What crosses between the store server's processes (pickled, by Ray and by actors/wire.py) comes
back equal: events travel as their canonical JSON, requests and answers as plain tuples."""

from __future__ import annotations

import pickle

import pytest

from actors.ledger import Ack, Request, command_hash
from actors.till import Who
from domain.errors import InvalidInput
from domain.events import OrderCompleted, OrderLine, Payment, encode_body
from domain.store import StoreConfig


def order() -> OrderCompleted:
    line = OrderLine("L1", "SKU1", {"en": "Tea", "zh": "茶"}, "drinks", "each", 2, 1_500, 3_000,
                     100, 2_900, 190, 2_900, "std", 700)
    return OrderCompleted("O1", "S001-1", "THB", True, (line,), 3_000, 100, 190, 2_900, 0,
                          (Payment("cash", 2_900, 3_000, 100), Payment("card", 0, reference="r",
                                                                       last4="4242")), 100, "M1")


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def test_events_requests_and_answers_cross_processes_unchanged():
    ev = order()
    back = roundtrip(ev)
    assert back == ev and type(back.lines) is tuple and type(back.lines[0]) is OrderLine
    assert encode_body(back) == encode_body(ev)  # so the journal hashes the same bytes
    req = Request("c" * 36, command_hash("pay", {"x": 1}), ev, "c1", "T1", "10.0.0.5")
    assert roundtrip(req) == req
    ack = Ack(7, "c" * 36, 1_700_000_000_000_000, "order.completed", ev, True)
    assert roundtrip(ack) == ack
    who = Who("c1", "10.0.0.5", 1000, "m1")
    assert roundtrip(who) == who


def test_an_event_pickles_as_its_json_not_field_by_field():
    reduced = order().__reduce__()
    assert reduced[1] == ("order.completed", encode_body(order()))


def test_till_placement_is_gateway_or_actor():
    assert StoreConfig().till_placement == "gateway"
    assert StoreConfig.from_dict({"till_placement": "actor"}).till_placement == "actor"
    with pytest.raises(InvalidInput) as err:
        StoreConfig(till_placement="cloud")
    assert err.value.code == "store.bad_till_placement"
