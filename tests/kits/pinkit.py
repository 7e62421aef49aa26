"""Helpers for the PIN tests: requests from chosen loopback addresses (a LAN of many clients on one
machine: Linux answers all of 127.0.0.0/8), and the journal's PIN attempts."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gwkit import journal_seq  # noqa: F401 - the tests import it from here


class Answer:
    def __init__(self, status: int, body: bytes, headers: Any) -> None:
        self.status, self.headers = status, headers
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = {"raw": body[:200].decode(errors="replace")}

    @property
    def code(self) -> str:
        err = self.json.get("error") if isinstance(self.json, dict) else None
        return err["code"] if err else ""

    @property
    def details(self) -> dict:
        return self.json["error"]["details"]

    def __repr__(self) -> str:
        return f"<{self.status} {self.code or 'ok'}>"


def call(
    url: str, method: str, path: str, body: Any = None, src: str = "127.0.0.1", token: str = ""
) -> Answer:
    """One HTTP request to the gateway from the loopback address ``src``."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=180, source_address=(src, 0))
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = conn.getresponse()
        return Answer(r.status, r.read(), r.headers)
    finally:
        conn.close()


def sign_in(url: str, staff: str, pin: str, till: str, src: str = "127.0.0.1") -> Answer:
    return call(
        url,
        "POST",
        "/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": staff, "pin": pin, "till": till},
        src,
    )


def together(jobs: list) -> list:
    """Run the callables at the same moment (one thread each, released by a barrier)."""
    out: list = [None] * len(jobs)
    gate = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = jobs[i]()
        except Exception as exc:  # reported by the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return out


def journal_rows(data: Path, after: int = 0, kind: str = "") -> list[dict]:
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT seq, kind, staff, till, ip, body FROM events WHERE seq > ? ORDER BY seq",
            (after,),
        ).fetchall()
    finally:
        con.close()
    return [
        {"seq": s, "kind": k, "staff": st, "till": t, "ip": ip, "body": json.loads(bytes(b))}
        for s, k, st, t, ip, b in rows
        if not kind or k == kind
    ]


def write_policy(data: Path, **auth: int) -> None:
    """A store.json with this sign-in policy (the rest default) before the server's first start."""
    data.mkdir(parents=True, exist_ok=True)
    (data / "store.json").write_text(json.dumps({"auth": auth}))
