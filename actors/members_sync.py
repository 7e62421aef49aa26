"""The store's side of members chain-wide (``domain.member_float``; HQ's side is ``cloud.members``).

* ``MemberCopy`` — ``<data>/members.sqlite`` (0600): every member HQ knows, as a till needs them
  (id, name, phone, card, home store), pulled with ``GET /v1/members/changes?since=N``;
* ``ChainLink`` — the store's signed requests to HQ (the store asks; HQ never calls): the pull,
  ``authorise`` and ``float``;
* ``MembersSync`` — the loop beside the catalogue pull (``start_for``, from ``actors.bootstrap``):
  journals the caps of ``store.json`` (``member.float_caps``), pulls members every
  ``interval_s``, and, before a wallet spend over this store's float, asks HQ to authorise the
  rest (``authorise_spend``: journals ``member.authorised``; offline it gives up at once and the
  ledger refuses the spend with ``chain.float_exceeded``); ``refill`` asks HQ to top the float
  up to the cap (``member.float_granted``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from actors.files import FILE_MODE
from actors.history_sync import HistorySync, refresh_for_key
from actors.history_sync import start_for as start_history
from domain.error_codes.chain import Chain
from domain.errors import KassaError, NotFound, Unavailable
from domain.member_events import FloatCapsSet, FloatGranted, FloatReturned, MemberAuthorised
from domain.member_float import KINDS, UNLIMITED, Caps
from domain.upload import signed_headers

__all__ = ["ChainLink", "MemberCopy", "MembersSync", "start_for", "before_pay", "look_up"]

log = logging.getLogger(__name__)

Journal = Callable[[str, Any], Awaitable[Any]]  # (command id, event body) -> the ledger's ack
FIELDS = ("member", "name", "phone", "card", "home", "version")


class ChainLink:
    """Signed calls to HQ's member routes (the store's upload secret, like the catalogue pull)."""

    def __init__(
        self,
        base_url: str,
        store: str,
        secret: bytes,
        timeout_s: float = 3.0,
        now_s: Callable[[], float] = time.time,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.store, self.secret = store, secret
        self.timeout_s = timeout_s
        self.now_s = now_s

    async def _call(self, method: str, path: str, doc: dict[str, Any] | None) -> dict[str, Any]:
        import aiohttp

        body = orjson.dumps(doc) if doc is not None else b""
        headers = signed_headers(
            self.secret,
            self.store,
            int(self.now_s()),
            body,
            content_type="application/json",
            encoding=None,
        )
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, self.base + path, data=body, headers=headers) as resp,
            ):
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Unavailable(Chain.HQ_UNREACHABLE, f"HQ: {type(exc).__name__}") from None
        try:
            answer = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            answer = {}
        if status != 200 or not isinstance(answer, dict):
            code = str(answer.get("code", "")) if isinstance(answer, dict) else ""
            raise Unavailable(Chain.HQ_UNREACHABLE, f"HQ answered {status} {code}".strip())
        return answer

    async def changes(self, since: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/members/changes?since={since}", None)

    async def history(self, query: str) -> dict[str, Any]:  # actors.history_sync
        return await self._call("GET", f"/v1/members/history?{query}", None)

    async def available(self, member: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/members/{member}/available", None)

    async def authorise(self, member: str, kind: str, amount: int, key: str) -> dict[str, Any]:
        doc = {"key": key, "store": self.store, "kind": kind, "amount": amount}
        return await self._call("POST", f"/v1/members/{member}/authorise", doc)

    async def float(self, member: str, kind: str, amount: int, request: str) -> dict[str, Any]:
        doc = {"request": request, "store": self.store, "kind": kind, "amount": amount}
        return await self._call("POST", f"/v1/members/{member}/float", doc)


class MemberCopy:
    """The members HQ knows, as pulled (``<data>/members.sqlite``, owner-only)."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            path.touch(mode=FILE_MODE)
        path.chmod(FILE_MODE)
        self.con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.executescript(
            "CREATE TABLE IF NOT EXISTS members (member TEXT PRIMARY KEY, name TEXT, phone TEXT,"
            " card TEXT, home TEXT, version INTEGER);"
            "CREATE INDEX IF NOT EXISTS members_card ON members(card);"
            "CREATE INDEX IF NOT EXISTS members_phone ON members(phone);"
        )

    @property
    def since(self) -> int:
        row = self.con.execute("SELECT max(version) FROM members").fetchone()
        return int(row[0] or 0)

    def apply(self, members: list[dict[str, Any]]) -> None:
        rows = [tuple(m.get(f, "") for f in FIELDS) for m in members]
        with self.con:
            self.con.execute("BEGIN")
            self.con.executemany("INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?)", rows)

    def find(self, key: str) -> dict[str, Any] | None:
        """A member by id, card or phone."""
        row = self.con.execute(
            f"SELECT {', '.join(FIELDS)} FROM members WHERE member = ? OR card = ? OR phone = ? "
            "ORDER BY member = ? DESC LIMIT 1",
            (key, key, key, key),
        ).fetchone()
        return dict(zip(FIELDS, row, strict=True)) if row else None

    def close(self) -> None:
        self.con.close()


class MembersSync:
    def __init__(
        self,
        link: ChainLink | None,
        copy: MemberCopy,
        journal: Journal,
        float_of: Callable[[str, str], int],
        caps: Caps,
        interval_s: float = 30.0,
        pending: Callable[[], dict[str, tuple[str, str, int]]] = dict,
        abandon_s: float = 600.0,
        now_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link, self.copy, self.journal = link, copy, journal
        self.float_of = float_of  # this store's float of (member, kind), from the ledger's book
        self.caps = caps
        self.interval_s = interval_s
        self.pending = pending  # HQ's authorisations no sale has spent yet (Floats.pending)
        self.abandon_s, self.now_s = abandon_s, now_s
        self.first_seen: dict[str, float] = {}  # authorisation -> when this loop first saw it
        self.task: asyncio.Task[None] | None = None
        self.last_pull_us = 0
        self.last_error = ""
        self.history: HistorySync | None = None  # members' orders elsewhere (tiers chain-wide)

    async def set_caps(self) -> None:
        """Journal ``store.json``'s caps (once per value: the command id is the caps)."""
        if self.caps.limited:
            c = self.caps
            await self.journal(
                f"member.float_caps:{c.wallet}:{c.points}", FloatCapsSet(c.wallet, c.points)
            )

    async def pull(self) -> int:
        """Take every member HQ changed since the last pull; how many."""
        if self.link is None:
            return 0
        n = 0
        while True:
            page = await self.link.changes(self.copy.since)
            members = page.get("members") or []
            if members:
                await asyncio.get_running_loop().run_in_executor(None, self.copy.apply, members)
                n += len(members)
            if not page.get("more"):
                self.last_pull_us = int(time.time() * 1e6)
                return n

    async def authorise_spend(
        self, member: str, amount: int, key: str, kind: str = "wallet"
    ) -> str:
        """Before a spend of ``amount``: if it is over this store's float, ask HQ to authorise
        the rest and journal it. HQ's authorisation id, or "" (nothing needed, offline, refused:
        the ledger then decides against the float alone)."""
        held = self.float_of(member, kind)
        if amount <= held or self.link is None:
            return ""
        try:
            ans = await self.link.authorise(member, kind, amount - held, key)
        except KassaError as exc:
            self.last_error = exc.code
            return ""
        if not ans.get("granted"):
            return ""
        body = MemberAuthorised(member, kind, int(ans["amount"]), str(ans["auth"]))
        await self.journal(f"member.authorised:{key}", body)
        return body.auth

    async def refill(self, member: str, kind: str = "wallet") -> int:
        """Ask HQ to move pool → this store's float up to the cap; how much came."""
        cap = self.caps.of(kind)
        if self.link is None or cap == UNLIMITED:
            return 0
        wanted = cap - self.float_of(member, kind)
        if wanted <= 0:
            return 0
        ans = await self.link.float(member, kind, wanted, str(uuid.uuid4()))
        if not ans.get("amount"):
            return 0
        body = FloatGranted(member, kind, int(ans["amount"]), str(ans["grant"]))
        await self.journal(f"member.float_granted:{body.grant}", body)
        return body.amount

    async def spendable(self, member: str, kind: str = "wallet") -> dict[str, Any]:
        """What the till may take from the member here: this store's float, plus HQ's pool
        while HQ answers (``online``)."""
        held = self.float_of(member, kind)
        if self.link is None:
            return {"balance": held, "float": held, "online": False}
        try:
            pool = int((await self.link.available(member)).get(kind, 0))
        except KassaError:
            return {"balance": held, "float": held, "online": False}
        return {"balance": held + max(0, pool), "float": held, "online": True}

    async def pay_tenders(self, args: Any, cid: str) -> None:
        """Before a till's ``pay``: HQ authorises what each wallet tender (minor units) and each
        points tender (points) needs beyond this store's float (``authorise_spend``); nothing
        when the chain rule is off for that kind."""
        if not self.caps.limited or not isinstance(args, dict):
            return
        need: dict[tuple[str, str], int] = {}
        for t in args.get("tenders") or ():
            kind = t.get("kind") if isinstance(t, dict) else None
            if kind not in KINDS or self.caps.of(str(kind)) == UNLIMITED:
                continue
            amount = t.get("points" if kind == "points" else "amount")
            member = t.get("member")
            if isinstance(amount, int) and isinstance(member, str) and member:
                need[(member, kind)] = need.get((member, kind), 0) + amount
        for (member, kind), amount in need.items():
            key = f"{cid}:{member}" + (":points" if kind == "points" else "")
            auth = await self.authorise_spend(member, amount, key, kind)
            for t in args["tenders"]:  # the payment names HQ's authorisation it used
                if (
                    auth
                    and isinstance(t, dict)
                    and (t.get("member"), t.get("kind"))
                    == (
                        member,
                        kind,
                    )
                ):
                    t["auth"] = auth
                    break

    async def return_abandoned(self) -> int:
        """Give back to HQ's pool what an authorisation moved here for a sale that never
        committed (``abandon_s`` after this loop first saw it unspent): the part of the float
        above its cap, journaled as ``member.float_returned`` once per authorisation (HQ credits
        the pool when the upload arrives). What is within the cap stays: it is the float the
        store may hold anyway. How many were given back."""
        now, n = self.now_s(), 0
        pending = self.pending()
        for auth in [a for a in self.first_seen if a not in pending]:
            del self.first_seen[auth]
        for auth, (member, kind, amount) in pending.items():
            if now - self.first_seen.setdefault(auth, now) < self.abandon_s:
                continue
            cap = self.caps.of(kind)
            over = self.float_of(member, kind) - cap if cap != UNLIMITED else 0
            if over > 0:
                body = FloatReturned(member, kind, min(amount, over), auth)
                await self.journal(f"member.float_returned:{auth}", body)
                n += 1
        return n

    async def run(self) -> None:
        await self.set_caps()
        delay = self.interval_s
        while True:
            try:
                await self.return_abandoned()  # offline too: it is the store's own decision
                await self.pull()
                if self.history is not None:
                    await self.history.pull_quietly()
                self.last_error, delay = "", self.interval_s
            except KassaError as exc:
                self.last_error = exc.code
                delay = min(delay * 2, 300.0)
            except Exception:  # the loop never dies; the status says why
                log.exception("member pull failed")
                delay = min(delay * 2, 300.0)
            await asyncio.sleep(delay)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.copy.close()

    def status(self) -> dict[str, Any]:
        return {
            "since": self.copy.since,
            "last_pull_us": self.last_pull_us,
            "error": self.last_error,
        }


async def before_pay(handles: Any, args: Any, cid: str) -> None:
    """The gateway's hook before a till's ``pay`` (``actors.http.sale``)."""
    sync = getattr(handles, "members_sync", None)
    if sync is not None:
        await sync.pay_tenders(args, cid)


async def look_up(handles: Any, key: str, found: dict[str, Any] | None) -> dict[str, Any] | None:
    """The gateway's member look-up with the chain rule on: a member of another store comes
    from HQ's copy, and ``balance`` is what may be spent here (float, plus HQ's pool online)."""
    sync = getattr(handles, "members_sync", None)
    if sync is None or not sync.caps.limited:
        return found
    if found is None:
        other = await asyncio.get_running_loop().run_in_executor(None, sync.copy.find, key)
        if other is None:
            return None
        found = {
            "member": other["member"],
            "name": other["name"],
            "phone": other["phone"],
            "card": other["card"],
            "home": other["home"],
            "as_of_seq": 0,
            "history": [],
        }
    return {**found, **await sync.spendable(found["member"])}


async def loyalty_view(handles: Any, key: str) -> dict[str, Any]:
    """A member's loyalty view at this store; with the points rule on, a member of another
    store is found in HQ's copy, and ``points`` is what may be spent here: this store's float,
    plus HQ's pool while HQ answers (``points_here``: the float alone)."""
    sync = getattr(handles, "members_sync", None)
    await refresh_for_key(handles, key)  # HQ's newer history first: the tier chain-wide
    if sync is None or sync.caps.of("points") == UNLIMITED:
        return dict(await handles.ledger.loyalty(key))
    other = await asyncio.get_running_loop().run_in_executor(None, sync.copy.find, key)
    try:
        view = dict(await handles.ledger.loyalty(other["member"] if other else key))
    except NotFound:  # another store's member this store's book has not met
        if other is None:
            raise
        led = handles.ledger_shell.ledger  # in this process, as ``float_of``
        view = led.book.loyalty.member_view(other["member"], led.clock.now_us())
    got = await sync.spendable(view["member"], "points")
    view.update(points=got["balance"], points_here=got["float"], online=got["online"])
    return view


def start_for(handles: Any) -> MembersSync:
    """The running store's member loop over its ledger (``actors.bootstrap``, beside the
    catalogue pull)."""
    from actors.ledger import Request, command_hash

    data = Path(handles.data_dir)
    cfg = handles.config

    async def journal(cid: str, body: Any) -> Any:
        req = Request(cid, command_hash("system", cid), body, "system", "", "")
        return await handles.ledger_rpc.call("submit", req)

    def float_of(member: str, kind: str) -> int:
        return int(handles.ledger_shell.ledger.book.floats.float(member, kind))

    secret = data / "cloud_secret"
    link = None
    if cfg.cloud_url and secret.exists():
        link = ChainLink(cfg.cloud_url, cfg.store_id, bytes.fromhex(secret.read_text().strip()))
    members = getattr(cfg, "members", None) or {}
    caps = Caps.from_config(members)
    abandon_s = 60.0 * float(members.get("abandon_minutes", 10))

    def pending() -> dict[str, tuple[str, str, int]]:
        return dict(handles.ledger_shell.ledger.book.floats.pending)

    sync = MembersSync(
        link, MemberCopy(data / "members.sqlite"), journal, float_of, caps, 30.0, pending, abandon_s
    )
    sync.history = start_history(handles, link, sync.copy.con, journal)
    sync.start()
    return sync
