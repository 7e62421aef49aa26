"""Helpers for gateway tests over real HTTP on loopback: one demo store server per test module."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

DEMO = {"c1": "1111", "c2": "2222", "c3": "3333", "a1": "4444", "m1": "9999", "admin": "0000"}


def new_id() -> str:
    return str(uuid.uuid4())


class Api:
    """A signed-in (or not) client of the gateway, bound to one till."""

    def __init__(
        self, url: str, till: str = "", token: str = "", verify: str | bool = True
    ) -> None:
        self.url, self.till, self.token = url, till, token
        self.verify = verify  # a store with TLS on: its CA file (StoreProcess.ca_file)
        self.s = requests.Session()
        self.me: dict = {}

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, **query: Any
    ) -> requests.Response:
        kw: dict[str, Any] = {
            "headers": self.headers(),
            "timeout": 60,
            "verify": self.verify,
            "params": {k: v for k, v in query.items() if v is not None},
        }
        if raw is not None:
            kw["data"] = raw
            kw["headers"] = {**kw["headers"], "Content-Type": "application/json"}
        elif body is not None:
            kw["json"] = body
        return self.s.request(method, self.url + path, **kw)

    def get(self, path: str, **query: Any) -> requests.Response:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, body, **kw)

    def ok(self, r: requests.Response) -> Any:
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r.json()

    def cmd(
        self, op: str, args: dict | None = None, cid: str | None = None, **extra: Any
    ) -> requests.Response:
        return self.post(
            f"/v1/tills/{self.till}/commands",
            {"id": cid or new_id(), "op": op, "args": args or {}, **extra},
        )


def sign_in(
    url: str, staff: str, till: str, pin: str | None = None, verify: str | bool = True
) -> Api:
    api = Api(url, till, verify=verify)
    r = api.post(
        "/v1/sessions", {"id": new_id(), "staff": staff, "pin": pin or DEMO[staff], "till": till}
    )
    assert r.status_code == 200, r.text
    api.me = r.json()
    api.token = api.me["token"]
    return api


def write_auth(data: Path, **auth: int) -> None:
    """Sign-in settings for a test store (before its first start). These modules sign everybody
    in from 127.0.0.1 and guess on purpose, so they lift the per-address back-off
    (tests/security/test_lockout.py tests it)."""
    data.mkdir(parents=True, exist_ok=True)
    (data / "store.json").write_text(json.dumps({"auth": {"ip_free_failures": 1000, **auth}}))


def error_code(r: requests.Response) -> str:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"<{r.status_code}: {r.text[:200]}>"


def journal_seq(data: Path) -> int:
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    finally:
        con.close()


def quiet_journal_seq(data: Path, quiet_s: float = 2.0, timeout: float = 60.0) -> int:
    """The journal's seq once nothing has been added to it for ``quiet_s``: the store's own
    start-up events (licence check, day opened, seeding) are in, so what follows is the test's."""
    import time

    end = time.monotonic() + timeout
    seq, since = journal_seq(data), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.25)
        now = journal_seq(data)
        if now != seq:
            seq, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return seq
    return seq


def journal_rows(data: Path, after: int = 0) -> list[tuple]:
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT seq, kind, staff, till, ip, body FROM events WHERE seq > ? ORDER BY seq",
            (after,),
        ).fetchall()
    finally:
        con.close()


def body_of(row: tuple) -> dict:
    return json.loads(bytes(row[5]))


@contextmanager
def running_store(data: Path, products: int = 300) -> Iterator[Any]:
    """A demo store server on loopback for the ``with`` block (a module fixture yields it)."""
    from actors.process import StoreProcess

    proc = StoreProcess(data, products=products).start()
    try:
        yield proc
    finally:
        proc.stop()
