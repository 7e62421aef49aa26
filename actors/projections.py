"""Read models fed by the journal: stock levels and member wallets.

Each is a plain class with ``apply(envelopes)``; ``actors.shells.readmodels`` runs them as actors
that follow the journal's tail. Each gives its state as an image (``image``/``from_image``,
``domain.book_snapshot``) at the seq and hash of the last event it applied: after a restart it
starts from its newest valid snapshot and reads only the events after it.
"""

from __future__ import annotations

from typing import Any

from domain.book import Member, find_member
from domain.book_snapshot import StockImage, WalletImage
from domain.events import Envelope
from domain.member_desk import MemberIndex, member_of
from domain.stock import StockBook

__all__ = ["StockView", "WalletView"]

# what moves a level (domain.stock.StockBook.apply): counts approved and transfers included
_STOCK_KINDS = ("order.completed", "order.refunded", "stock.", "count.approved", "transfer.")


class StockView:
    def __init__(self) -> None:
        self.seq = 0
        self.hash = b""  # of the event at seq
        self.book = StockBook()

    def apply(self, envs: list[Envelope]) -> None:
        for env in envs:
            if env.seq <= self.seq:
                continue
            if env.kind.startswith(_STOCK_KINDS):
                self.book.apply(env.decoded())
            elif env.kind == "order.exchanged":  # a refund and a sale in one
                for part in env.decoded().parts():
                    self.book.apply(part)
            self.seq, self.hash = env.seq, env.hash

    def image(self) -> StockImage:
        return StockImage(self.seq, dict(self.book.levels))

    @classmethod
    def from_image(cls, image: StockImage, hash: bytes) -> StockView:
        view = cls()
        view.seq, view.hash, view.book.levels = image.seq, hash, image.levels
        return view

    def report(self, thresholds: dict[str, int]) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "levels": dict(self.book.levels),
            "negative": self.book.negatives(),
            "low": [(s.sku, s.level, s.low_stock) for s in self.book.low(thresholds)],
        }


class WalletView:
    """Members and wallet balances as of the journal's tail (the ledger's book is the authority
    that refuses overdrafts; this view answers look-ups without loading the ledger)."""

    def __init__(self) -> None:
        self.seq = 0
        self.hash = b""  # of the event at seq
        self.members: dict[str, Member] = {}
        self.balances: dict[str, int] = {}
        self.history: dict[str, list[tuple[int, str, int]]] = {}
        self.index = MemberIndex()  # by card, phone and name (domain.member_desk)

    def _move(self, member: str, ts: int, kind: str, delta: int) -> None:
        self.balances[member] = self.balances.get(member, 0) + delta
        hist = self.history.setdefault(member, [])
        hist.append((ts, kind, delta))
        del hist[:-50]

    def apply(self, envs: list[Envelope]) -> None:
        for env in envs:
            if env.seq <= self.seq:
                continue
            self.seq, self.hash = env.seq, env.hash
            if env.kind in ("member.registered", "member.updated"):
                b = env.decoded()
                was = self.members.get(b.member)
                self.members[b.member] = m = member_of(b, was)
                self.index.add(m, was)
                self.balances.setdefault(b.member, 0)
            elif env.kind == "wallet.topped_up":
                b = env.decoded()
                self._move(b.member, env.ts, env.kind, b.amount)
            elif env.kind in ("order.completed", "order.refunded", "order.exchanged"):
                b = env.decoded()
                parts = b.parts() if env.kind == "order.exchanged" else (b,)
                for part in parts:
                    sold = hasattr(part, "payments")
                    for p in part.payments if sold else part.tenders:
                        if p.kind == "wallet":
                            self._move(p.member, env.ts, env.kind, -p.amount if sold else p.amount)

    def image(self) -> WalletImage:
        members = list(self.members.values())
        return WalletImage(self.seq, members, dict(self.balances), dict(self.history))

    @classmethod
    def from_image(cls, image: WalletImage, hash: bytes) -> WalletView:
        view = cls()
        view.seq, view.hash = image.seq, hash
        view.members = {m.member: m for m in image.members}
        for m in image.members:
            view.index.add(m)
        view.balances = image.balances
        view.history = image.history
        return view

    def member(self, key: str) -> dict[str, Any]:
        m = self.index.exact(self.members, key) or find_member(self.members, key)
        return {
            **self.row(m),
            "history": self.history.get(m.member, [])[-20:],
            "as_of_seq": self.seq,
        }

    def row(self, m: Member) -> dict[str, Any]:
        return {
            "member": m.member,
            "name": m.name,
            "phone": m.phone,
            "card": m.card,
            "consent": m.consent,
            "home": m.home,
            "balance": self.balances.get(m.member, 0),
        }

    def search(self, q: str, limit: int = 50) -> dict[str, Any]:
        """Members matching ``q`` (an id, card or phone: one; else by name words)."""
        rows = [self.row(m) for m in self.index.search(self.members, q, limit)]
        return {"members": rows, "as_of_seq": self.seq}

    def rows(self) -> list[dict[str, Any]]:
        """Every member (the export), by id."""
        return [self.row(self.members[k]) for k in sorted(self.members)]
