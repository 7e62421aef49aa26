"""The till's HTTP client for the store gateway, and the worker that keeps it off the Tk thread.

``StoreClient`` is plain and synchronous (``http.client`` over the LAN); every call raises
``ApiError`` with the gateway's stable error code, or ``Offline`` when the store can't be reached
(connection refused, timeout, 502/503/504). Auth lives in one place, ``StoreClient.headers()``:
after sign-in the session token is sent as ``Authorization: Bearer <token>``; the
``X-Staff``/``X-Role``/``X-Till`` headers are sent too, for gateways without sign-in.

``Worker`` runs calls on background threads and hands results back to the Tk thread: the Tk side
polls a queue with ``after()``; nothing on the Tk thread ever waits on the network. Changes
(``change``) go through one ordered lane and, when the store is unreachable, are retried with the
SAME command id until the store answers (the store answers a repeated id with its first answer).
Reads (``read``) run on a second lane and are not retried.

``StorePin`` is the till's trust in an https:// store: at the first connection it records the
store CA's certificate and SHA-256 fingerprint (trust on first use; the till shows the fingerprint
for the person to compare with ``kassa store tls fingerprint`` on the store PC) and from then on
accepts only a server whose certificate chain leads to that CA (``tls.untrusted`` otherwise, before
a PIN or token is sent), and refuses plain http:// (``tls.required``). Nothing ever falls back to
HTTP.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from domain.error_codes import Auth, Http, Tls
from domain.error_codes.fastpath import Lifecycle
from kiosk.api_errors import ApiError, Offline, new_id
from kiosk.store_pin import StorePin
from kiosk.store_pin import ca_fingerprint as ca_fingerprint
from kiosk.worker import Worker

__all__ = ["ApiError", "Offline", "Session", "StoreClient", "StorePin", "Worker", "new_id"]

log = logging.getLogger(__name__)
# a store server restarting: send again this soon (kiosk.worker falls back to its backoff after
# QUICK_FOR_S); a refused connection costs neither side anything, a 503 a little of a busy start
REFUSED_RETRY_S, STARTING_RETRY_S = 0.05, 0.2
RESTARTING = frozenset({Lifecycle.STARTING, Lifecycle.STOPPING})


@dataclass
class Session:
    staff: str
    name: str = ""
    role: str = "cashier"
    lang: str = "en"
    token: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)
    discount_limit_bp: int | None = None
    expires: float | None = None
    extra: dict = field(default_factory=dict)


class StoreClient:
    def __init__(
        self, base_url: str, till: str, timeout: float = 5.0, pin_file: str | Path | None = None
    ) -> None:
        u = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
        self.base_url = f"{u.scheme}://{u.netloc}"
        self.https = u.scheme == "https"
        self.host, self.port = u.hostname or "127.0.0.1", u.port or (443 if self.https else 80)
        self.pin = StorePin(Path(pin_file) if pin_file is not None else None)
        self.till = till
        self.timeout = timeout
        self.session: Session | None = None
        self._local = threading.local()

    # ---------------------------------------------------------------- plumbing
    def headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json", "X-Till": self.till}
        s = self.session
        if s is not None:
            if s.token:
                h["Authorization"] = f"Bearer {s.token}"
            h["X-Staff"] = s.staff
            h["X-Role"] = s.role
        return h

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            if self.https:
                c = http.client.HTTPSConnection(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=self.pin.context(self.host, self.port, self.timeout),
                )
            elif self.pin.pinned:
                raise ApiError(
                    Tls.REQUIRED,
                    "this till is paired with its store over TLS: "
                    "the store's address must start with https://",
                )
            else:
                c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = c
        return c

    def _drop(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            try:
                c.close()
            except Exception:
                pass
        self._local.conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        if query:
            path = f"{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        for attempt in (0, 1):  # a kept-alive connection the server closed: one fresh try
            conn = self._conn()
            try:
                if timeout is not None:
                    conn.timeout = timeout
                conn.request(method, path, body=raw, headers=self.headers())
                resp = conn.getresponse()
                self._local.headers = resp.headers  # e.g. the feed's X-Kassa-Next-After
                data = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    self._drop()
                break
            except (
                http.client.RemoteDisconnected,
                BrokenPipeError,
                ConnectionResetError,
                ssl.SSLEOFError,
                ssl.SSLZeroReturnError,
            ) as exc:
                self._drop()
                if attempt:
                    raise Offline(str(exc)) from None
            except ssl.SSLCertVerificationError as exc:  # never retried, never over HTTP
                self._drop()
                raise ApiError(
                    Tls.UNTRUSTED,
                    "the store's certificate is not from the CA "
                    f"this till paired with ({exc.verify_message})",
                    details={"pinned": self.pin.fingerprint},
                ) from None
            except ssl.SSLError as exc:
                self._drop()
                raise ApiError(Tls.FAILED, f"no TLS from the store: {exc.reason}") from None
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                self._drop()  # a refused port: the store PC is up, its server restarting
                quick = REFUSED_RETRY_S if isinstance(exc, ConnectionRefusedError) else None
                raise Offline(str(exc), retry_in=quick) from None
        try:
            out = json.loads(data) if data else None
        except ValueError:
            out = None
        if status >= 500 and status in (502, 503, 504):
            err = (out or {}).get("error", {}) if isinstance(out, dict) else {}
            code = err.get("code", "")
            if status == 503 and code and not code.startswith("store."):
                raise ApiError(code, err.get("message", ""), status, err.get("details"))
            quick = STARTING_RETRY_S if code in RESTARTING else None  # it answers: up soon
            raise Offline(err.get("message", f"HTTP {status}"), status, quick)
        if status >= 400:
            err = (out or {}).get("error", {}) if isinstance(out, dict) else {}
            # an answer without a code (not from a kassa store): the status tells what it was
            raise ApiError(
                err.get("code") or Http.ERROR,
                err.get("message", ""),
                status,
                err.get("details") or {},
            )
        return out

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query or None)

    def last_header(self, name: str) -> str:
        """A header of this thread's last answer ("" when there was none)."""
        h = getattr(self._local, "headers", None)
        return str(h.get(name, "")) if h is not None else ""

    def post(self, path: str, body: dict) -> Any:
        return self.request("POST", path, body)

    # ---------------------------------------------------------------- store
    def health(self) -> dict:
        return self.get("/v1/health")

    def config(self) -> dict:
        return self.get("/v1/config")

    # ---------------------------------------------------------------- staff & sessions
    def sign_in(self, staff: str, pin: str) -> Session:
        """Sign in at this till. Gateways with sessions answer a token; a gateway without sign-in
        (``http.not_found``) raises ``ApiError('auth.unsupported')`` so the caller may fall back."""
        try:
            out = self.post(
                "/v1/sessions", {"id": new_id(), "staff": staff, "pin": pin, "till": self.till}
            )
        except ApiError as exc:
            if exc.code in (Http.NOT_FOUND, Http.METHOD_NOT_ALLOWED) or (
                exc.code == Http.ERROR and exc.status == 404
            ):
                raise ApiError(Auth.UNSUPPORTED, "this store has no sign-in yet", 404) from None
            raise
        return session_from(out, staff)

    def sign_out(self) -> None:
        s, self.session = self.session, None
        if s is not None and s.token:
            saved, self.session = self.session, s
            try:
                self.request("DELETE", "/v1/sessions/current")
            except ApiError:
                pass
            finally:
                self.session = saved

    def approve(self, manager: str, pin: str, action: str) -> dict:
        """A manager's PIN for one action at this till. Returns what to send with the action."""
        out = self.post(
            "/v1/approvals",
            {"id": new_id(), "staff": manager, "pin": pin, "action": action, "till": self.till},
        )
        return out if isinstance(out, dict) else {}

    # ---------------------------------------------------------------- till
    def command(self, cid: str, op: str, args: dict, approval: dict | None = None) -> dict:
        body: dict[str, Any] = {"id": cid, "op": op, "args": args}
        if approval:
            body.update(approval)
        return self.post(f"/v1/tills/{quote(self.till)}/commands", body)

    def basket(self) -> dict:
        return self.get(f"/v1/tills/{quote(self.till)}/basket")

    # ---------------------------------------------------------------- catalogue
    def products(self, q: str, limit: int = 30, sellable: bool = True) -> list[dict]:
        return self.get("/v1/products", q=q, limit=limit, sellable="1" if sellable else None)

    def grid(self, category: str = "") -> dict:
        """The item grid's categories and the products of ``category`` (favourites if empty)."""
        return self.get("/v1/product-grid", category=category or None)

    def product(self, code: str) -> dict:
        return self.get(f"/v1/products/{quote(code, safe='')}")

    def import_products(self, cid: str, products: list[dict], source: str) -> dict:
        return self.post("/v1/products/import", {"id": cid, "products": products, "source": source})

    # ---------------------------------------------------------------- orders
    def orders(self, q: str) -> list[dict]:
        return self.get("/v1/orders", q=q)

    def order(self, order_id: str) -> dict:
        return self.get(f"/v1/orders/{quote(order_id, safe='')}")

    def refund(
        self,
        cid: str,
        order_id: str,
        lines: dict[str, int] | None,
        reason: str,
        approval: dict | None = None,
    ) -> dict:
        body: dict[str, Any] = {"id": cid, "reason": reason}
        if lines:
            body["lines"] = lines
        if approval:
            body.update(approval)
        return self.post(f"/v1/orders/{quote(order_id, safe='')}/refund", body)

    def freeze(self, cid: str, order_id: str, reason: str) -> dict:
        return self.post(
            f"/v1/orders/{quote(order_id, safe='')}/freeze", {"id": cid, "reason": reason}
        )

    def unfreeze(self, cid: str, order_id: str, reason: str = "") -> dict:
        return self.post(
            f"/v1/orders/{quote(order_id, safe='')}/unfreeze", {"id": cid, "reason": reason}
        )

    # ---------------------------------------------------------------- members
    def member(self, key: str) -> dict:
        return self.get(f"/v1/members/{quote(key, safe='')}")

    def members(self, q: str) -> list[dict]:
        return self.get("/v1/members", q=q).get("members") or []

    def member_register(self, cid: str, rec: dict) -> dict:
        return self.post("/v1/members", {"id": cid, **rec})

    def member_update(self, cid: str, member: str, rec: dict) -> dict:
        return self.post(f"/v1/members/{quote(member, safe='')}", {"id": cid, **rec})

    def topup(self, cid: str, member: str, amount: int, tender: str, ref: str = "") -> dict:
        body = {"id": cid, "amount": amount, "tender": tender, "reference": ref}
        return self.post(f"/v1/members/{quote(member, safe='')}/topup", body)

    # ---------------------------------------------------------------- events
    def events(self, after: int = 0) -> list[dict]:
        return self.get("/v1/events", after=after)

    # ---------------------------------------------------------------- feedback (异常反馈)
    def feedback(self, cid: str, kind: str, message: str, sku: str = "", device: str = "") -> dict:
        return self.post(
            "/v1/feedback",
            {
                "id": cid,
                "kind": kind,
                "message": message,
                "sku": sku,
                "device": device,
                "till": self.till,
            },
        )

    # ---------------------------------------------------------------- manager (gateway issue 3)
    def report(self, kind: str, scope: str = "till") -> dict:
        """X or Z report, for this till or the whole store."""
        return self.get(f"/v1/reports/{kind}", scope=scope, till=self.till)

    def day(self) -> dict:
        return self.get("/v1/day")

    def day_open(self, cid: str, float_amount: int) -> dict:
        return self.post("/v1/day/open", {"id": cid, "till": self.till, "float": float_amount})

    def day_close(self, cid: str, counted: int) -> dict:
        return self.post("/v1/day/close", {"id": cid, "till": self.till, "counted": counted})

    def staff_list(self) -> list[dict]:
        out = self.get("/v1/staff")
        return out.get("staff", out) if isinstance(out, dict) else out

    def staff_save(self, cid: str, record: dict) -> dict:
        return self.post("/v1/staff", {"id": cid, **record})

    def permissions(self) -> dict:
        return self.get("/v1/permissions")

    def permissions_set(self, cid: str, action: str, roles: list[str]) -> dict:
        return self.post("/v1/permissions", {"id": cid, "action": action, "roles": roles})

    def staff_lock(self, cid: str, staff: str, locked: bool = True) -> dict:
        return self.post(
            f"/v1/staff/{quote(staff, safe='')}/{'lock' if locked else 'unlock'}", {"id": cid}
        )


def session_from(out: Any, staff: str) -> Session:
    """Read a sign-in answer; tolerant of ``{"token", "staff": {...}}`` or a flat object."""
    out = out if isinstance(out, dict) else {}
    who = out.get("staff") if isinstance(out.get("staff"), dict) else out
    perms = out.get("permissions") or who.get("permissions") or []
    limit = out.get("discount_limit_bp", who.get("discount_limit_bp"))
    return Session(
        staff=str(who.get("staff") or who.get("id") or staff),
        name=str(who.get("name") or staff),
        role=str(who.get("role") or "cashier"),
        lang=str(who.get("lang") or who.get("language") or "en"),
        token=str(out.get("token") or ""),
        permissions=frozenset(perms),
        discount_limit_bp=limit if isinstance(limit, int) else None,
        expires=out.get("expires"),
        extra=out,
    )
