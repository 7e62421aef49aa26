"""Snapshots of the store's state at a journal position: pure encode and decode (msgspec).

A snapshot file is one msgpack array: a magic word, a ``SnapHeader`` (format version, what it is
(``name``: ``ledger``, ``stock``, ``wallet``), the ``seq`` of the last event it includes and that
event's chain ``hash``, the ``horizon`` below which orders were left out, when it was made), an
HMAC-SHA256 over header and payload with the store's snapshot key, and the payload: the state as
msgpack (``BookImage`` for the ledger's book, ``StockImage``/``WalletImage`` for the read models).
``open_snapshot`` refuses (``SnapshotRefused``) anything that is not a whole, untouched snapshot
of this format; whether its seq and hash are the journal's is the loader's check
(``actors.snapshots``). A book restored by ``decode_book`` equals the book the replay of the
journal up to ``seq`` builds, less the orders older than ``horizon``, which the book's archive
(the journal, by aggregate) gives back on first use.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec

from domain import day as _day
from domain import staff as _staff
from domain.book import Book, BookRules
from domain.book_records import Member, OrderRecord
from domain.loyalty_book import LoyaltyImage
from domain.member_float import Floats
from domain.tender_flow import TenderState

__all__ = [
    "FORMAT",
    "SnapHeader",
    "SnapshotRefused",
    "BOOK_STATE",
    "BookImage",
    "StockImage",
    "WalletImage",
    "seal_snapshot",
    "open_snapshot",
    "encode_book",
    "decode_book",
    "encode_image",
    "decode_image",
]

FORMAT = 4  # 2: the book's QR and card tenders (domain.tender_flow); 3: loyalty; 4: HQ's
# member histories (``LoyaltyImage.history``, domain.member_history)
READS = (2, 3, 4)  # format 2: empty loyalty state; format 3: no member histories
MAGIC = "kassa-snapshot"


class SnapshotRefused(ValueError):
    """Not a snapshot this code can trust: damaged, altered, another format or another store."""


class SnapHeader(msgspec.Struct, array_like=True, frozen=True):
    format: int
    name: str  # ledger | stock | wallet
    seq: int  # the last event the state includes
    hash: bytes  # that event's chain hash
    horizon: int = 0  # orders committed before this seq are not in the payload (0: all are)
    created_us: int = 0


class _File(msgspec.Struct, array_like=True):
    magic: str
    header: SnapHeader
    mac: bytes
    payload: bytes


def _mac(key: bytes, header: SnapHeader, payload: bytes) -> bytes:
    return hmac.new(key, msgspec.msgpack.encode(header) + payload, hashlib.sha256).digest()


def seal_snapshot(header: SnapHeader, payload: bytes, key: bytes) -> bytes:
    return msgspec.msgpack.encode(_File(MAGIC, header, _mac(key, header, payload), payload))


_file_decoder = msgspec.msgpack.Decoder(_File)


def open_snapshot(data: bytes, key: bytes, name: str) -> tuple[SnapHeader, bytes]:
    """The header and payload of a sealed snapshot of ``name``; ``SnapshotRefused`` otherwise."""
    try:
        f = _file_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotRefused(f"not a snapshot: {exc}") from exc
    if f.magic != MAGIC:
        raise SnapshotRefused("not a snapshot")
    if f.header.format not in READS:
        raise SnapshotRefused(f"snapshot format {f.header.format}, this code reads {FORMAT}")
    if f.header.name != name:
        raise SnapshotRefused(f"a {f.header.name!r} snapshot, not {name!r}")
    if not hmac.compare_digest(f.mac, _mac(key, f.header, f.payload)):
        raise SnapshotRefused("the snapshot was altered or made with another key")
    return f.header, f.payload


# ---------------------------------------------------------------- the ledger's book


class BookImage(msgspec.Struct, array_like=True):
    seq: int
    wallets: dict[str, int]
    members: list[Member]
    orders: list[OrderRecord]
    open_baskets: dict[str, str]
    closed_baskets: dict[str, int]
    order_counts: dict[str, int]
    refund_counts: dict[str, int]
    number_index: dict[str, str]
    accounts: list[_staff.StaffAccount]
    permissions: dict[str, list[str]]
    sessions: list[_staff.SessionRecord]
    by_staff_till: list[tuple[str, str, str]]
    by_till: dict[str, str]
    days: list[_day.TillDay]
    z_recorded: list[tuple[str, str]]
    stock: dict[str, int]
    flags: dict[str, list[dict[str, Any]]]  # the ledger's anomaly flags per order
    last_ts: int
    tenders: list[TenderState]
    loyalty: LoyaltyImage | None = None  # format 3+ (None: a format 2 snapshot)
    floats: dict[str, Any] | None = None  # domain.member_float (None: an older snapshot)


# what a book holds, all of it in ``BookImage``: a book that grows another attribute must be
# taught to the snapshot (and ``FORMAT`` raised), or no snapshot is written and starts replay
BOOK_STATE = frozenset(
    {"rules", "wallets", "members", "orders", "open_baskets", "closed_baskets", "numbers",
     "till_orders", "staff", "days", "stock", "seq", "archive", "tenders", "loyalty",
     "floats"}
)  # fmt: skip


def encode_book(book: Book, flags: dict[str, list[dict[str, Any]]], last_ts: int) -> bytes:
    unknown = set(vars(book)) - BOOK_STATE
    if unknown:
        raise SnapshotRefused(f"the book holds state a snapshot does not keep: {sorted(unknown)}")
    st, nums, lo = book.staff, book.numbers, book.loyalty
    return msgspec.msgpack.encode(
        BookImage(
            seq=book.seq,
            wallets=dict(book.wallets),
            members=list(book.members.values()),
            orders=list(dict.values(book.orders)),
            open_baskets=dict(book.open_baskets),
            closed_baskets=dict(book.closed_baskets),
            order_counts=dict(nums.orders),
            refund_counts=dict(nums.refunds),
            number_index=dict(nums.index),
            accounts=list(st.accounts.values()),
            permissions={a: list(r) for a, r in st.permissions.changes.items()},
            sessions=list(st.sessions.values()),
            by_staff_till=[(s, t, v) for (s, t), v in st.by_staff_till.items()],
            by_till=dict(st.by_till),
            days=list(book.days.days.values()),
            z_recorded=sorted(book.days.z_recorded),
            stock=dict(book.stock.levels),
            flags=flags,
            last_ts=last_ts,
            tenders=list(book.tenders.tenders.values()),
            loyalty=lo.image(),
            floats=book.floats.state(),
        )
    )


_book_decoder = msgspec.msgpack.Decoder(BookImage)


def decode_book(
    payload: bytes, rules: BookRules | None = None
) -> tuple[Book, dict[str, list[dict[str, Any]]], int]:
    """The book, the ledger's flags and its last event time from a ledger snapshot's payload."""
    try:
        im = _book_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotRefused(f"the ledger snapshot does not decode: {exc}") from exc
    book = Book(rules or BookRules())
    book.seq = im.seq
    book.wallets = im.wallets
    book.members = {m.member: m for m in im.members}
    book.orders.update((r.order.order_id, r) for r in im.orders)
    book.open_baskets = im.open_baskets
    book.closed_baskets = im.closed_baskets
    book.numbers.orders.update(im.order_counts)
    book.numbers.refunds.update(im.refund_counts)
    book.numbers.index.update(im.number_index)
    st = book.staff
    st.accounts = {a.staff: a for a in im.accounts}
    st.permissions.changes = {a: tuple(r) for a, r in im.permissions.items()}
    st.sessions = {s.session: s for s in im.sessions}
    st.by_staff_till = {(s, t): v for s, t, v in im.by_staff_till}
    st.by_till = im.by_till
    book.days.days = {d.till: d for d in im.days}
    book.days.z_recorded = {(t, d) for t, d in im.z_recorded}
    book.stock.levels = im.stock
    book.tenders.tenders = {t.key: t for t in im.tenders}
    if im.loyalty is not None:  # else a format 2 snapshot: no loyalty state yet
        book.loyalty.load(im.loyalty)
    if im.floats is not None:
        book.floats = Floats.from_state(im.floats)
        if "points_rule" not in im.floats:  # points were not in the floats yet
            book.floats.seed_points(book.loyalty.points)
    else:  # before the chain rule every credit stayed in the store: the float is the wallet
        book.floats.held = {(m, "wallet"): v for m, v in im.wallets.items()}
    return book, im.flags, im.last_ts


# ---------------------------------------------------------------- the read models


class StockImage(msgspec.Struct, array_like=True):
    seq: int
    levels: dict[str, int]


class WalletImage(msgspec.Struct, array_like=True):
    seq: int
    members: list[Member]
    balances: dict[str, int]
    history: dict[str, list[tuple[int, str, int]]]


def encode_image(image: StockImage | WalletImage) -> bytes:
    return msgspec.msgpack.encode(image)


def decode_image(payload: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.msgpack.decode(payload, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotRefused(f"the snapshot does not decode: {exc}") from exc
