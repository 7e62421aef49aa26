"""The gateway's payment desk (actors.payments) against a real ledger, without sockets: a retry
never charges twice, a card terminal approves, declines, never answers or approves late, a QR
payment carries its payload, a pending payment times out; callbacks are signed."""

from __future__ import annotations

import asyncio

import pytest

from actors.payments.callback import provider_secret, sign, verify
from actors.payments.card import CardProvider, SimulatedTerminal
from actors.payments.desk import PaymentDesk
from actors.payments.promptpay import PromptPayProvider
from actors.payments.provider import Provider
from domain.errors import Forbidden
from domain.promptpay import check_payload
from tests.unit.conftest import cid


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def desk_for(shop, tmp_path, mode: str = "approve", clock: Clock | None = None):
    terminal = SimulatedTerminal(mode)
    providers: dict[str, Provider] = {
        "qr": PromptPayProvider("0812345678"),
        "card": CardProvider(terminal),
    }

    async def read(keys):
        return shop.ledger.payments(keys)

    async def submit(command_id, op, args, body, till):
        return shop.submit(body, command_id=command_id, cmd=repr((op, args)).encode(), till=till)

    desk = PaymentDesk({"timeout_s": 60}, tmp_path, read, submit, clock or Clock(), providers)
    return desk, terminal


def run(coro):
    return asyncio.run(coro)


def basket(shop) -> str:
    shop.do("add", {"sku": "MILK-1L", "qty": 1})
    return shop.till.basket.basket_id


def started_kinds(shop) -> list[str]:
    return [e.kind for e in shop.ledger.read() if e.kind.startswith("payment.")]


def test_the_same_request_again_charges_once(shop, tmp_path):
    desk, terminal = desk_for(shop, tmp_path)
    b, key = basket(shop), cid()
    first = run(desk.start("T1", key, "card", 4500, b, "THB"))
    again = run(desk.start("T1", key, "card", 4500, b, "THB"))
    assert first["key"] == again["key"] == key
    assert terminal.charges == {key: 4500}
    assert started_kinds(shop) == ["payment.started"]


def test_an_approving_terminal_succeeds_with_the_last_4_digits_only(shop, tmp_path):
    desk, _ = desk_for(shop, tmp_path, "approve")
    b, key = basket(shop), cid()
    run(desk.start("T1", key, "card", 4500, b, "THB"))
    st = run(desk.poll(key))
    assert (st["state"], st["last4"], st["reference"]) == (
        "succeeded",
        "4242",
        f"SIM-{key[:8].upper()}",
    )
    order = shop.do("pay", {"tenders": [{"kind": "card", "amount": 4500, "key": key}]})["order"]
    assert order["payments"][0]["last4"] == "4242"


def test_a_declining_terminal_fails(shop, tmp_path):
    desk, _ = desk_for(shop, tmp_path, "decline")
    b, key = basket(shop), cid()
    run(desk.start("T1", key, "card", 4500, b, "THB"))
    assert run(desk.poll(key))["state"] == "failed"


def test_a_silent_terminal_times_out_and_is_cancelled(shop, tmp_path):
    clock = Clock()
    desk, terminal = desk_for(shop, tmp_path, "timeout", clock)
    b, key = basket(shop), cid()
    clock.now = shop.ledger.last_ts / 1e6
    run(desk.start("T1", key, "card", 4500, b, "THB"))
    assert run(desk.poll(key))["state"] == "pending"
    clock.now += 61
    assert run(desk.poll(key))["state"] == "timed_out"
    assert terminal.states[key].state == "cancelled"


def test_a_terminal_approving_late_is_recorded_not_lost(shop, tmp_path):
    desk, _ = desk_for(shop, tmp_path, "late")
    b, key = basket(shop), cid()
    run(desk.start("T1", key, "card", 4500, b, "THB"))
    assert run(desk.cancel(key))["state"] == "cancelled"
    shop.do("pay", {"tenders": [{"kind": "cash", "amount": 4500}]})  # paid another way
    st = run(desk.poll(key))  # the terminal now says: approved
    assert st["state"] == "late_success"
    assert [r["key"] for r in shop.ledger.payments(None)] == [key]
    assert started_kinds(shop)[-1] == "payment.late_success"


def test_a_qr_payment_shows_a_payload_for_exactly_the_amount_and_the_cashier_confirms(
    shop, tmp_path
):
    desk, _ = desk_for(shop, tmp_path)
    b, key = basket(shop), cid()
    st = run(desk.start("T1", key, "qr", 4500, b, "THB"))
    assert check_payload(st["qr"])["54"] == "45.00"
    assert run(desk.poll(key))["state"] == "pending"  # nothing arrived yet
    assert run(desk.confirm(key, "slip 1234", "cashier"))["state"] == "succeeded"


def test_a_provider_that_cannot_be_reached_fails_the_payment(shop, tmp_path):
    desk, _ = desk_for(shop, tmp_path)

    class Down(PromptPayProvider):
        def start(self, key, amount, currency, ref):
            raise OSError("no route to the bank")

    desk.providers["qr"] = Down("0812345678")
    b, key = basket(shop), cid()
    assert run(desk.start("T1", key, "qr", 4500, b, "THB"))["state"] == "failed"


def test_callbacks_are_signed_with_the_providers_own_secret(tmp_path):
    secret = provider_secret(tmp_path, "promptpay")
    assert provider_secret(tmp_path, "promptpay") == secret != provider_secret(tmp_path, "card-sim")
    assert (tmp_path / "payments" / "promptpay.secret").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "payments").stat().st_mode & 0o777 == 0o700
    body = b'{"key":"k1","result":"success"}'
    verify(secret, "1000", sign(secret, 1000, body), body, 1010)
    for ts, sig, now in (
        ("1000", sign(secret, 1000, body + b" "), 1010),  # another body
        ("1000", sign(b"x" * 32, 1000, body), 1010),  # another secret
        ("1000", sign(secret, 1000, body), 1000 + 301),  # too old: no replay
        ("soon", "00", 1000),
    ):
        with pytest.raises(Forbidden):
            verify(secret, ts, sig, body, now)
