"""The store's LAN gateway: JSON over HTTP (aiohttp) between kiosks and the actors.

* Staff sign in at a till (``POST /v1/sessions``) and send ``Authorization: Bearer <token>`` on every
  other request; the session is bound to its till, ends on sign-out, after ``idle_timeout_s`` without
  a request, or when the account is locked. Repeated wrong PINs lock the account for ``lock_s``.
* Every request is checked against the per-action permissions (``domain.staff.ACTIONS``, editable by a
  manager); a manager may approve one action at another counter with their PIN
  (``"approval": {"staff", "pin"}`` in the body, or a token from ``POST /v1/approvals``).
* Reads are scoped by role as well (``x-kassa-read-scope`` in the OpenAPI): the sale counter gets a
  member's id, name and balance only; the event feed is the managers' (``events.read``), and a display
  device (role ``display``) gets the sales feed (``events.sales``: figures, nothing personal).
* Free text never holds a card number: ``need_str`` and the other input helpers refuse one
  (``domain.pan``) before anything reaches the journal.
* Every request that changes something carries the kiosk's command ``id`` so a retry after a lost
  reply is safe (the same id answers the first answer). Every event records staff, till and client IP.
* Errors answer ``{"error": {"code", "message", "details"}}`` with the error's HTTP status; bad input
  of any kind is a 4xx, never a 5xx, and never reaches the journal.
* The OpenAPI description is served at ``/v1/openapi.json`` (``actors.openapi``).

Settings (optional) come from the ``"auth"`` object of ``<data>/store.json`` (``domain.store.
AuthPolicy``): ``idle_timeout_s`` (900), ``max_failures`` (10) and ``lock_s`` (1800) per account,
``ip_free_failures`` (5), ``ip_backoff_s`` (60), ``ip_backoff_max_s`` (3600) and ``ip_forget_s``
(900) per client address.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

import msgspec
import orjson
from aiohttp import web

from actors.ledger import Request, command_hash
from actors.recovery import LOCAL_IP, AdminChannel
from actors.staff import Directory, Throttle, check_pin, load_pin_key, load_secret, make_token, \
    sealed_pin, token_hash, unseal_pin_hash, verify_pin
from actors.till import Who
from domain.commands import CountStock, FreezeOrder, RefundOrder, UnfreezeOrder
from domain.day import DayClosed, DayOpened, MAX_FLOAT, ZReportRecorded, business_day_of
from domain.errors import Conflict, Forbidden, InvalidInput, KassaError, NotFound, Unauthorized, \
    Unavailable
from domain.events import MemberRegistered, WalletToppedUp
from domain.money import check_amount, check_quantity
from domain.pan import CODE_FIELDS, refuse_card_number, refuse_card_numbers_in
from domain.staff import (ACTIONS, ROLES, ActionApproved, PermissionsChanged, PinAccepted,
                          PinAttempted, SignedIn, SignedOut, StaffCreated, StaffLocked,
                          StaffPinChanged, StaffUnlocked, StaffUpdated, check_language, check_role,
                          check_staff_id)
from domain.store import AuthPolicy
from domain.stock import decide_adjustment, decide_receipt

__all__ = ["make_gateway", "MAX_BODY", "Gateway", "GATEWAY", "TILL_OPS", "redact"]

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
TILL_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NS = uuid.UUID("1b0c7a52-9f0e-4d39-8a51-2f5c0e7d4b10")  # ids derived from a command id

# till operation -> the action it needs
TILL_OPS = {"scan": "sale.sell", "add": "sale.sell", "remove": "sale.sell",
            "quantity": "sale.sell", "park": "sale.sell", "resume": "sale.sell", "pay": "sale.sell",
            "void": "sale.void", "discount_line": "sale.discount",
            "discount_order": "sale.discount"}
STAFF_KINDS = ("staff.", "auth.", "permissions.", "day.")
MEMBER_FOR_SALE = ("member", "name", "balance", "as_of_seq")  # members.view without details
SALES_KINDS = ("order.completed", "order.refunded", "day.opened", "day.closed")
TILL_CODES = CODE_FIELDS | {"line_id", "basket"}  # till command arguments that are not free text


def derived_id(cid: str, what: str) -> str:
    return str(uuid.uuid5(NS, f"{cid}|{what}"))


def jresp(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(exc: KassaError) -> web.Response:
    resp = jresp({"error": exc.to_dict()}, exc.http_status)
    if exc.http_status == 429:
        resp.headers["Retry-After"] = str(exc.details.get("retry_after_s", 1))
    return resp


def redact(wire: dict) -> dict:
    """An event as shown to clients: PIN hashes and session hashes are not shown."""
    kind = wire.get("kind", "")
    if kind.startswith(("staff.", "auth.")) and isinstance(wire.get("body"), dict):
        body = dict(wire["body"])
        for k in ("pin_hash", "session"):
            if k in body:
                body[k] = "***"
        wire = {**wire, "body": body}
    return wire


def sales_view(env: Any) -> dict | None:
    """An event as the sales feed shows it (``events.sales``: the big screen): sales figures of a
    till, or None for every other event. No staff, IP, member, order id, line or tender."""
    kind = env.kind
    if kind not in SALES_KINDS:
        return None
    b = msgspec.json.decode(env.body)
    if kind == "order.completed":
        body = {"total": b.get("total", 0), "currency": b.get("currency", ""),
                "lines": len(b.get("lines") or ())}
    elif kind == "order.refunded":
        body = {"amount": b.get("amount", 0), "currency": b.get("currency", "")}
    else:
        body = {"business_day": b.get("business_day", "")}
    return {"seq": env.seq, "ts": env.ts, "kind": kind, "till": env.till, "body": body}


def full_view(env: Any) -> dict:
    return redact(env.to_wire())


async def read_json(request: web.Request) -> dict:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise InvalidInput("input.too_large", f"bodies are at most {MAX_BODY} bytes") from None
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidInput("input.bad_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("input.not_object", "the body must be a JSON object")
    return data


def need_str(data: dict, key: str, max_len: int = 200, required: bool = True,
             code: bool = False) -> str:
    """A string field of at most ``max_len`` characters. Free text (every field but a product
    code, ``code=True``) is refused if it holds anything written like a card number."""
    value = data.get(key, None)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise InvalidInput("input.bad_field", f"{key!r} must be a string of 1–{max_len} characters",
                           field=key)
    return value if code else refuse_card_number(value, key)


def path_key(request: web.Request, name: str, max_len: int = 64) -> str:
    """A path or query value used to look something up (a member's id, card or phone; an order):
    never a card number, which would otherwise travel on into errors and logs."""
    value = request.match_info.get(name) or request.query.get(name, "")
    if len(value) > max_len:
        raise InvalidInput("input.bad_field", f"{name!r} is at most {max_len} characters",
                           field=name)
    return value if UUID_RE.match(value) else refuse_card_number(value, name)


def need_int(data: dict, key: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput("input.bad_field", f"{key!r} must be a whole number {lo}–{hi}",
                           field=key)
    return value


def need_amount(data: dict, key: str, lo: int, limit: int) -> int:
    """A whole amount ≥ ``lo`` (``input.bad_field``) and ≤ ``limit`` (``amount.too_large``)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InvalidInput("input.bad_field", f"{key!r} must be a whole number ≥ {lo}", field=key)
    return check_amount(value, limit, key)


def query_int(request: web.Request, key: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("input.bad_field", f"{key!r} must be a whole number", field=key) from None
    if not lo <= value <= hi:
        raise InvalidInput("input.bad_field", f"{key!r} must be {lo}–{hi}", field=key)
    return value


def command_id(data: dict) -> str:
    cid = data.get("id")
    if not isinstance(cid, str) or not 8 <= len(cid) <= 64 or not cid.isprintable():
        raise InvalidInput("command.bad_id", "every change needs an 'id' (a UUID the kiosk chose)")
    return cid


def till_id(value: object, field: str = "till") -> str:
    if not isinstance(value, str) or not TILL_RE.match(value):
        raise InvalidInput("till.bad_id", "a till id is 1–16 letters, digits, - or _", field=field)
    return refuse_card_number(value, field)


def plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    from actors.remote import unwrap
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            code = {404: "http.not_found", 405: "http.method_not_allowed",
                    413: "input.too_large"}.get(exc.status, "http.error")
            return jresp({"error": {"code": code, "message": exc.reason, "details": {}}},
                         exc.status)
        raise
    except Exception as exc:  # noqa: BLE001 - every error gets a code
        cause = unwrap(exc)
        if isinstance(cause, KassaError):
            return error_response(cause)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(Unavailable("store.internal", "the store server hit an error; "
                                          "retry with the same id"))


class Ctx:
    """Who is asking: the signed-in staff member, their till and IP, and an approver if any."""

    __slots__ = ("staff", "role", "till", "ip", "session", "approved_by", "action")

    def __init__(self, staff: str, role: str, till: str, ip: str, session: str,
                 approved_by: str = "", action: str = "") -> None:
        self.staff, self.role, self.till, self.ip = staff, role, till, ip
        self.session, self.approved_by, self.action = session, approved_by, action


class Gateway:
    def __init__(self, handles: Any, status_extra: Callable[[], dict] | None = None) -> None:
        self.h = handles
        self.config = handles.config
        self.status_extra = status_extra or (lambda: {})
        self.started = time.time()
        self.data_dir = Path(handles.data_dir)
        self.policy: AuthPolicy = getattr(self.config, "auth", None) or AuthPolicy()
        self.dir = Directory(idle_timeout_s=float(self.policy.idle_timeout_s),
                             lock_s=float(self.policy.lock_s),
                             max_failures=self.policy.max_failures)
        self.secret = load_secret(self.data_dir)
        self.pin_key = load_pin_key(self.data_dir)
        self.throttle = Throttle(self.policy)
        self.pin_locks: dict[str, asyncio.Lock] = {}  # staff -> one PIN check at a time
        self.loaded = False
        self.refresh_lock = asyncio.Lock()
        self.licensed_tills: set[str] = set()  # tills the licence count was checked for
        self.till_lock = asyncio.Lock()  # a day opens for one new till at a time

    async def refresh(self) -> None:
        async with self.refresh_lock:
            self.dir.load(await self.h.ledger.staff_state.remote())
            self.loaded = True

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            await self.refresh()

    # -------------------------------------------------------------- who
    def ip(self, request: web.Request) -> str:
        return (request.remote or "")[:64]

    async def auth(self, request: web.Request, action: str | None, data: dict | None = None,
                   till: str | None = None) -> Ctx:
        """Check the session (401), the till it is bound to and the action's permission (403).
        A missing permission may be made good by a manager's approval for this one request."""
        await self.ensure_loaded()
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token and request.path == "/v1/events/stream":
            token = request.query.get("token", "")  # EventSource cannot set headers
        s = self.dir.session(token)
        if self.dir.idle(s):
            await self._end_session(s, "idle")
            raise Unauthorized("auth.session_expired", "signed out after being idle; sign in again")
        self.dir.touch(s)
        if till is not None and till != s.till:
            raise Forbidden("auth.wrong_till", "this session is for another till",
                            session_till=s.till, till=till)
        ctx = Ctx(s.staff, self.dir.role_of(s.staff), s.till, self.ip(request), s.session,
                  action=action or "")
        if action is None or self.dir.allows(s.staff, action):
            return ctx
        if data is not None and data.get("approval") is not None:
            await self._approval(ctx, action, data)
            return ctx
        raise Forbidden("auth.forbidden", f"the {ctx.role} role may not do {action}",
                        action=action, role=ctx.role)

    def require(self, ctx: Ctx, action: str) -> None:
        """403 unless the session's role may do ``action`` (a read scope chosen inside a route)."""
        if not self.dir.allows(ctx.staff, action):
            raise Forbidden("auth.forbidden", f"the {ctx.role} role may not do {action}",
                            action=action, role=ctx.role)

    async def _approval(self, ctx: Ctx, action: str, data: dict) -> None:
        ap = data.get("approval")
        if not isinstance(ap, dict):
            raise InvalidInput("input.bad_field", "'approval' is {staff, pin} or {token}",
                               field="approval")
        if "token" in ap:
            tok = ap["token"]
            if not isinstance(tok, str) or not 8 <= len(tok) <= 64:
                raise InvalidInput("input.bad_field", "bad approval token", field="approval")
            ctx.approved_by = self.dir.use_approval(tok, action, ctx.till)
            return
        staff = check_staff_id(ap.get("staff"), "approval.staff")
        pin = check_pin(ap.get("pin"), "approval.pin")
        ctx.approved_by = await self._verify_approver(ctx, staff, pin, action)

    async def _verify_approver(self, ctx: Ctx, staff: str, pin: str, action: str) -> str:
        async def accepted() -> None:
            await self.submit(None, str(uuid.uuid4()), "auth.pin_accepted", [staff, ctx.till],
                              PinAccepted(staff, ctx.till), staff=staff, till=ctx.till, ip=ctx.ip)

        await self._pin_attempt(staff, pin, ctx.till, ctx.ip, "approval", accepted)
        if not self.dir.allows(staff, action):
            raise Forbidden("auth.approval_refused", f"{staff} may not approve {action}",
                            staff=staff, action=action)
        return staff

    # -------------------------------------------------------------- journal
    async def submit(self, ctx: Ctx | None, cid: str, op: str, args: Any, body: Any,
                     via: Any = None, staff: str = "", till: str = "", ip: str = "") -> Any:
        req = Request(id=cid, cmd=command_hash(op, args), body=body,
                      staff=ctx.staff if ctx else staff, till=ctx.till if ctx else till,
                      ip=ctx.ip if ctx else ip)
        return await (via or self.h.ledger).submit.remote(req)

    def answer(self, ack: Any, **extra: Any) -> dict:
        return {"seq": ack.seq, "event": ack.kind, "duplicate": ack.duplicate,
                "result": redact({"kind": ack.kind, "body": plain(ack.body)})["body"], **extra}

    async def _approved(self, ctx: Ctx, cid: str) -> None:
        """Journal a manager's approval of the command ``cid`` (after it committed)."""
        if ctx.approved_by:
            await self.submit(ctx, derived_id(cid, "approval"), "auth.approved",
                              {"cid": cid, "approver": ctx.approved_by},
                              ActionApproved(ctx.approved_by, ctx.staff, ctx.till, ctx.action, cid))

    async def _pin_attempt(self, staff: str, pin: str, till: str, ip: str, purpose: str,
                           accepted: Callable[[], Awaitable[Any]]) -> Any:
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
                    None, str(uuid.uuid4()), "auth.pin_attempt", [staff, till, purpose],
                    PinAttempted(staff, till, purpose, self.policy.max_failures,
                                 self.policy.lock_s, time.time_ns() // 1000),
                    staff=staff, till=till, ip=ip)
                failed = True  # counted against the account: against the address too
                if ack.body.failures >= self.policy.max_failures:
                    await self.refresh()  # locked now: its sessions have ended
                ok = await asyncio.get_running_loop().run_in_executor(None, verify_pin, pin_hash,
                                                                      pin)
                if not ok:
                    await self.refresh()
                    left = max(0, self.policy.max_failures - ack.body.failures)
                    if purpose == "approval":
                        raise Forbidden("auth.approval_refused", "wrong PIN for the approver",
                                        staff=staff, failures_left=left)
                    raise Unauthorized("auth.bad_credentials", "unknown staff or wrong PIN",
                                       failures_left=left)
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
            pin_hash = await asyncio.get_running_loop().run_in_executor(None, sealed_pin,
                                                                        self.pin_key, staff, pin)
            body: Any = StaffPinChanged(staff, pin_hash)
        else:
            body = StaffUnlocked(staff, reason or "unlocked on the store PC")
        ack = await self.submit(None, str(uuid.uuid4()), f"local.{op}", [staff], body,
                                ip=LOCAL_IP)
        await self.refresh()
        return {"seq": ack.seq, "event": ack.kind, "staff": staff, "server": "running",
                "result": self.answer(ack)["result"]}

    async def _end_session(self, s: Any, reason: str) -> None:
        try:
            await self.submit(None, derived_id(s.session, "end"), "auth.end", [s.session],
                              SignedOut(s.staff, s.till, s.session, reason), staff=s.staff,
                              till=s.till)
        except KassaError:
            pass  # ended already
        await self.refresh()

    # -------------------------------------------------------------- health, config, openapi
    async def health(self, request: web.Request) -> web.Response:
        await self.refresh()
        st = await self.h.ledger.status.remote()
        disk = shutil.disk_usage(self.h.data_dir)
        open_tills = self.dir.open_tills()
        out = {"store": self.config.store_id, "name": self.config.name, "seq": st["seq"],
               "orders": st["orders"], "open_baskets": st["open_baskets"],
               "members": st.get("members", 0), "staff_accounts": len(self.dir.accounts),
               "sessions": len(self.dir.sessions),
               "store_open": bool(open_tills), "open_tills": open_tills,
               "business_day": self.today(),
               "disk_free_bytes": disk.free, "uptime_s": int(time.time() - self.started),
               "currency": self.config.currency, "journal": st.get("journal")}
        out.update(self.status_extra())
        out.update(await self.h.extra_status())
        out["analytics"], out["alerts"] = await self._analytics_health(st["seq"])
        return jresp(out)

    async def _analytics_health(self, journal_seq: int) -> tuple[dict, list[str]]:
        """The analytics copy's freshness and quarantined events, with the alerts they raise."""
        try:
            a = await asyncio.wait_for(self.h.analytics.status.remote(), 3.0)
        except asyncio.TimeoutError:
            return {"starting": True}, []
        # health is public: the error's text stays in the server's log
        a = {"seq": a["seq"], "journal_seq": journal_seq, "behind": max(0, journal_seq - a["seq"]),
             "quarantined": a["quarantined"], "failing": bool(a["error"])}
        alerts = [code for code, on in (("analytics.quarantined", a["quarantined"]),
                                        ("analytics.failing", a["failing"])) if on]
        return a, alerts

    async def config_view(self, request: web.Request) -> web.Response:
        return jresp(self.config.to_dict())

    async def openapi(self, request: web.Request) -> web.Response:
        from actors.openapi import SPEC
        return jresp(SPEC)

    def today(self) -> str:
        return business_day_of(time.time_ns() // 1000, self.config.zone)

    # -------------------------------------------------------------- sessions
    async def sign_in(self, request: web.Request) -> web.Response:
        await self.ensure_loaded()
        data = await read_json(request)
        cid = command_id(data)
        staff = check_staff_id(data.get("staff"))
        pin = check_pin(data.get("pin"))
        till = till_id(data.get("till"))
        ip = self.ip(request)
        token = make_token(self.secret, cid, staff, till)

        async def accepted() -> Any:
            return await self.submit(None, cid, "auth.sign_in", {"staff": staff, "till": till},
                                     SignedIn(staff, till, token_hash(token)), staff=staff,
                                     till=till, ip=ip)

        ack = await self._pin_attempt(staff, pin, till, ip, "sign_in", accepted)
        return jresp(self.me(staff, till, token, ack.seq, ack.duplicate))

    def me(self, staff: str, till: str, token: str = "", seq: int = 0,
           duplicate: bool = False) -> dict:
        acc = self.dir.accounts.get(staff, {})
        role = acc.get("role", "")
        out = {"staff": {"staff": staff, "name": acc.get("name", ""), "role": role,
                         "language": acc.get("language", "en")},
               "till": till, "permissions": self.dir.allowed_actions(staff),
               "discount_limit_bp": self.config.discount_limits.get(role, 0),
               "idle_timeout_s": int(self.dir.idle_timeout_s),
               "day": self.dir.days.get(till)}
        if token:
            out.update(token=token, seq=seq, duplicate=duplicate)
        return out

    async def current(self, request: web.Request) -> web.Response:
        ctx = await self.auth(request, None)
        return jresp(self.me(ctx.staff, ctx.till))

    async def sign_out(self, request: web.Request) -> web.Response:
        ctx = await self.auth(request, None)
        s = self.dir.sessions.get(ctx.session)
        if s is not None:
            await self._end_session(s, "sign_out")
        return jresp({"signed_out": True, "staff": ctx.staff, "till": ctx.till})

    async def approve(self, request: web.Request) -> web.Response:
        """A manager's PIN for one action at this till: a one-time token valid for two minutes."""
        ctx = await self.auth(request, "approvals.request")
        data = await read_json(request)
        action = data.get("action")
        if action not in ACTIONS:
            raise InvalidInput("permissions.unknown_action", "name an action to approve",
                               field="action")
        staff = check_staff_id(data.get("staff"))
        pin = check_pin(data.get("pin"))
        approver = await self._verify_approver(ctx, staff, pin, action)
        token = self.dir.grant_approval(approver, action, ctx.till)
        return jresp({"approval": {"token": token}, "approver": approver, "action": action,
                      "expires_s": 120})

    # -------------------------------------------------------------- tills
    async def till_command(self, request: web.Request) -> web.Response:
        till = till_id(request.match_info["till"])
        ctx = await self.auth(request, None, till=till)
        data = await read_json(request)
        cid = command_id(data)
        op = need_str(data, "op", 32)
        action = TILL_OPS.get(op)
        if action is None:
            raise InvalidInput("till.unknown_operation", f"unknown till operation {op!r}",
                               ops=sorted(TILL_OPS))
        args = data.get("args", {})
        if not isinstance(args, dict):
            raise InvalidInput("input.bad_field", "'args' must be an object", field="args")
        if till not in self.licensed_tills:
            await self.licensed(till)
        if op != "scan":  # a scan carries only a code
            refuse_card_numbers_in(args, "args", TILL_CODES)
        ctx.action = action
        if not self.dir.allows(ctx.staff, action):
            if data.get("approval") is None:
                raise Forbidden("auth.forbidden", f"the {ctx.role} role may not do {action}",
                                action=action, role=ctx.role)
            await self._approval(ctx, action, data)
        elif data.get("approval") is not None and action == "sale.discount" and \
                not self.dir.allows(ctx.staff, "sale.discount_over_limit"):
            # a discount over the role's limit: the approver must be allowed to give it
            ctx.action = "sale.discount_over_limit"
            await self._approval(ctx, ctx.action, data)
        limit = self.config.discount_limits.get(ctx.role, 0)
        who = Who(staff=ctx.staff, ip=ctx.ip, limit_bp=limit, approved_by=ctx.approved_by)
        res = await self.h.till_rpc(till).call("do", (cid, op, args, who))
        await self._approved(ctx, cid)
        return jresp(res)

    async def till_view(self, request: web.Request) -> web.Response:
        till = till_id(request.match_info["till"])
        await self.auth(request, "sale.sell", till=till)
        if till not in self.licensed_tills:
            await self.licensed(till)
        return jresp(await self.h.till_rpc(till).call("view"))

    # -------------------------------------------------------------- catalogue
    async def search(self, request: web.Request) -> web.Response:
        ctx = await self.auth(request, "products.view")
        q = request.query.get("q", "")
        limit = query_int(request, "limit", 50, 1, 200)
        sellable = request.query.get("sellable") == "1" or not self.dir.allows(
            ctx.staff, "products.view_all")
        return jresp(await self.h.catalogue.search.remote(q, limit, sellable))

    async def product(self, request: web.Request) -> web.Response:
        ctx = await self.auth(request, "products.view")
        code = request.match_info["code"]
        if len(code) > 64:
            raise InvalidInput("scan.bad_code", "a code is at most 64 characters")
        p = await self.h.catalogue.lookup.remote(code)
        if not p.get("sellable", True) and not self.dir.allows(ctx.staff, "products.view_all"):
            raise NotFound("product.not_found", "no such product", code=code)
        return jresp(p)

    async def import_products(self, request: web.Request) -> web.Response:
        ctx = await self.auth(request, "products.import")
        data = await read_json(request)
        cid = command_id(data)
        products = data.get("products")
        if not isinstance(products, list) or not products or len(products) > 200_000:
            raise InvalidInput("input.bad_field", "'products' must be a non-empty list",
                               field="products")
        if not all(isinstance(p, dict) for p in products):
            raise InvalidInput("product.bad_row", "each product is an object")
        for i, p in enumerate(products):
            refuse_card_numbers_in(p, f"products[{i}]", CODE_FIELDS)
        try:
            res = await self.h.catalogue.update.remote(cid, products, need_str(
                data, "source", 100, required=False) or "import",
                Who(staff=ctx.staff, ip=ctx.ip), bool(data.get("replace_all", False) is True))
        finally:
            self.h.catalogue_changed()
        return jresp(res)

    # -------------------------------------------------------------- orders
    async def order(self, request: web.Request) -> web.Response:
        await self.auth(request, "orders.view")
        return jresp(await self.h.ledger.order.remote(request.match_info["order"][:64]))

    async def find_orders(self, request: web.Request) -> web.Response:
        await self.auth(request, "orders.view")
        key = path_key(request, "q")
        if not key:
            raise InvalidInput("input.bad_field",
                               "search orders by number, id, member or date (YYYY-MM-DD)",
                               field="q")
        return jresp(await self.h.ledger.orders_of.remote(key, self.config.zone))

    async def refund(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "orders.refund", data)
        order_id = request.match_info["order"][:64]
        lines = data.get("lines")
        if lines is not None:
            if not isinstance(lines, dict) or not lines or len(lines) > 500:
                raise InvalidInput("input.bad_field", "'lines' maps line ids to quantities",
                                   field="lines")
            for k, v in lines.items():
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0 or v > 10**7:
                    raise InvalidInput("refund.bad_quantity", "refund a positive whole quantity")
        reason = need_str(data, "reason", 200, required=False)
        cid = command_id(data)
        cmd = RefundOrder(order_id=order_id, refund_id=cid, lines=lines, reason=reason,
                          cash_increment=self.config.cash_increment)
        ack = await self.submit(ctx, cid, "refund",
                                {"order": order_id, "lines": lines, "reason": reason}, cmd)
        await self._approved(ctx, cid)
        return jresp(self.answer(ack))

    async def freeze(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "orders.freeze", data)
        order_id = request.match_info["order"][:64]
        reason = need_str(data, "reason", 200)
        cid = command_id(data)
        ack = await self.submit(ctx, cid, "freeze", {"order": order_id, "reason": reason},
                                FreezeOrder(order_id, reason))
        await self._approved(ctx, cid)
        return jresp(self.answer(ack))

    async def unfreeze(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "orders.unfreeze", data)
        order_id = request.match_info["order"][:64]
        reason = need_str(data, "reason", 200, required=False)
        cid = command_id(data)
        ack = await self.submit(ctx, cid, "unfreeze", {"order": order_id, "reason": reason},
                                UnfreezeOrder(order_id, reason))
        await self._approved(ctx, cid)
        return jresp(self.answer(ack))

    # -------------------------------------------------------------- members
    async def register_member(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "members.register", data)
        cid = command_id(data)
        body = MemberRegistered(member=need_str(data, "member", 64), name=need_str(data, "name"),
                                phone=need_str(data, "phone", 32, required=False),
                                card=need_str(data, "card", 64, required=False))
        ack = await self.submit(ctx, cid, "member",
                                [body.member, body.name, body.phone, body.card], body, self.h.wallet)
        return jresp(self.answer(ack))

    async def top_up(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "wallet.topup", data)
        member = path_key(request, "member")
        cid = command_id(data)
        amount = need_amount(data, "amount", 1, self.config.limits.max_topup)
        tender = data.get("tender", "cash")
        if tender not in ("cash", "card"):
            raise InvalidInput("input.bad_field", "top-ups are paid by cash or card", field="tender")
        ref = need_str(data, "reference", 64, required=False)
        body = WalletToppedUp(member=member, amount=amount, tender=tender, reference=ref)
        ack = await self.submit(ctx, cid, "topup", [member, amount, tender, ref], body,
                                self.h.wallet)
        await self._approved(ctx, cid)
        return jresp(self.answer(ack))

    async def member(self, request: web.Request) -> web.Response:
        """A member by id, card or phone. The sale counter sees what paying needs (id, name,
        balance); phone, card and wallet history need ``members.view_details``."""
        ctx = await self.auth(request, "members.view")
        m = await self.h.wallet.member.remote(path_key(request, "member"))
        if not self.dir.allows(ctx.staff, "members.view_details"):
            m = {k: m[k] for k in MEMBER_FOR_SALE if k in m}
        return jresp(m)

    # -------------------------------------------------------------- stock
    async def stock_move(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ("receive", "adjust", "count"):
            raise NotFound("http.not_found", "unknown stock action")
        data = await read_json(request)
        ctx = await self.auth(request, "stock.change", data)
        cid = command_id(data)
        sku = need_str(data, "sku", 64, code=True)
        for k in ("qty", "delta", "counted"):
            if type(data.get(k)) is int:
                check_quantity(data[k], self.config.limits.max_stock_qty, k)
        await self.h.catalogue.lookup.remote(sku)  # unknown products are refused
        if kind == "receive":
            body = decide_receipt(sku, data.get("qty"), need_str(data, "reference", 100, False))
        elif kind == "adjust":
            body = decide_adjustment(sku, data.get("delta"), need_str(data, "reason", 200))
        else:  # decided in the ledger, against the level as of its commit
            body = CountStock(sku, data.get("counted"))
        args = {k: data.get(k) for k in ("sku", "qty", "delta", "reason", "counted", "reference")}
        ack = await self.submit(ctx, cid, f"stock.{kind}", args, body, self.h.stock)
        await self._approved(ctx, cid)
        return jresp(self.answer(ack))

    async def stock(self, request: web.Request) -> web.Response:
        await self.auth(request, "stock.view")
        return jresp(await self.h.stock.report.remote())

    # -------------------------------------------------------------- business day
    async def day_view(self, request: web.Request) -> web.Response:
        """Is the store open, and this till's day; every till's day (floats, counted cash) for
        those who open, close or report on days."""
        ctx = await self.auth(request, None)
        await self.refresh()
        out = {"today": self.today(), "till": ctx.till, "this_till": self.dir.days.get(ctx.till),
               "store_open": bool(self.dir.open_tills()), "open_tills": self.dir.open_tills()}
        if any(self.dir.allows(ctx.staff, a) for a in ("day.open", "day.close", "reports.view")):
            out["tills"] = self.dir.days
        return jresp(out)

    async def day_open(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "day.open", data)
        cid = command_id(data)
        till = till_id(data.get("till", ctx.till))
        key = "float" if "float" in data else "opening_float"
        amount = need_amount(data, key, 0, min(MAX_FLOAT, self.config.limits.max_tender))
        async with self.till_lock:  # two new tills at once cannot both take the last place
            await self.refresh()
            await self.licensed(till, fresh=True)
            lic = await self.h.licence.may_open_day.remote()
            if not lic.get("ok"):
                raise Conflict("day.licence_refused", lic.get("message") or "the licence refuses",
                               licence_code=lic.get("code", ""),
                               grace_days_left=lic.get("grace_days_left", 0))
            body = DayOpened(till=till, business_day=self.today(), float=amount,
                             licence_code=str(lic.get("warn_code") or lic.get("code") or ""),
                             grace_days_left=int(lic.get("grace_days_left") or 0))
            ack = await self.submit(ctx, cid, "day.open", {"till": till, "float": amount}, body)
            await self.refresh()
        await self._approved(ctx, cid)
        licence = {k: lic.get(k) for k in ("ok", "code", "message", "warn", "warn_code",
                                             "grace_days_left", "expires_days_left")}
        return jresp(self.answer(ack, licence=licence))

    async def licensed(self, till: str, fresh: bool = False) -> None:
        """Refuse a till beyond the licence's count (``licence.too_many_tills``). The tills in use
        are the journal's: those that opened a day, in the order they first did; a till not among
        them may join while the count has room. Once allowed, a till is not asked again."""
        if not fresh and till in self.licensed_tills:
            return
        lic = await self.h.licence.status.remote()
        allowed = lic.get("tills") or 0
        if not lic.get("licence_id") or not allowed:
            return  # no licence: the day cannot open anyway (licence.missing)
        used = list(self.dir.days)
        if till in used[:allowed]:
            self.licensed_tills.add(till)
            return
        if till not in used and len(used) < allowed:
            return  # a new till, and there is room: its day open decides (under till_lock)
        raise Conflict("licence.too_many_tills",
                       f"this store's licence allows {allowed} till(s), all in use; till {till} "
                       "would be one more: ask HQ for a licence with more tills",
                       tills=allowed, till=till, in_use=used[:allowed])

    async def day_close(self, request: web.Request) -> web.Response:
        """Record the counted cash (``day.closed``), then the till's Z report (``day.z_report``)
        from the analytics copy once it holds the close; the store's Z too when the last open till
        of that business day closes. A retry answers the first reports."""
        data = await read_json(request)
        ctx = await self.auth(request, "day.close", data)
        cid = command_id(data)
        till = till_id(data.get("till", ctx.till))
        key = next((k for k in ("counted_cash", "counted") if k in data), "counted_cash")
        counted = need_amount(data, key, 0, min(MAX_FLOAT, self.config.limits.max_tender))
        ack = await self.submit(ctx, cid, "day.close", {"till": till, "counted_cash": counted},
                                DayClosed(till=till, counted_cash=counted))
        await self._approved(ctx, cid)
        day = ack.body.business_day
        z = await self._record_z(ctx, cid, "till", till, day, ack.seq)
        await self.refresh()
        out = self.answer(ack, z_report=z)
        if not [t for t, d in self.dir.days.items()
                if d.get("open") and d.get("business_day") == day]:
            out["store_z_report"] = await self._record_z(ctx, cid, "store", "", day, ack.seq)
            await self.refresh()
        return jresp(out)

    async def _record_z(self, ctx: Ctx, cid: str, scope: str, till: str, day: str,
                        at_seq: int) -> dict:
        zid = derived_id(cid, f"z:{scope}:{till}")
        args = {"scope": scope, "till": till, "day": day}
        # a Z report counts everything journaled up to the close: wait for the analytics copy,
        # refuse (report.lagging, 503; the close's retry records it) rather than undercount
        report = await self.h.analytics.report.remote(
            "z_report", {"day": day, "till": till or None}, at_seq, 60.0, True)
        try:
            ack = await self.submit(ctx, zid, "day.z", args,
                                    ZReportRecorded(scope, till, day, report))
        except Conflict as exc:
            if exc.code != "day.z_recorded":
                raise
            return report  # recorded by an earlier close of the same day
        return plain(ack.body.report) if hasattr(ack.body, "report") else report

    # -------------------------------------------------------------- reports
    async def report(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ("x", "z", "cashier"):
            raise NotFound("report.unknown", "reports are x, z and cashier")
        ctx = await self.auth(request, None)
        day = request.query.get("day") or ""
        if day:
            try:
                from datetime import date
                date.fromisoformat(day)
            except ValueError:
                raise InvalidInput("day.bad_date", "a business day is YYYY-MM-DD",
                                   field="day") from None
        at = (await self.h.ledger.status.remote())["seq"]
        if kind == "cashier":
            staff = request.query.get("staff") or ctx.staff
            self.require(ctx, "reports.own" if staff == ctx.staff else "reports.view")
            check_staff_id(staff)
            return jresp(await self.h.analytics.report.remote(
                "cashier_report", {"staff": staff, "day": day or self.today()}, at))
        self.require(ctx, "reports.view")
        scope = request.query.get("scope", "till")
        if scope not in ("till", "store"):
            raise InvalidInput("input.bad_field", "scope is till or store", field="scope")
        till = till_id(request.query.get("till") or ctx.till) if scope == "till" else None
        if not day:
            d = self.dir.days.get(till or ctx.till) or {}
            day = d.get("business_day") or self.today()
        name = "x_report" if kind == "x" else "z_report"
        return jresp(await self.h.analytics.report.remote(name, {"day": day, "till": till}, at))

    # -------------------------------------------------------------- staff and permissions
    async def staff_list(self, request: web.Request) -> web.Response:
        await self.auth(request, "staff.view")
        await self.refresh()
        return jresp({"staff": [{k: v for k, v in a.items() if k not in ("pin_hash",)}
                                for a in self.dir.accounts.values()]})

    def _bootstrap(self, request: web.Request, data: dict) -> Ctx:
        """A store without any account: the first one (an admin) may be created from the store
        PC itself (loopback), without a session."""
        ip = self.ip(request)
        if ip not in ("127.0.0.1", "::1"):
            raise Unauthorized("auth.required", "create the first account on the store PC itself")
        if data.get("role") != "admin":
            raise InvalidInput("staff.bad_role", "the first account is an admin", field="role")
        return Ctx("", "admin", "", ip, "", action="staff.manage")

    def _may_manage(self, ctx: Ctx, target_role: str, staff: str) -> None:
        cur = self.dir.accounts.get(staff, {}).get("role")
        if ctx.role != "admin" and "admin" in (target_role, cur):
            raise Forbidden("staff.admin_only", "only an admin manages admin accounts")

    async def staff_save(self, request: web.Request) -> web.Response:
        """Create an account, or change one (name, role, language, active, PIN)."""
        data = await read_json(request)
        await self.refresh()
        if not self.dir.accounts and "Authorization" not in request.headers:
            ctx = self._bootstrap(request, data)
        else:
            ctx = await self.auth(request, "staff.manage", data)
        cid = command_id(data)
        staff = refuse_card_number(check_staff_id(data.get("staff")), "staff")
        exists = staff in self.dir.accounts
        if not exists:
            name = need_str(data, "name", 100)
            role = check_role(data.get("role"))
            language = check_language(data.get("language", "en"))
            pin = check_pin(data.get("pin"))
            self._may_manage(ctx, role, staff)
            pin_hash = await asyncio.get_running_loop().run_in_executor(None, sealed_pin,
                                                                          self.pin_key, staff, pin)
            ack = await self.submit(ctx, cid, "staff.create", {"staff": staff, "name": name,
                                    "role": role, "language": language},
                                    StaffCreated(staff, name, role, language, pin_hash))
            await self._approved(ctx, cid)
            await self.refresh()
            return jresp(self.answer(ack))
        name = need_str(data, "name", 100, required=False)
        role = check_role(data["role"]) if data.get("role") is not None else ""
        language = check_language(data["language"]) if data.get("language") is not None else ""
        active = data.get("active")
        if active is not None and not isinstance(active, bool):
            raise InvalidInput("input.bad_field", "'active' is true or false", field="active")
        self._may_manage(ctx, role, staff)
        if staff == ctx.staff and (active is False or (role and role != ctx.role)):
            raise Conflict("staff.self_change", "ask another manager to change your own role")
        pin = data.get("pin")
        if pin is not None:
            check_pin(pin)
        if not (name or role or language or active is not None or pin is not None):
            raise InvalidInput("staff.nothing_to_change", "say what to change")
        args = {"staff": staff, "name": name, "role": role, "language": language,
                "active": active, "pin": pin is not None}
        acks = []
        if name or role or language or active is not None:
            acks.append(await self.submit(ctx, cid, "staff.update", args, StaffUpdated(
                staff, name, role, language, -1 if active is None else int(active))))
        if pin is not None:
            pin_hash = await asyncio.get_running_loop().run_in_executor(None, sealed_pin,
                                                                          self.pin_key, staff, pin)
            acks.append(await self.submit(ctx, derived_id(cid, "pin") if acks else cid,
                                          "staff.pin", args, StaffPinChanged(staff, pin_hash)))
        await self._approved(ctx, cid)
        await self.refresh()
        return jresp(self.answer(acks[0], events=[a.kind for a in acks]))

    async def staff_lock(self, request: web.Request) -> web.Response:
        staff = check_staff_id(request.match_info["staff"])
        what = request.match_info["what"]
        if what not in ("lock", "unlock"):
            raise NotFound("http.not_found", "lock or unlock")
        data = await read_json(request)
        ctx = await self.auth(request, "staff.manage", data)
        cid = command_id(data)
        reason = need_str(data, "reason", 200, required=False)
        await self.refresh()
        if staff not in self.dir.accounts:
            raise NotFound("staff.not_found", f"no staff account {staff!r}", staff=staff)
        self._may_manage(ctx, "", staff)
        if what == "lock" and staff == ctx.staff:
            raise Conflict("staff.self_lock", "you cannot lock your own account")
        body = StaffLocked(staff, reason) if what == "lock" else StaffUnlocked(staff, reason)
        ack = await self.submit(ctx, cid, f"staff.{what}", {"staff": staff, "reason": reason},
                                body)
        await self._approved(ctx, cid)
        await self.refresh()
        return jresp(self.answer(ack))

    async def permissions(self, request: web.Request) -> web.Response:
        await self.auth(request, None)
        table = self.dir.permissions.table()
        return jresp({"roles": list(ROLES), "actions": {
            a: {"roles": table[a], "default": list(ACTIONS[a][0]), "description": ACTIONS[a][1]}
            for a in ACTIONS}})

    async def permissions_change(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        ctx = await self.auth(request, "permissions.manage", data)
        cid = command_id(data)
        action = data.get("action")
        if not isinstance(action, str) or action not in ACTIONS:
            raise InvalidInput("permissions.unknown_action", "name an action", field="action")
        roles = data.get("roles")
        if not isinstance(roles, list) or len(roles) > len(ROLES):
            raise InvalidInput("input.bad_field", "'roles' is a list of roles", field="roles")
        roles = sorted({check_role(r) for r in roles} | {"admin"})
        if action == "permissions.manage" and ctx.role not in roles:
            raise Conflict("permissions.self_lockout", "you would lose the right to change it back")
        ack = await self.submit(ctx, cid, "permissions", {"action": action, "roles": roles},
                                PermissionsChanged(action, tuple(roles)))
        await self._approved(ctx, cid)
        await self.refresh()
        return jresp(self.answer(ack))

    # -------------------------------------------------------------- audit
    async def audit(self, request: web.Request) -> web.Response:
        """Who did what, from which till and IP: events filtered by staff, till, IP and kind
        prefix, scanning at most ``scan`` events after ``after``; ``next_after`` pages on."""
        await self.auth(request, "audit.view")
        after = query_int(request, "after", 0, 0, 2**62)
        limit = query_int(request, "limit", 200, 1, 1000)
        scan = query_int(request, "scan", 20000, 1, 200000)
        f = {k: request.query.get(k, "") for k in ("staff", "till", "ip", "kind")}
        if any(len(v) > 64 for v in f.values()):
            raise InvalidInput("input.bad_field", "filters are at most 64 characters")
        rows: list[dict] = []
        summary: dict[tuple, int] = {}
        pos, scanned, done = after, 0, False
        while scanned < scan and len(rows) < limit:
            envs = await self.h.ledger.read.remote(pos, min(2000, scan - scanned))
            if not envs:
                done = True
                break
            for e in envs:
                pos = e.seq
                scanned += 1
                if (f["staff"] and e.staff != f["staff"]) or (f["till"] and e.till != f["till"]) \
                        or (f["ip"] and e.ip != f["ip"]) or (f["kind"] and
                                                             not e.kind.startswith(f["kind"])):
                    continue
                body = msgspec.json.decode(e.body)
                approved = body.get("approved_by") or body.get("approver") or "" \
                    if isinstance(body, dict) else ""
                rows.append({"seq": e.seq, "ts": e.ts, "kind": e.kind, "staff": e.staff,
                             "till": e.till, "ip": e.ip, "agg": e.agg, "approved_by": approved})
                k = (e.staff, e.ip, e.till)
                summary[k] = summary.get(k, 0) + 1
                if len(rows) >= limit:
                    break
        return jresp({"events": rows, "next_after": pos, "done": done,
                      "summary": [{"staff": s, "ip": i, "till": t, "events": n}
                                  for (s, i, t), n in sorted(summary.items())]})

    # -------------------------------------------------------------- events
    async def feed_view(self, request: web.Request) -> Callable[[Any], dict | None]:
        """Which events this session may read, and how: ``?scope=all`` (``events.read``: every
        event, PIN and session hashes hidden) or ``?scope=sales`` (``events.sales``: sales figures
        only). Without ``scope`` a session gets the widest its role allows."""
        scope = request.query.get("scope", "")
        if scope not in ("", "all", "sales"):
            raise InvalidInput("input.bad_field", "scope is all or sales", field="scope")
        ctx = await self.auth(request, None)
        if not scope:
            scope = "all" if self.dir.allows(ctx.staff, "events.read") or not \
                self.dir.allows(ctx.staff, "events.sales") else "sales"
        self.require(ctx, "events.read" if scope == "all" else "events.sales")
        return full_view if scope == "all" else sales_view

    async def events(self, request: web.Request) -> web.Response:
        """Events after ``after`` (long-poll up to ``wait`` s). A filtered feed reads on past the
        events it hides (at most 20,000) so that a page is empty only at the journal's end; the
        ``X-Kassa-Next-After`` header gives the seq to ask after next."""
        view = await self.feed_view(request)
        after = query_int(request, "after", 0, 0, 2**62)
        try:
            wait = min(max(float(request.query.get("wait", "0") or 0), 0.0), 30.0)
        except ValueError:
            raise InvalidInput("input.bad_field", "wait is a number of seconds",
                               field="wait") from None
        if wait != wait:  # NaN
            wait = 0.0
        deadline = time.monotonic() + wait
        out: list[dict] = []
        scanned = 0
        while True:
            left = deadline - time.monotonic()
            envs = await self.h.ledger.wait.remote(after, 500, left) if left > 0 else \
                await self.h.ledger.read.remote(after, 500)
            if not envs:
                break
            after = envs[-1].seq
            scanned += len(envs)
            out = [v for v in map(view, envs) if v is not None]
            if out or scanned >= 20000:
                break
        return web.Response(body=orjson.dumps(out), content_type="application/json",
                            headers={"X-Kassa-Next-After": str(after)})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events of committed events, for the big screen and customer displays,
        filtered as ``events`` is. The token may come as ``?token=`` (EventSource cannot set
        headers)."""
        view = await self.feed_view(request)
        after = query_int(request, "after", 0, 0, 2**62)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        written = time.monotonic()
        try:
            while True:
                envs = await self.h.ledger.wait.remote(after, 500, 15.0)
                for e in envs:
                    v = view(e)
                    if v is not None:
                        await resp.write(b"id: %d\nevent: %s\ndata: %s\n\n" % (
                            e.seq, e.kind.encode(), orjson.dumps(v)))
                        written = time.monotonic()
                if envs:
                    after = envs[-1].seq
                if time.monotonic() - written >= 15.0:
                    await resp.write(b": keep-alive\n\n")
                    written = time.monotonic()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp


GATEWAY = web.AppKey("gateway", Gateway)


def make_gateway(handles: Any, status_extra: Callable[[], dict] | None = None) -> web.Application:
    g = Gateway(handles, status_extra)
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    app[GATEWAY] = g
    local = AdminChannel(g.data_dir, g.local_admin)  # kassa store unlock / set-pin (owner only)
    app.on_startup.append(lambda _app: local.start())
    app.on_cleanup.append(lambda _app: local.stop())
    app["gateway"] = g  # plug-ins (kiosk.feedback_api) look it up by name
    r = app.router
    r.add_get("/v1/health", g.health)
    r.add_get("/v1/config", g.config_view)
    r.add_get("/v1/openapi.json", g.openapi)
    r.add_post("/v1/sessions", g.sign_in)
    r.add_get("/v1/sessions/current", g.current)
    r.add_delete("/v1/sessions/current", g.sign_out)
    r.add_post("/v1/approvals", g.approve)
    r.add_post("/v1/tills/{till}/commands", g.till_command)
    r.add_get("/v1/tills/{till}/basket", g.till_view)
    r.add_get("/v1/products", g.search)
    r.add_post("/v1/products/import", g.import_products)
    r.add_get("/v1/products/{code}", g.product)
    r.add_get("/v1/orders", g.find_orders)
    r.add_get("/v1/orders/{order}", g.order)
    r.add_post("/v1/orders/{order}/refund", g.refund)
    r.add_post("/v1/orders/{order}/freeze", g.freeze)
    r.add_post("/v1/orders/{order}/unfreeze", g.unfreeze)
    r.add_post("/v1/members", g.register_member)
    r.add_get("/v1/members/{member}", g.member)
    r.add_post("/v1/members/{member}/topup", g.top_up)
    r.add_get("/v1/stock", g.stock)
    r.add_post("/v1/stock/{kind}", g.stock_move)
    r.add_get("/v1/day", g.day_view)
    r.add_post("/v1/day/open", g.day_open)
    r.add_post("/v1/day/close", g.day_close)
    r.add_get("/v1/reports/{kind}", g.report)
    r.add_get("/v1/staff", g.staff_list)
    r.add_post("/v1/staff", g.staff_save)
    r.add_post("/v1/staff/{staff}/{what}", g.staff_lock)
    r.add_get("/v1/permissions", g.permissions)
    r.add_post("/v1/permissions", g.permissions_change)
    r.add_get("/v1/audit", g.audit)
    r.add_get("/v1/events", g.events)
    r.add_get("/v1/events/stream", g.stream)
    try:  # exception feedback (异常反馈), from the kiosk issue: any signed-in staff member
        from kiosk.feedback_api import add_routes
    except ImportError:
        pass
    else:
        add_routes(app)
    return app
