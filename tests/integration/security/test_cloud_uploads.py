"""HQ's cloud checks every upload: a replayed request is refused however its signature is spelled,
and every event must carry its chain hash, which must match its content and the previous hash.

Over real HTTP on loopback against the cloud app, with batches signed as a store signs them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from pathlib import Path

import aiohttp
import orjson
import pytest

from cloudkit import STORE, Cloud, shop_events
from domain.events import chain_hash
from domain.ports import ManualClock
from domain.upload import (
    H_NONCE,
    H_SIG,
    JSON_TYPE,
    compress,
    encode_batch,
    encode_batch_v2,
    signed_headers,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    envs, clock = shop_events(tmp_path_factory.mktemp("shop"), seed=11, orders=6)
    return envs, clock.now_us()


@contextlib.asynccontextmanager
async def running(data: Path, clock):
    """(the store's secret, the cloud, an HTTP session)."""
    secret = Cloud.register(data)
    cloud = await Cloud(data, clock).start()
    try:
        async with aiohttp.ClientSession() as s:
            yield secret, cloud, s
    finally:
        await cloud.stop()


def _signed(secret: str, raw: bytes, now_us: int, ctype: str | None = None):
    body = compress(raw)
    h = signed_headers(bytes.fromhex(secret), STORE, now_us // 1_000_000, body)
    if ctype:
        h["Content-Type"] = ctype
    return h, body


def _batch(envs, encode=encode_batch, **change) -> bytes:
    """The store's batch for ``envs`` with header fields replaced (``None`` removes one)."""
    raw = encode(STORE, envs)
    nl = raw.index(b"\n")
    head = orjson.loads(raw[:nl])
    for k, v in change.items():
        if v is None:
            head.pop(k)
        else:
            head[k] = v(head[k]) if callable(v) else v
    return orjson.dumps(head) + raw[nl:]


def _json_batch(envs, hashes) -> bytes:
    rows = []
    for e, h in zip(envs, hashes, strict=True):
        w = e.to_wire()
        if h is None:
            w.pop("hash")
        else:
            w["hash"] = h
        rows.append(w)
    return orjson.dumps({"store": STORE, "events": rows})


def _rechain(prev, envs) -> str:
    """The full hash the chain of ``envs`` (their content as given) ends at, after ``prev``."""
    h = prev.hash
    for e in envs:
        h = chain_hash(h, e.seq, e.id, e.ts, e.kind, e.v, e.staff, e.till, e.ip, e.agg, e.body)
    return h.hex()


async def _post(s, cloud, h, body):
    async with s.post(cloud.url + "/v1/ingest", data=body, headers=h) as r:
        return r.status, await r.json()


def _held(data: Path) -> tuple[int, int]:
    """(events held, upload rows) in the cloud's copy of the store's journal."""
    con = sqlite3.connect(str(data / "stores" / STORE / "events.sqlite"))
    try:
        return (
            con.execute("SELECT count(*) FROM events").fetchone()[0],
            con.execute("SELECT count(*) FROM uploads").fetchone()[0],
        )
    finally:
        con.close()


def _spellings(sig: str) -> dict[str, str]:
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(sig))
    return {
        "upper": sig.upper(),
        "mixed": mixed,
        "padded": f"  {sig}\t",
        "spaced": " ".join(sig[i : i + 2] for i in range(0, len(sig), 2)),
        "0x": "0x" + sig,
        "newline": sig + "\n",
    }


def test_a_replay_is_refused_however_its_signature_is_spelled(tmp_path, events):
    envs, now = events
    clock = ManualClock(now)

    async def main():
        secret = Cloud.register(tmp_path)
        cloud = await Cloud(tmp_path, clock).start()
        try:
            async with aiohttp.ClientSession() as s:
                h, body = _signed(secret, _batch(envs[:4]), now)
                assert (await _post(s, cloud, h, body))[0] == 200
                assert _held(tmp_path) == (4, 1)
                seen: dict[str, tuple[int, str]] = {}
                for name, sig in _spellings(h[H_SIG]).items():
                    try:
                        st, js = await _post(s, cloud, {**h, H_SIG: sig}, body)
                    except ValueError:  # the client itself refuses to send a newline in a header
                        continue
                    seen[name] = (st, js["code"])
                # the same bytes in another case: caught by the request's signed nonce
                assert seen["upper"] == (409, "auth.replay")
                assert seen["mixed"] == (409, "auth.replay")
                # what is not exactly 64 hex digits is not a signature (the server strips the
                # spaces around a header value, so "padded" arrives as the original: a replay)
                assert seen["padded"] in {(409, "auth.replay"), (401, "auth.bad_signature")}
                assert seen["spaced"] == (401, "auth.bad_signature")
                assert seen["0x"] == (401, "auth.bad_signature")
                # nothing was taken in twice, not even counted as a repeat
                assert _held(tmp_path) == (4, 1)
                assert cloud.ingestor.stats.events_duplicate == 0
            await cloud.stop()
            # the nonce is remembered across a restart of the cloud
            cloud = await Cloud(tmp_path, clock).start()
            async with aiohttp.ClientSession() as s:
                st, js = await _post(s, cloud, {**h, H_SIG: h[H_SIG].upper()}, body)
                assert (st, js["code"]) == (409, "auth.replay")
                # a fresh request, signed anew (new nonce), in capitals: a valid spelling
                h2, body2 = _signed(secret, _batch(envs[:6]), now)
                st, js = await _post(s, cloud, {**h2, H_SIG: h2[H_SIG].upper()}, body2)
                assert (st, js["ack"], js["accepted"], js["duplicates"]) == (200, 6, 2, 4)
                # new events, correctly signed, but under a nonce already used: refused
                body3 = compress(_batch(envs[6:8]))
                h3 = signed_headers(
                    bytes.fromhex(secret), STORE, now // 1_000_000, body3, nonce=h[H_NONCE]
                )
                st, js = await _post(s, cloud, h3, body3)
                assert (st, js["code"]) == (409, "auth.replay")
                assert _held(tmp_path) == (6, 2)
        finally:
            await cloud.stop()

    asyncio.run(main())


def test_a_batch_without_its_hashes_is_refused(tmp_path, events):
    envs, now = events
    clock = ManualClock(now)
    batch = envs[:5]
    bad = {
        "empty hashes": _batch(batch, h=lambda hs: ["" for _ in hs]),
        "one empty hash": _batch(batch, h=lambda hs: hs[:2] + [""] + hs[3:]),
        "short hashes": _batch(batch, h=lambda hs: [x[:8] for x in hs]),
        "no last hash": _batch(batch, last=""),
        "no hash column": _batch(batch, h=None),
        # version 2 carries no hash per event: its full last hash is what proves the batch
        "v2, no last hash": _batch(batch, encode_batch_v2, last=""),
        "v2, short last hash": _batch(batch, encode_batch_v2, last=lambda x: x[:16]),
        "v2, no last column": _batch(batch, encode_batch_v2, last=None),
    }
    bad_json = {
        "JSON, empty hashes": _json_batch(batch, ["" for _ in batch]),
        "JSON, missing hash": _json_batch(batch, [e.hash.hex() for e in batch[:4]] + [None]),
        "JSON, short hash": _json_batch(batch, [e.hash[:8].hex() for e in batch]),
    }

    async def main():
        out = {}
        async with running(tmp_path, clock) as (secret, cloud, s):
            for name, raw in bad.items():
                out[name] = await _post(s, cloud, *_signed(secret, raw, now))
            for name, raw in bad_json.items():
                out[name] = await _post(s, cloud, *_signed(secret, raw, now, JSON_TYPE))
            held = cloud.ingestor.store_status(STORE)["held"]
            # the genuine batch goes in
            ok = await _post(s, cloud, *_signed(secret, _batch(batch), now))
        return out, held, ok

    out, held, ok = asyncio.run(main())
    for name, (st, js) in out.items():
        assert st == 400 and not js["ok"], (name, st, js)
        assert js["code"] == (
            "ingest.bad_batch" if "column" in name or "missing" in name else "ingest.missing_hash"
        ), (name, js)
    assert held == 0
    assert ok == (200, {"ok": True, "ack": 5, "accepted": 5, "duplicates": 0})


def test_a_forged_hash_is_refused(tmp_path, events):
    envs, now = events
    clock = ManualClock(now)
    flip = lambda hx: format(int(hx[:2], 16) ^ 1, "02x") + hx[2:]  # noqa: E731

    async def main():
        out = {}
        async with running(tmp_path, clock) as (secret, cloud, s):

            async def post(name, raw, ctype=None):
                out[name] = await _post(s, cloud, *_signed(secret, raw, now, ctype))

            # event 3 claims a hash that is not its own: 1–2 kept, 3 onwards refused
            await post("hash of 3", _batch(envs[:5], h=lambda hs: hs[:2] + [flip(hs[2])] + hs[3:]))
            # event 4's content edited, its hash kept: 3 kept
            edited = dataclasses.replace(envs[3], staff="mallory")
            await post("content of 4", encode_batch(STORE, [envs[2], edited, envs[4]]))
            # JSON form, event 4 with a forged full hash
            hashes = [envs[2].hash.hex(), flip(envs[3].hash.hex()), envs[4].hash.hex()]
            await post("JSON", _json_batch(envs[2:5], hashes), JSON_TYPE)
            # the batch's full last hash is wrong: 4 kept, 5 refused
            await post("last", _batch(envs[2:5], last=flip))
            held_after_forgeries = cloud.ingestor.store_status(STORE)["held"]
            await post("genuine", _batch(envs[2:6]))
            # a repeat of held events whose claimed hash is forged is not "a harmless repeat"
            await post("repeat", _batch(envs[:6], h=lambda hs: hs[:4] + [flip(hs[4])] + hs[5:]))
            # version 2 (no hash per event): event 8's content edited, the genuine last hash of
            # 7..9 kept: the recomputed chain does not end at it, so none of 7..9 goes in
            v2_edited = [envs[6], dataclasses.replace(envs[7], staff="mallory"), envs[8]]
            await post("v2 content of 8", encode_batch_v2(STORE, v2_edited))
            # the edited events with the last hash their edited chain would have after another
            # head than the one HQ holds: still refused, the chain must continue HQ's
            await post(
                "v2 consistent forgery",
                _batch(v2_edited, encode_batch_v2, last=_rechain(envs[4], v2_edited)),
            )
            await post("v2 last", _batch(envs[6:9], encode_batch_v2, last=flip))
            # a repeat of held events with a forged last hash is no harmless repeat either
            await post("v2 repeat", _batch(envs[3:6], encode_batch_v2, last=flip))
            held_after_v2_forgeries = cloud.ingestor.store_status(STORE)["held"]
            await post("v2 genuine", encode_batch_v2(STORE, envs[4:9]))
            async with s.get(cloud.url + "/v1/alerts", headers=cloud.hq) as r:
                alerts = (await r.json())["alerts"]
        return out, (held_after_forgeries, held_after_v2_forgeries), alerts

    out, (held, held_v2), alerts = asyncio.run(main())
    st, js = out["hash of 3"]
    assert (st, js["code"], js["seq"], js["ack"]) == (409, "ingest.chain_broken", 3, 2)
    for name in ("last", "content of 4", "JSON"):
        st, js = out[name]
        assert st == 409 and js["code"] == "ingest.chain_broken", (name, js)
    assert out["last"][1]["seq"] == 5 and out["content of 4"][1]["seq"] == 4
    assert out["JSON"][1]["seq"] == 4
    assert held == 4  # 3 and 4 went in with their real hashes, in the batches that broke later
    assert out["genuine"] == (200, {"ok": True, "ack": 6, "accepted": 2, "duplicates": 2})
    st, js = out["repeat"]
    assert (st, js["code"], js["seq"], js["ack"]) == (409, "ingest.chain_broken", 5, 6)
    for name in ("v2 content of 8", "v2 consistent forgery", "v2 last"):
        st, js = out[name]
        # nothing but the last hash proves a version-2 batch: the break is reported at its first
        # new event, and none of it is kept
        assert (st, js["code"], js["seq"], js["ack"], js["accepted"]) == (
            409,
            "ingest.chain_broken",
            7,
            6,
            0,
        ), (name, js)
    st, js = out["v2 repeat"]
    assert (st, js["code"], js["ack"]) == (409, "ingest.chain_broken", 6), js
    assert held_v2 == 6
    assert out["v2 genuine"] == (200, {"ok": True, "ack": 9, "accepted": 3, "duplicates": 2})
    assert {a["seq"] for a in alerts if a["code"] == "ingest.chain_broken"} == {3, 4, 5, 6, 7}
    with sqlite3.connect(str(tmp_path / "stores" / STORE / "events.sqlite")) as con:
        kept = con.execute("SELECT seq, staff, hash FROM events ORDER BY seq").fetchall()
    assert kept == [(e.seq, e.staff, e.hash) for e in envs[:9]]  # the genuine events, once
