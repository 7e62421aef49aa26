"""The store's LAN gateway: JSON over HTTP (aiohttp) between kiosks and the actors.

Every request that changes something carries the kiosk's command ``id`` so a retry after a lost
reply is safe. Errors answer ``{"error": {"code", "message", "details"}}`` with the error's HTTP
status; bad input of any kind is a 4xx, never a 5xx, and never reaches the journal.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web

from actors.ledger import Request, command_hash
from actors.till import Who
from domain.errors import InvalidInput, KassaError, NotFound, Unavailable
from domain.events import MemberRegistered, WalletToppedUp
from domain.commands import FreezeOrder, RefundOrder, UnfreezeOrder
from domain.stock import decide_adjustment, decide_count, decide_receipt

__all__ = ["make_gateway", "MAX_BODY"]

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
TILL_RE = __import__("re").compile(r"^[A-Za-z0-9_-]{1,16}$")


def jresp(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(exc: KassaError) -> web.Response:
    return jresp({"error": exc.to_dict()}, exc.http_status)


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


def need_str(data: dict, key: str, max_len: int = 200, required: bool = True) -> str:
    value = data.get(key, None)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise InvalidInput("input.bad_field", f"{key!r} must be a string of 1–{max_len} characters",
                           field=key)
    return value


def need_int(data: dict, key: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput("input.bad_field", f"{key!r} must be a whole number {lo}–{hi}",
                           field=key)
    return value


def command_id(data: dict) -> str:
    cid = data.get("id")
    if not isinstance(cid, str) or not 8 <= len(cid) <= 64 or not cid.isprintable():
        raise InvalidInput("command.bad_id", "every change needs an 'id' (a UUID the kiosk chose)")
    return cid


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


class Gateway:
    def __init__(self, handles: Any, status_extra: Callable[[], dict] | None = None) -> None:
        self.h = handles
        self.config = handles.config
        self.status_extra = status_extra or (lambda: {})
        self.started = time.time()

    # -------------------------------------------------------------- who
    def who(self, request: web.Request, data: dict | None = None) -> Who:
        staff = request.headers.get("X-Staff", "")[:64]
        approved = ""
        if data is not None and isinstance(data.get("approved_by"), str):
            approved = data["approved_by"][:64]
        limit = self.config.discount_limits.get(request.headers.get("X-Role", "cashier"), 0)
        return Who(staff=staff, ip=request.remote or "", limit_bp=limit, approved_by=approved)

    # -------------------------------------------------------------- health
    async def health(self, request: web.Request) -> web.Response:
        st = await self.h.ledger.status.remote()
        disk = shutil.disk_usage(self.h.data_dir)
        out = {"store": self.config.store_id, "name": self.config.name, "seq": st["seq"],
               "orders": st["orders"], "open_baskets": st["open_baskets"],
               "disk_free_bytes": disk.free, "uptime_s": int(time.time() - self.started),
               "currency": self.config.currency}
        out.update(self.status_extra())
        out.update(await self.h.extra_status())
        return jresp(out)

    async def config_view(self, request: web.Request) -> web.Response:
        return jresp(self.config.to_dict())

    # -------------------------------------------------------------- tills
    def till(self, request: web.Request) -> Any:
        till_id = request.match_info["till"]
        if not TILL_RE.match(till_id):
            raise InvalidInput("till.bad_id", "a till id is 1–16 letters, digits, - or _")
        return self.h.till(till_id)

    async def till_command(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        cid = command_id(data)
        op = need_str(data, "op", 32)
        args = data.get("args", {})
        if not isinstance(args, dict):
            raise InvalidInput("input.bad_field", "'args' must be an object", field="args")
        res = await self.till_rpc(request).call("do", (cid, op, args, self.who(request, data)))
        return jresp(res)

    async def till_view(self, request: web.Request) -> web.Response:
        return jresp(await self.till_rpc(request).call("view"))

    def till_rpc(self, request: web.Request) -> Any:
        till_id = request.match_info["till"]
        if not TILL_RE.match(till_id):
            raise InvalidInput("till.bad_id", "a till id is 1–16 letters, digits, - or _")
        return self.h.till_rpc(till_id)

    # -------------------------------------------------------------- catalogue
    async def search(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise InvalidInput("input.bad_field", "limit must be a number", field="limit") from None
        return jresp(await self.h.catalogue.search.remote(q, limit,
                                                          request.query.get("sellable") == "1"))

    async def product(self, request: web.Request) -> web.Response:
        return jresp(await self.h.catalogue.lookup.remote(request.match_info["code"]))

    async def import_products(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        cid = command_id(data)
        products = data.get("products")
        if not isinstance(products, list) or not products or len(products) > 200_000:
            raise InvalidInput("input.bad_field", "'products' must be a non-empty list")
        res = await self.h.catalogue.update.remote(cid, products, need_str(
            data, "source", 100, required=False) or "import", self.who(request, data),
            bool(data.get("replace_all", False)))
        return jresp(res)

    # -------------------------------------------------------------- orders
    async def _submit(self, request: web.Request, data: dict, op: str, args: dict,
                      body: Any, via: Any = None) -> dict:
        who = self.who(request, data)
        req = Request(id=command_id(data), cmd=command_hash(op, args), body=body, staff=who.staff,
                      till=request.headers.get("X-Till", "")[:16], ip=who.ip)
        ack = await (via or self.h.ledger).submit.remote(req)
        import msgspec
        return {"seq": ack.seq, "event": ack.kind, "duplicate": ack.duplicate,
                "result": msgspec.to_builtins(ack.body)}

    async def order(self, request: web.Request) -> web.Response:
        return jresp(await self.h.ledger.order.remote(request.match_info["order"]))

    async def find_orders(self, request: web.Request) -> web.Response:
        key = request.query.get("q", "")
        if not key or len(key) > 64:
            raise InvalidInput("input.bad_field", "search orders by number, id or member")
        return jresp(await self.h.ledger.orders_of.remote(key))

    async def refund(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        order_id = request.match_info["order"]
        lines = data.get("lines")
        if lines is not None:
            if not isinstance(lines, dict) or not lines or len(lines) > 500:
                raise InvalidInput("input.bad_field", "'lines' maps line ids to quantities")
            for k, v in lines.items():
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0 or v > 10**7:
                    raise InvalidInput("refund.bad_quantity", "refund a positive whole quantity")
        reason = need_str(data, "reason", 200, required=False)
        cid = command_id(data)
        cmd = RefundOrder(order_id=order_id, refund_id=cid, lines=lines, reason=reason,
                          cash_increment=self.config.cash_increment)
        return jresp(await self._submit(request, data, "refund",
                                        {"order": order_id, "lines": lines, "reason": reason}, cmd))

    async def freeze(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        order_id = request.match_info["order"]
        reason = need_str(data, "reason", 200)
        return jresp(await self._submit(request, data, "freeze", {"order": order_id,
                                        "reason": reason}, FreezeOrder(order_id, reason)))

    async def unfreeze(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        order_id = request.match_info["order"]
        reason = need_str(data, "reason", 200, required=False)
        return jresp(await self._submit(request, data, "unfreeze", {"order": order_id,
                                        "reason": reason}, UnfreezeOrder(order_id, reason)))

    # -------------------------------------------------------------- members
    async def register_member(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        body = MemberRegistered(member=need_str(data, "member", 64), name=need_str(data, "name"),
                                phone=need_str(data, "phone", 32, required=False),
                                card=need_str(data, "card", 64, required=False))
        return jresp(await self._submit(request, data, "member",
                                        [body.member, body.name, body.phone, body.card], body,
                                        self.h.wallet))

    async def top_up(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        member = request.match_info["member"]
        amount = need_int(data, "amount", 1, 10**10)
        tender = data.get("tender", "cash")
        if tender not in ("cash", "card"):
            raise InvalidInput("input.bad_field", "top-ups are paid by cash or card", field="tender")
        ref = need_str(data, "reference", 64, required=False)
        body = WalletToppedUp(member=member, amount=amount, tender=tender, reference=ref)
        return jresp(await self._submit(request, data, "topup",
                                        [member, amount, tender, ref], body, self.h.wallet))

    async def member(self, request: web.Request) -> web.Response:
        return jresp(await self.h.wallet.member.remote(request.match_info["member"]))

    # -------------------------------------------------------------- stock
    async def stock_move(self, request: web.Request) -> web.Response:
        data = await read_json(request)
        sku = need_str(data, "sku", 64)
        await self.h.catalogue.lookup.remote(sku)  # unknown products are refused
        kind = request.match_info["kind"]
        if kind == "receive":
            body = decide_receipt(sku, data.get("qty"), need_str(data, "reference", 100, False))
        elif kind == "adjust":
            body = decide_adjustment(sku, data.get("delta"), need_str(data, "reason", 200))
        elif kind == "count":
            current = await self.h.stock.level.remote(sku)
            body = decide_count(sku, data.get("counted"), current)
        else:
            raise NotFound("http.not_found", "unknown stock action")
        args = {k: data.get(k) for k in ("sku", "qty", "delta", "reason", "counted", "reference")}
        return jresp(await self._submit(request, data, f"stock.{kind}", args, body, self.h.stock))

    async def stock(self, request: web.Request) -> web.Response:
        return jresp(await self.h.stock.report.remote())

    # -------------------------------------------------------------- events
    async def events(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
            wait = min(max(float(request.query.get("wait", "0")), 0.0), 30.0)
        except ValueError:
            raise InvalidInput("input.bad_field", "after and wait are numbers") from None
        envs = await self.h.ledger.wait.remote(after, 500, wait) if wait else \
            await self.h.ledger.read.remote(after, 500)
        return jresp([e.to_wire() for e in envs])

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events of committed events, for the big screen and customer displays."""
        after = int(request.query.get("after", "0") or 0)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        try:
            while True:
                envs = await self.h.ledger.wait.remote(after, 500, 15.0)
                if not envs:
                    await resp.write(b": keep-alive\n\n")
                    continue
                for e in envs:
                    await resp.write(b"id: %d\nevent: %s\ndata: %s\n\n" % (
                        e.seq, e.kind.encode(), orjson.dumps(e.to_wire())))
                after = envs[-1].seq
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp


def make_gateway(handles: Any, status_extra: Callable[[], dict] | None = None) -> web.Application:
    g = Gateway(handles, status_extra)
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    app["gateway"] = g
    r = app.router
    r.add_get("/v1/health", g.health)
    r.add_get("/v1/config", g.config_view)
    r.add_post("/v1/tills/{till}/commands", g.till_command)
    r.add_get("/v1/tills/{till}/basket", g.till_view)
    r.add_get("/v1/products", g.search)
    r.add_get("/v1/products/{code}", g.product)
    r.add_post("/v1/products/import", g.import_products)
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
    r.add_get("/v1/events", g.events)
    r.add_get("/v1/events/stream", g.stream)
    return app
