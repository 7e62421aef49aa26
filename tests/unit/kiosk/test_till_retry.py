"""The till sends a change again soon while its store server restarts (a refused port, or the
server answering ``store.starting``), so it sells again the moment the new server listens, and
keeps its growing backoff for a store that is really away (timeouts, an unreachable host)."""

from __future__ import annotations

import json
import threading

import pytest

from kiosk.api_errors import Offline
from kiosk.client import REFUSED_RETRY_S, STARTING_RETRY_S, StoreClient
from kiosk.worker import QUICK_FOR_S, Worker, retry_wait


def _waits_of(errors: list[Offline]) -> list[float]:
    """The pauses a till's worker makes between sends of one change that meets ``errors`` (in
    turn) and is then answered. The worker's pause is recorded, not slept."""
    w = Worker(backoff=(0.3, 3.0))
    waits: list[float] = []
    w._stop.wait = lambda t=None: bool(waits.append(t))  # type: ignore[method-assign]
    left = list(errors)

    def call() -> dict:
        if left:
            raise left.pop(0)
        return {"ok": True}

    done = threading.Event()
    w.change(call, lambda _res: done.set())
    for _ in range(10_000):  # pump until answered (the worker's thread does the sending)
        w.pump()
        if done.wait(0.01):
            break
    w.stop()
    assert done.is_set()
    return waits


def test_a_refused_port_is_tried_again_soon():
    refused = [Offline("refused", retry_in=REFUSED_RETRY_S) for _ in range(4)]
    assert _waits_of(refused) == [REFUSED_RETRY_S] * 4  # was 0.3, 0.6, 1.2, 2.4: 4.5 s


def test_a_store_that_is_away_keeps_the_backoff():
    assert _waits_of([Offline("timed out") for _ in range(4)]) == [0.3, 0.6, 1.2, 2.4]


def test_quick_retries_end_after_a_while():
    exc = Offline("refused", retry_in=REFUSED_RETRY_S)
    assert retry_wait(exc, 0.3, 1.0) == REFUSED_RETRY_S
    assert retry_wait(exc, 2.4, QUICK_FOR_S + 1) == 2.4  # down for long: the backoff again


class _Conn:
    """An HTTP connection that refuses, or answers one canned response."""

    def __init__(self, status: int = 0, body: dict | None = None) -> None:
        self.status, self.body, self.timeout = status, body, 5.0

    def request(self, *_a: object, **_k: object) -> None:
        if not self.status:
            raise ConnectionRefusedError(111, "Connection refused")

    def getresponse(self) -> _Conn:
        return self

    def read(self) -> bytes:
        return json.dumps(self.body).encode()

    def getheader(self, _name: str, default: str = "") -> str:
        return default

    headers: dict = {}

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("conn", "retry_in"),
    [
        (_Conn(), REFUSED_RETRY_S),
        (_Conn(503, {"error": {"code": "store.starting"}}), STARTING_RETRY_S),
        (_Conn(503, {"error": {"code": "store.stopping"}}), STARTING_RETRY_S),
        (_Conn(502, {}), None),  # a proxy in between: not known to be a restart
    ],
)
def test_the_client_says_when_the_store_is_restarting(monkeypatch, conn, retry_in):
    c = StoreClient("http://127.0.0.1:8600", "T1")
    monkeypatch.setattr(c, "_conn", lambda: conn)
    with pytest.raises(Offline) as caught:
        c.command("3f1c2a55-0000-4000-8000-000000000009", "scan", {"code": "1"})
    assert caught.value.retry_in == retry_in


def test_a_timeout_is_no_restart(monkeypatch):
    class Slow(_Conn):
        def request(self, *_a: object, **_k: object) -> None:
            raise TimeoutError("timed out")

    c = StoreClient("http://127.0.0.1:8600", "T1")
    monkeypatch.setattr(c, "_conn", lambda: Slow())
    with pytest.raises(Offline) as caught:
        c.command("3f1c2a55-0000-4000-8000-00000000000a", "scan", {"code": "1"})
    assert caught.value.retry_in is None
