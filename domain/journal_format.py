"""The journal's record format: one definition for the store's journal and HQ's copy of it.

A record is an ``Envelope``: the store-local ``seq``, the client-chosen command ``id`` (UUID, the
idempotency key), UTC time in microseconds, ``kind``, schema version ``v``, who (``staff``), which
``till``, which ``ip``, the aggregate it is about (``agg``), the canonical JSON ``body`` and the
``hash`` chaining it to the record before it:

    hash = sha256(prev_hash || "seq|id|ts|kind|v|staff|till|ip|agg|" || body)

with a genesis ``prev_hash`` of 32 zero bytes (``GENESIS``). Any edit of a past record breaks the
chain from there on. Bodies are encoded by msgspec in field order (``encode_body``), so an event
always hashes the same; decoding needs the registered kinds (``domain.events.decode_body``).

The events table (``EVENT_COLUMNS``: name and Python type of each column, in order) is the same
in the store's ``journal.sqlite`` and in HQ's ``stores/<id>/events.sqlite``; ``events_table_sql``
writes its ``CREATE TABLE`` for either (the store adds the command hash ``cmd`` and a unique
``id``), ``COLUMNS`` selects an envelope's columns and ``envelope_of`` builds it from such a row.

Pure Python (hashlib, msgspec): no database or network library is imported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "GENESIS",
    "Envelope",
    "Record",
    "chain_hash",
    "seal",
    "set_body_decoder",
    "encode_body",
    "EVENT_COLUMNS",
    "RECORD_FIELDS",
    "COLUMNS",
    "envelope_of",
    "events_table_sql",
]

GENESIS = b"\x00" * 32

# the events table: every column of an envelope, in this order (the hash last)
EVENT_COLUMNS: tuple[tuple[str, type], ...] = (
    ("seq", int),
    ("id", str),
    ("ts", int),
    ("kind", str),
    ("v", int),
    ("staff", str),
    ("till", str),
    ("ip", str),
    ("agg", str),
    ("body", bytes),
    ("hash", bytes),
)
# what the hash covers (everything but the hash), the order of ``chain_hash``'s arguments
RECORD_FIELDS: tuple[str, ...] = tuple(name for name, _ in EVENT_COLUMNS[:-1])
COLUMNS = ", ".join(name for name, _ in EVENT_COLUMNS)

# (seq, id, ts, kind, v, staff, till, ip, agg, body): one record without its hash
Record = tuple[int, str, int, str, int, str, str, str, str, bytes]

_encoder = msgspec.json.Encoder()


def encode_body(body: Any) -> bytes:
    """The canonical JSON of an event body (msgspec, fields in declaration order)."""
    return _encoder.encode(body)


def chain_hash(
    prev: bytes,
    seq: int,
    id: str,
    ts: int,
    kind: str,
    v: int,
    staff: str,
    till: str,
    ip: str,
    agg: str,
    body: bytes,
) -> bytes:
    head = f"{seq}|{id}|{ts}|{kind}|{v}|{staff}|{till}|{ip}|{agg}|".encode()
    return hashlib.sha256(prev + head + body).digest()


@dataclass(frozen=True, slots=True)
class Envelope:
    seq: int
    id: str
    ts: int  # UTC microseconds since the epoch
    kind: str
    v: int
    staff: str
    till: str
    ip: str
    agg: str
    body: bytes
    hash: bytes

    def decoded(self) -> Any:
        return (_decode_body or _no_decoder)(self.kind, self.body, self.v)

    def __reduce__(self) -> tuple[Any, ...]:  # one tuple, not pickle's field-by-field path
        return Envelope, (
            self.seq,
            self.id,
            self.ts,
            self.kind,
            self.v,
            self.staff,
            self.till,
            self.ip,
            self.agg,
            self.body,
            self.hash,
        )

    def to_wire(self) -> dict[str, Any]:
        """JSON-safe form used by the JSON upload form and the gateway's event stream."""
        return {
            "seq": self.seq,
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind,
            "v": self.v,
            "staff": self.staff,
            "till": self.till,
            "ip": self.ip,
            "agg": self.agg,
            "body": msgspec.json.decode(self.body),
            "hash": self.hash.hex(),
        }


_decode_body: Callable[[str, bytes, int], Any] | None = None


def set_body_decoder(decode: Callable[[str, bytes, int], Any]) -> None:
    """Called once by ``domain.events`` (the kinds' registry), which imports this module: the
    format does not import the registry back."""
    global _decode_body
    _decode_body = decode


def _no_decoder(kind: str, body: bytes, v: int) -> Any:
    raise RuntimeError("no event kinds registered: import domain.events before decoding bodies")


def seal(
    prev: bytes,
    seq: int,
    id: str,
    ts: int,
    kind: str,
    v: int,
    staff: str,
    till: str,
    ip: str,
    agg: str,
    body: bytes,
) -> Envelope:
    """The envelope of one new record chained after ``prev`` (the hash of the record before)."""
    return Envelope(
        seq,
        id,
        ts,
        kind,
        v,
        staff,
        till,
        ip,
        agg,
        body,
        chain_hash(prev, seq, id, ts, kind, v, staff, till, ip, agg, body),
    )


def envelope_of(row: Sequence[Any]) -> Envelope:
    """An envelope from a row selected as ``COLUMNS`` (columns after those are left out)."""
    return Envelope(*row[:11])


_SQL_TYPES: dict[type, str] = {int: "INTEGER", str: "TEXT", bytes: "BLOB"}


def events_table_sql(
    *, unique_id: bool = False, before_hash: Sequence[tuple[str, type]] = ()
) -> str:
    """``CREATE TABLE IF NOT EXISTS events`` for SQLite: ``EVENT_COLUMNS`` (``seq`` the key, every
    column NOT NULL), with ``before_hash`` columns of one side placed before ``hash`` and ``id``
    UNIQUE if asked (the store's journal: a command id commits once)."""
    cols = list(EVENT_COLUMNS[:-1]) + list(before_hash) + [EVENT_COLUMNS[-1]]
    lines = []
    for name, typ in cols:
        extra = (
            " PRIMARY KEY"
            if name == "seq"
            else " NOT NULL UNIQUE"
            if name == "id" and unique_id
            else " NOT NULL"
        )
        lines.append(f"    {name:<5} {_SQL_TYPES[typ]}{extra}")
    return "CREATE TABLE IF NOT EXISTS events (\n" + ",\n".join(lines) + "\n);\n"
