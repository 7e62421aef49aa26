"""What crosses between the store server's processes comes back equal.

On the internal sockets (actors/wire.py) requests and answers travel as MessagePack data, each body
tagged with its kind and decoded as that kind's type; nothing is unpickled. Ray's own calls still
pickle them (events as their canonical JSON, requests and answers as plain tuples)."""

from __future__ import annotations

import pickle

import msgspec
import pytest

from actors.ledger import COMMANDS, LEDGER_METHODS, Ack, Request, command_hash
from actors.till import TILL_METHODS, Who
from actors.wire import Method
from domain.commands import FreezeOrder, RefundOrder
from domain.errors import Conflict, InvalidInput, error_from_dict
from domain.events import KINDS, LineAdded, OrderCompleted, OrderLine, Payment, encode_body
from domain.store import StoreConfig


def order() -> OrderCompleted:
    line = OrderLine(
        "L1",
        "SKU1",
        {"en": "Tea", "zh": "茶"},
        "drinks",
        "each",
        2,
        1_500,
        3_000,
        100,
        2_900,
        190,
        2_900,
        "std",
        700,
    )
    return OrderCompleted(
        "O1",
        "S001-1",
        "THB",
        True,
        (line,),
        3_000,
        100,
        190,
        2_900,
        0,
        (Payment("cash", 2_900, 3_000, 100), Payment("card", 0, reference="r", last4="4242")),
        100,
        "M1",
    )


def over_wire(spec: Method, value, answer: bool = False):
    """Encode as the sending end does, decode as the receiving end does."""
    dump, load, typ = (
        (spec.dump_res, spec.load_res, spec.res_type)
        if answer
        else (spec.dump_arg, spec.load_arg, spec.arg_type)
    )
    raw = msgspec.msgpack.encode(dump(value) if dump else value)
    got = msgspec.msgpack.Decoder(typ).decode(raw)
    return load(got) if load else got


def test_requests_and_answers_cross_the_wire_unchanged():
    ev = order()
    req = Request("c" * 36, command_hash("pay", {"x": 1}), ev, "c1", "T1", "10.0.0.5")
    back = over_wire(LEDGER_METHODS["submit"], req)
    assert back == req and type(back.body.lines) is tuple and type(back.body.lines[0]) is OrderLine
    assert encode_body(back.body) == encode_body(ev)  # so the journal hashes the same bytes
    ack = Ack(7, "c" * 36, 1_700_000_000_000_000, "order.completed", ev, True)
    assert over_wire(LEDGER_METHODS["submit"], ack, answer=True) == ack
    assert over_wire(LEDGER_METHODS["lookup"], ack, answer=True) == ack
    assert over_wire(LEDGER_METHODS["lookup"], None, answer=True) is None
    assert over_wire(LEDGER_METHODS["lookup"], ("c" * 36, b"\x00\xff")) == ("c" * 36, b"\x00\xff")
    who = Who("c1", "10.0.0.5", 1000, "m1")
    call = ("c" * 36, "scan", {"code": "885", "qty": 2}, who)
    assert over_wire(TILL_METHODS["do"], call) == call
    assert over_wire(TILL_METHODS["view"], {"lines": [1, 2]}, answer=True) == {"lines": [1, 2]}


def test_ledger_commands_cross_as_themselves():
    for body in (FreezeOrder("O1", "flag: x", "x"), RefundOrder("O1", "R1", {"L1": 1}, "", 25)):
        req = Request("c" * 36, b"h", body, "system")
        assert over_wire(LEDGER_METHODS["submit"], req) == req
    assert not set(COMMANDS) & set(KINDS)


def test_a_body_must_be_its_kinds_type():
    spec = LEDGER_METHODS["submit"]
    good = spec.dump_arg(
        Request("c" * 36, b"h", LineAdded("b", "l", "s", {}, "each", 1, 100, "std", 700))
    )
    wrong_type = good[:3] + ({"basket": "b", "qty": "lots"},) + good[4:]
    with pytest.raises(InvalidInput) as err:
        over_wire(Method(spec.arg_type, load_arg=spec.load_arg), wrong_type)
    assert err.value.code == "event.bad_body"
    unknown = good[:2] + ("builtins.eval",) + good[3:]
    with pytest.raises(InvalidInput) as err:
        over_wire(Method(spec.arg_type, load_arg=spec.load_arg), unknown)
    assert err.value.code == "wire.unknown_kind"
    with pytest.raises(TypeError):
        spec.dump_arg(Request("c" * 36, b"h", object()))


def test_errors_cross_with_their_class_code_and_details():
    exc = Conflict("wallet.insufficient", "not enough", balance=500)
    back = error_from_dict(msgspec.msgpack.decode(msgspec.msgpack.encode(exc.to_dict())))
    assert type(back) is Conflict and back.code == exc.code and back.details == {"balance": 500}


def test_ray_still_pickles_an_event_as_its_json_not_field_by_field():
    reduced = order().__reduce__()
    assert reduced[1] == ("order.completed", encode_body(order()))
    req = Request("c" * 36, b"h", order(), "c1", "T1", "10.0.0.5")
    assert pickle.loads(pickle.dumps(req, protocol=pickle.HIGHEST_PROTOCOL)) == req


def test_till_placement_is_gateway_or_actor():
    assert StoreConfig().till_placement == "gateway"
    assert StoreConfig.from_dict({"till_placement": "actor"}).till_placement == "actor"
    with pytest.raises(InvalidInput) as err:
        StoreConfig(till_placement="cloud")
    assert err.value.code == "store.bad_till_placement"
