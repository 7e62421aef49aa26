"""Journals and batches written before the format moved to domain/ still read the same.

The fixtures in ``fixtures/`` were written by the code of commit 1a3ca90 (``cloud.protocol`` and the
old ``actors.journal``; ``fixtures/make_old_format.py``): a 28-event journal and its events as
version-1 and version-2 batches, raw and compressed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from actors.journal import Journal, Pending, verify_journal
from cloud.ingest import EventLog
from domain.journal_format import Envelope
from domain.upload import (
    ProtocolError,
    compress_xz,
    decode_batch,
    decompress,
    encode_batch,
    encode_batch_v2,
)

FIX = Path(__file__).resolve().parent / "fixtures"
LAST = "82a40cf16b9d62ae2aa3f57f72cbf6b0bd9cdab1c55921c36bb814f4069ad01e"


@pytest.fixture
def old_journal(tmp_path: Path) -> Path:
    p = tmp_path / "journal.sqlite"
    shutil.copyfile(FIX / "journal_old.sqlite", p)
    return p


def envelopes(path: Path) -> list[Envelope]:
    j = Journal(path)
    try:
        return j.read(0, 1000)
    finally:
        j.close()


def records(envs: list[Envelope]) -> list[tuple]:
    return [(e.seq, e.id, e.ts, e.kind, e.v, e.staff, e.till, e.ip, e.agg, e.body) for e in envs]


def test_an_old_journal_verifies_and_continues(old_journal):
    res = verify_journal(old_journal, integrity=True)
    assert res.ok and res.count == 28 and res.last_seq == 28
    envs = envelopes(old_journal)
    assert envs[-1].hash.hex() == LAST
    j = Journal(old_journal)
    try:
        new = j.append(
            [
                Pending(
                    "11111111-2222-4333-8444-555555555555",
                    b"c" * 32,
                    envs[-1].ts + 1,
                    "stock.counted",
                    1,
                    "m1",
                    "T1",
                    "10.0.0.11",
                    "MILK-1L",
                    b'{"sku":"MILK-1L","counted":3,"previous":40}',
                )
            ]
        )
    finally:
        j.close()
    assert new[0].seq == 29
    res = verify_journal(old_journal)
    assert res.ok and res.count == 29


def test_the_events_table_is_laid_out_as_before(old_journal, tmp_path):
    con = sqlite3.connect(old_journal)
    old = con.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    con.close()
    Journal(tmp_path / "new.sqlite").close()
    con = sqlite3.connect(tmp_path / "new.sqlite")
    new = con.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    con.close()
    assert new == old  # SQLite keeps the statement as written (without IF NOT EXISTS)


@pytest.mark.parametrize(
    "name, encode",
    [
        ("batch_v1.bin", lambda envs: encode_batch("S001", envs)),
        ("batch_v2.bin", lambda envs: encode_batch_v2("S001", envs)),
        ("batch_v2_uuid.bin", lambda envs: encode_batch_v2("S001", envs[:8])),
    ],
)
def test_batches_encode_to_the_same_bytes(old_journal, name, encode):
    assert encode(envelopes(old_journal)) == (FIX / name).read_bytes()


def test_non_uuid_ids_and_aggs_encode_to_the_same_bytes(old_journal):
    plain = [
        Envelope(
            e.seq,
            f"cmd-{e.seq}",
            e.ts,
            e.kind,
            e.v,
            e.staff,
            e.till,
            e.ip,
            e.agg or "none",
            e.body,
            e.hash,
        )
        for e in envelopes(old_journal)[-8:]
    ]
    assert encode_batch_v2("S001", plain) == (FIX / "batch_v2_plain.bin").read_bytes()
    b = decode_batch((FIX / "batch_v2_plain.bin").read_bytes())
    assert b.rows == records(plain) and b.prefixes == [] and b.last == plain[-1].hash


@pytest.mark.parametrize("name, encoding", [("batch_v1.zst", "zstd"), ("batch_v2.xz", "xz")])
def test_old_batches_decode_to_the_journal_events(old_journal, name, encoding):
    envs = envelopes(old_journal)
    b = decode_batch(decompress((FIX / name).read_bytes(), encoding=encoding))
    assert b.store == "S001" and b.rows == records(envs) and b.last.hex() == LAST
    assert b.prefixes == ([e.hash[:8] for e in envs] if encoding == "zstd" else [])
    # and what the new code compresses reads back the same
    assert (
        decode_batch(decompress(compress_xz(encode_batch_v2("S001", envs)), encoding="xz")).rows
        == b.rows
    )


def test_an_old_batch_is_kept_once_by_hq(old_journal, tmp_path):
    envs = envelopes(old_journal)
    log = EventLog(tmp_path / "hq" / "events.sqlite")
    try:
        v2 = decode_batch((FIX / "batch_v2.bin").read_bytes())
        assert log.ingest(v2, 1) == ("ok", {"accepted": 28, "duplicates": 0})
        v1 = decode_batch((FIX / "batch_v1.bin").read_bytes())
        assert log.ingest(v1, 2) == ("ok", {"accepted": 0, "duplicates": 28})
        assert log.held == 28 and log.head.hex() == LAST
        assert [tuple(r) for r in log.read()] == [
            (*r, e.hash) for r, e in zip(records(envs), envs, strict=True)
        ]
    finally:
        log.close()


def test_a_malformed_old_batch_is_still_refused():
    raw = bytearray((FIX / "batch_v2_uuid.bin").read_bytes())
    raw[raw.index(b'"bs":[0,') + 6] = ord("9")  # a body index outside the skeleton table
    with pytest.raises(ProtocolError) as exc:
        decode_batch(bytes(raw))
    assert exc.value.code == "ingest.bad_batch"
    with pytest.raises(ProtocolError):
        decode_batch((FIX / "batch_v1.bin").read_bytes()[:-1])  # a body cut short
