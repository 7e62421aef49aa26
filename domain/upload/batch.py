"""What every batch decodes to (``Batch``), how a malformed one is refused (``ProtocolError``),
and the checks the versions share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.journal_format import Envelope, Record

__all__ = ["Batch", "ProtocolError", "bad", "missing_hash", "check_types", "ts_deltas", "pick"]

T = TypeVar("T")


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True)
class Batch:
    store: str
    rows: list[Record]  # (seq, id, ts, kind, v, staff, till, ip, agg, body) in seq order
    # per event, the first ``hb`` bytes of its hash (version 1 and JSON); empty for version 2,
    # which proves its events by ``last`` alone
    prefixes: list[bytes]
    last: bytes  # full hash of the last event (always given)

    @property
    def first(self) -> int:
        return self.rows[0][0]

    @property
    def last_seq(self) -> int:
        return self.rows[-1][0]


def bad(msg: str) -> ProtocolError:
    return ProtocolError("ingest.bad_batch", msg)


def missing_hash() -> ProtocolError:
    return ProtocolError(
        "ingest.missing_hash",
        "every event must carry its chain hash (and the batch its last full hash)",
    )


def check_types(rows: Sequence[tuple[Any, ...]]) -> None:
    """Every decoded row has the envelope's types (an untrusted header may say anything)."""
    for r in rows:
        if not (
            isinstance(r[1], str)
            and isinstance(r[2], int)
            and isinstance(r[3], str)
            and isinstance(r[4], int)
            and all(isinstance(x, str) for x in r[5:9])
        ):
            raise bad("a column has the wrong type")


def ts_deltas(envs: Sequence[Envelope]) -> list[int]:
    """Each event's time as the difference from the one before (the first from 0)."""
    if not envs:
        raise ValueError("an empty batch")
    return [e.ts - (envs[i - 1].ts if i else 0) for i, e in enumerate(envs)]


def pick(table: Sequence[T], idx: Any, n: int) -> list[T]:
    """``table[i]`` for each index (an index outside the table is malformed, not wrapped)."""
    if len(idx) != n or any(not isinstance(i, int) or not 0 <= i < len(table) for i in idx):
        raise bad("an index outside its table")
    return [table[i] for i in idx]
