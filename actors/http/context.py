"""Who is asking, and journaling for them: sessions, PIN attempts, permissions and approvals.

``Gateway`` holds the gateway's state (the staff directory mirrored from the journal, the PIN
throttle, the secrets) and the steps every route shares: ``auth`` (401/403, a manager's approval),
``submit`` (a command or event to the ledger under the client's command id), ``answer``.
Routes find it with ``gw(request)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from actors.http.common import derived_id, plain, redact
from actors.ledger import Request, command_hash
from actors.recovery import LOCAL_IP
from actors.staff import (
    Directory,
    Throttle,
    check_pin,
    load_pin_key,
    load_secret,
    sealed_pin,
    unseal_pin_hash,
    verify_pin,
)
from domain.day import business_day_of
from domain.errors import (
    Forbidden,
    InvalidInput,
    KassaError,
    NotFound,
    Unauthorized,
    Unavailable,
)
from domain.handlers_day import check_till_count
from domain.staff import (
    ActionApproved,
    PinAccepted,
    PinAttempted,
    SignedOut,
    StaffPinChanged,
    StaffUnlocked,
    check_staff_id,
)
from domain.store import AuthPolicy

__all__ = ["Ctx", "Gateway", "GATEWAY", "gw"]
T = TypeVar("T")


class Ctx:
    """Who is asking: the signed-in staff member, their till and IP, and an approver if any."""

    __slots__ = ("staff", "role", "till", "ip", "session", "approved_by", "action")

    def __init__(
        self,
        staff: str,
        role: str,
        till: str,
        ip: str,
        session: str,
        approved_by: str = "",
        action: str = "",
    ) -> None:
        self.staff, self.role, self.till, self.ip = staff, role, till, ip
        self.session, self.approved_by, self.action = session, approved_by, action


class Gateway:
    """The gateway's state and what every route asks of it: who is asking (sessions, PINs,
    permissions, approvals), journaling a command, and the answer to a committed one."""

    def __init__(self, handles: Any, status_extra: Callable[[], dict] | None = None) -> None:
        self.h = handles
        self.config = handles.config
        self.status_extra = status_extra or (lambda: {})
        self.started = time.time()
        self.data_dir = Path(handles.data_dir)
        self.policy: AuthPolicy = getattr(self.config, "auth", None) or AuthPolicy()
        self.dir = Directory(
            idle_timeout_s=float(self.policy.idle_timeout_s),
            lock_s=float(self.policy.lock_s),
            max_failures=self.policy.max_failures,
        )
        self.secret = load_secret(self.data_dir)
        self.pin_key = load_pin_key(self.data_dir)
        self.throttle = Throttle(self.policy)
        self.pin_locks: dict[str, asyncio.Lock] = {}  # staff -> one PIN check at a time
        self.loaded = False
        self.refresh_lock = asyncio.Lock()
        self.licensed_tills: set[str] = set()  # tills the licence count was checked for
        self.till_lock = asyncio.Lock()  # a day opens for one new till at a time
        self.monitor: Any = None  # actors.metrics.Monitor, set by actors.metrics.install

    async def refresh(self) -> None:
        async with self.refresh_lock:
            self.dir.load(await self.h.ledger.staff_state())
            self.loaded = True

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            await self.refresh()

    # -------------------------------------------------------------- who
    def ip(self, request: web.Request) -> str:
        return (request.remote or "")[:64]

    async def auth(
        self,
        request: web.Request,
        action: str | None,
        data: dict | None = None,
        till: str | None = None,
    ) -> Ctx:
        """Check the session (401), the till it is bound to and the action's permission (403).
        A missing permission may be made good by a manager's approval for this one request."""
        await self.ensure_loaded()
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token and request.path == "/v1/events/stream":
            token = request.query.get("token", "")  # EventSource cannot set headers
        s = self.dir.session(token)
        if self.dir.idle(s):
            await self.end_session(s, "idle")
            raise Unauthorized("auth.session_expired", "signed out after being idle; sign in again")
        self.dir.touch(s)
        if till is not None and till != s.till:
            raise Forbidden(
                "auth.wrong_till",
                "this session is for another till",
                session_till=s.till,
                till=till,
            )
        ctx = Ctx(
            s.staff,
            self.dir.role_of(s.staff),
            s.till,
            self.ip(request),
            s.session,
            action=action or "",
        )
        if action is None or self.dir.allows(s.staff, action):
            return ctx
        if data is not None and data.get("approval") is not None:
            await self.approval(ctx, action, data)
            return ctx
        raise Forbidden(
            "auth.forbidden",
            f"the {ctx.role} role may not do {action}",
            action=action,
            role=ctx.role,
        )

    def require(self, ctx: Ctx, action: str) -> None:
        """403 unless the session's role may do ``action`` (a read scope chosen inside a route)."""
        if not self.dir.allows(ctx.staff, action):
            raise Forbidden(
                "auth.forbidden",
                f"the {ctx.role} role may not do {action}",
                action=action,
                role=ctx.role,
            )

    async def approval(self, ctx: Ctx, action: str, data: dict) -> None:
        ap = data.get("approval")
        if not isinstance(ap, dict):
            raise InvalidInput(
                "input.bad_field", "'approval' is {staff, pin} or {token}", field="approval"
            )
        if "token" in ap:
            tok = ap["token"]
            if not isinstance(tok, str) or not 8 <= len(tok) <= 64:
                raise InvalidInput("input.bad_field", "bad approval token", field="approval")
            ctx.approved_by = self.dir.use_approval(tok, action, ctx.till)
            return
        staff = check_staff_id(ap.get("staff"), "approval.staff")
        pin = check_pin(ap.get("pin"), "approval.pin")
        ctx.approved_by = await self.verify_approver(ctx, staff, pin, action)

    async def verify_approver(self, ctx: Ctx, staff: str, pin: str, action: str) -> str:
        async def accepted() -> None:
            await self.submit(
                None,
                str(uuid.uuid4()),
                "auth.pin_accepted",
                [staff, ctx.till],
                PinAccepted(staff, ctx.till),
                staff=staff,
                till=ctx.till,
                ip=ctx.ip,
            )

        await self.pin_attempt(staff, pin, ctx.till, ctx.ip, "approval", accepted)
        if not self.dir.allows(staff, action):
            raise Forbidden(
                "auth.approval_refused",
                f"{staff} may not approve {action}",
                staff=staff,
                action=action,
            )
        return staff

    # -------------------------------------------------------------- journal
    async def submit(
        self,
        ctx: Ctx | None,
        cid: str,
        op: str,
        args: Any,
        body: Any,
        via: Any = None,
        staff: str = "",
        till: str = "",
        ip: str = "",
    ) -> Any:
        req = Request(
            id=cid,
            cmd=command_hash(op, args),
            body=body,
            staff=ctx.staff if ctx else staff,
            till=ctx.till if ctx else till,
            ip=ctx.ip if ctx else ip,
        )
        return await self.committed((via or self.h.ledger).submit(req), "gateway")

    async def committed(self, pending: Awaitable[T], source: str) -> T:
        """``pending``'s answer, its wait timed for the commit latency (``actors.metrics``)."""
        t0 = time.perf_counter()
        out = await pending
        if self.monitor is not None:
            self.monitor.commit(source, time.perf_counter() - t0)
        return out

    def answer(self, ack: Any, **extra: Any) -> dict:
        return {
            "seq": ack.seq,
            "event": ack.kind,
            "duplicate": ack.duplicate,
            "result": redact({"kind": ack.kind, "body": plain(ack.body)})["body"],
            **extra,
        }

    async def journal_approval(self, ctx: Ctx, cid: str) -> None:
        """Journal a manager's approval of the command ``cid`` (after it committed)."""
        if ctx.approved_by:
            await self.submit(
                ctx,
                derived_id(cid, "approval"),
                "auth.approved",
                {"cid": cid, "approver": ctx.approved_by},
                ActionApproved(ctx.approved_by, ctx.staff, ctx.till, ctx.action, cid),
            )

    async def pin_attempt(
        self,
        staff: str,
        pin: str,
        till: str,
        ip: str,
        purpose: str,
        accepted: Callable[[], Awaitable[Any]],
    ) -> Any:
        """Check ``staff``'s PIN: the client address may be made to wait (429), the attempt is
        journaled as a failure before the PIN is checked, one attempt at a time per account, and
        ``accepted()`` (which journals the success, resetting the count) runs before the next one.
        A wrong PIN answers 401 ``auth.bad_credentials`` (403 ``auth.approval_refused`` for an
        approval); the attempt that reaches the limit locks the account and ends its sessions."""
        self.throttle.begin(ip)
        failed = False
        try:
            try:
                self.dir.may_try(staff)
            except Unauthorized:
                await self.refresh()  # an account created a moment ago elsewhere
                try:
                    self.dir.may_try(staff)
                except Unauthorized:
                    failed = True  # guessing staff numbers costs like guessing PINs
                    raise
            lock = self.pin_locks.setdefault(staff, asyncio.Lock())  # known accounts only
            async with lock:
                acc = self.dir.may_try(staff)  # the attempt before this one may have locked it
                pin_hash = unseal_pin_hash(self.pin_key, staff, str(acc["pin_hash"]))
                ack = await self.submit(
                    None,
                    str(uuid.uuid4()),
                    "auth.pin_attempt",
                    [staff, till, purpose],
                    PinAttempted(
                        staff,
                        till,
                        purpose,
                        self.policy.max_failures,
                        self.policy.lock_s,
                        time.time_ns() // 1000,
                    ),
                    staff=staff,
                    till=till,
                    ip=ip,
                )
                failed = True  # counted against the account: against the address too
                if ack.body.failures >= self.policy.max_failures:
                    await self.refresh()  # locked now: its sessions have ended
                ok = await asyncio.get_running_loop().run_in_executor(
                    None, verify_pin, pin_hash, pin
                )
                if not ok:
                    await self.refresh()
                    left = max(0, self.policy.max_failures - ack.body.failures)
                    if purpose == "approval":
                        raise Forbidden(
                            "auth.approval_refused",
                            "wrong PIN for the approver",
                            staff=staff,
                            failures_left=left,
                        )
                    raise Unauthorized(
                        "auth.bad_credentials", "unknown staff or wrong PIN", failures_left=left
                    )
                failed = False
                result = await accepted()
                await self.refresh()
                return result
        finally:
            self.throttle.end(ip, failed)

    async def local_admin(self, op: str, staff: str, pin: str, reason: str) -> dict:
        """``kassa store unlock`` / ``set-pin`` through ``actors.recovery``'s owner-only socket."""
        await self.refresh()
        if staff not in self.dir.accounts:
            raise NotFound("staff.not_found", f"no staff account {staff!r}", staff=staff)
        if op == "set_pin":
            body: Any = StaffPinChanged(staff, await self.seal_pin(staff, pin))
        else:
            body = StaffUnlocked(staff, reason or "unlocked on the store PC")
        ack = await self.submit(None, str(uuid.uuid4()), f"local.{op}", [staff], body, ip=LOCAL_IP)
        await self.refresh()
        return {
            "seq": ack.seq,
            "event": ack.kind,
            "staff": staff,
            "server": "running",
            "result": self.answer(ack)["result"],
        }

    async def end_session(self, s: Any, reason: str) -> None:
        with contextlib.suppress(KassaError):  # ended already
            await self.submit(
                None,
                derived_id(s.session, "end"),
                "auth.end",
                [s.session],
                SignedOut(s.staff, s.till, s.session, reason),
                staff=s.staff,
                till=s.till,
            )
        await self.refresh()

    def today(self) -> str:
        return business_day_of(time.time_ns() // 1000, self.config.zone)

    def me(
        self, staff: str, till: str, token: str = "", seq: int = 0, duplicate: bool = False
    ) -> dict:
        """What a signed-in till is told about its staff member (``sessions.me_of``)."""
        from actors.http.sessions import me_of

        return me_of(self, staff, till, token, seq, duplicate)

    async def licensed(self, till: str, fresh: bool = False) -> dict:
        """Refuse a till beyond the licence's count (``licence.too_many_tills``, the rule is
        ``domain.handlers_day.check_till_count``); once allowed, a till is not asked again.
        Answers the licence's status (empty when the till was allowed before)."""
        if not fresh and till in self.licensed_tills:
            return {}
        try:
            lic = await self.h.licence.status()
        except Unavailable:  # the licence actor is starting: a till whose day is open sells on
            if self.dir.days.get(till, {}).get("open"):
                return {}  # (its day opened under the licence; checked again once it is up)
            raise
        if check_till_count(
            till, int(lic.get("tills") or 0), str(lic.get("licence_id") or ""), list(self.dir.days)
        ):
            self.licensed_tills.add(till)
        return lic

    async def seal_pin(self, staff: str, pin: str) -> str:
        """``staff``'s PIN hashed and sealed (argon2id, off the event loop)."""
        return await asyncio.get_running_loop().run_in_executor(
            None, sealed_pin, self.pin_key, staff, pin
        )


GATEWAY = web.AppKey("gateway", Gateway)


def gw(request: web.Request) -> Gateway:
    return request.app[GATEWAY]
