"""The parts of the fast start that need no server: the gateway's catalogue copy read from
``catalogue.json`` before the catalogue actor exists and kept in step with it once it does, and
every ledger method crossing its socket's codec (as data, back to the same values)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from actors.catalogue import Catalogue
from actors.shared_catalogue import SharedCatalogue
from actors.shells.ledger import LEDGER_RPC
from actors.wire import Method
from domain.catalogue import Product
from domain.journal_format import Envelope
from domain.store import StoreConfig


def saved_catalogue(data: Path, products: list[Product]) -> Catalogue:
    cat = Catalogue(data, StoreConfig())
    merged, ev = cat.prepare_update([p.to_dict() for p in products], "test")
    cat.commit(merged, ev.version)
    return cat


class FakeCatalogueActor:
    """The catalogue actor as ``SharedCatalogue`` calls it, counting the calls."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.calls: list[str] = []

    async def version(self) -> str:
        self.calls.append("version")
        return self.cat.version

    async def changes(self, have: str) -> tuple:
        self.calls.append("changes")
        return self.cat.changes(have)


def test_the_gateway_copy_sells_from_catalogue_json_then_follows_the_actor(tmp_path, catalogue):
    products = list(catalogue.by_sku.values())
    cat = saved_catalogue(tmp_path, products[:3])
    shared = SharedCatalogue(None)
    shared.load_file(tmp_path)
    index = asyncio.run(shared.index())  # no actor yet: the file's products
    assert sorted(index.by_sku) == sorted(p.sku for p in products[:3])
    assert index.version == cat.version
    # an import through the actor while the copy was on its own
    merged, ev = cat.prepare_update([p.to_dict() for p in products[:4]], "test")
    cat.commit(merged, ev.version)
    actor = FakeCatalogueActor(cat)
    shared.attach(actor)  # type: ignore[arg-type]
    index = asyncio.run(shared.index())
    assert actor.calls[0] == "version"  # asked at once, not 30 s later
    assert index.version == cat.version and len(index.by_sku) == 4


def test_a_store_without_a_catalogue_yet_starts_with_an_empty_copy(tmp_path):
    shared = SharedCatalogue(None)
    shared.load_file(tmp_path)
    index = asyncio.run(shared.index())
    assert len(index.by_sku) == 0 and index.version == ""


def crossed(method: Method, value: object, answer: bool = True) -> object:
    """``value`` as it arrives at the other end of the ledger's socket."""
    dump, load, kind = (
        (method.dump_res, method.load_res, method.res_type)
        if answer
        else (method.dump_arg, method.load_arg, method.arg_type)
    )
    raw = msgspec.msgpack.encode(dump(value) if dump else value)
    got = msgspec.msgpack.Decoder(kind).decode(raw)
    return load(got) if load else got


def test_every_ledger_method_crosses_the_socket_as_data():
    env = Envelope(
        7,
        "c" * 36,
        1_700_000_000_000_000,
        "basket.line_added",
        1,
        "c1",
        "T1",
        "10.0.0.2",
        "b1",
        b"\x93\x01\x02\x03",
        b"h" * 32,
    )
    for name in ("read", "wait", "open_basket_events"):
        assert crossed(LEDGER_RPC[name], [env, env]) == [env, env]
    assert crossed(LEDGER_RPC["till_state"], (9, [env])) == (9, [env])
    assert crossed(LEDGER_RPC["read"], (0, 500), answer=False) == (0, 500)
    assert crossed(LEDGER_RPC["wait"], (3, 500, 15.0), answer=False) == (3, 500, 15.0)
    assert crossed(LEDGER_RPC["orders_of"], ("2026-01-02", "Asia/Bangkok"), answer=False) == (
        "2026-01-02",
        "Asia/Bangkok",
    )
    status = {"seq": 3, "orders": 1, "journal": {"ok": True, "first_broken": None}}
    assert crossed(LEDGER_RPC["status"], status) == status
    assert crossed(LEDGER_RPC["balance"], 12_345) == 12_345
    assert crossed(LEDGER_RPC["serve"], "/run/ledger.sock") == "/run/ledger.sock"
    # every LedgerClient method has its entry (a missing one would fail at the first call)
    from actors.client import LedgerClient

    called = {"serve", "submit", "wait", "read", "till_state", "order", "orders_of"}
    called |= {"staff_state", "status", "payments", "loyalty", "coupon"}
    view = {"member": "S001-1", "points": 120, "tier": "gold", "coupons": []}
    assert crossed(LEDGER_RPC["loyalty"], view) == view
    assert crossed(LEDGER_RPC["coupon"], "SAVE10", answer=False) == "SAVE10"
    assert crossed(LEDGER_RPC["payments"], (["k1"],), answer=False) == (["k1"],)
    tenders = [{"key": "k1", "state": "succeeded", "amount": 5000}]
    assert crossed(LEDGER_RPC["payments"], tenders) == tenders
    assert called <= set(LEDGER_RPC)
    assert {m for m in dir(LedgerClient) if not m.startswith("_")} - {
        "at",
        "named",
        "rpc",
    } == called


def test_every_command_the_ledger_decides_crosses_its_socket():
    """The wallet actor's top-up reaches the ledger over its socket: a command with a ``decide``
    that is not registered could not be sent (it failed with 'neither an event nor a ledger
    command' once the ledger left Ray)."""
    import inspect

    from actors.ledger import COMMANDS, Request, _dump_request, _load_request, _RequestWire
    from domain import handlers_day, handlers_staff
    from domain.handlers_staff import TopUpWallet

    deciding = {
        cls
        for mod in (handlers_staff, handlers_day)
        for _n, cls in inspect.getmembers(mod, inspect.isclass)
        if cls.__module__ == mod.__name__ and hasattr(cls, "decide")
    }
    assert deciding and deciding <= set(COMMANDS.values()), deciding - set(COMMANDS.values())
    sent = Request("c" * 36, b"h" * 32, TopUpWallet("M0001", 50_000, "cash", ""), "m1", "T1", "ip")
    wire = msgspec.msgpack.decode(msgspec.msgpack.encode(_dump_request(sent)), type=_RequestWire)
    assert _load_request(wire).body == sent.body
