"""The admin app's HTTP client for HQ's cloud API (``cloud/``): plain and synchronous, called only
from the app's background lane (``kiosk.worker.Worker``), never from the Tk thread.

Every call raises ``ApiError`` with the cloud's stable error code (``{"ok": false, "code", ...}``)
or ``Offline`` when the cloud can't be reached (refused, timed out, 502/503/504). Sign-in is
``login(user, password)`` (``POST /v1/hq/login``); after it each request carries
``Authorization: Bearer <session token>``. Scripts and a first set-up may use HQ's token instead
(``HqClient(url, token=...)``: role ``admin``, user ``token``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from domain.error_codes import Http
from kiosk.api_errors import ApiError, Offline

__all__ = ["HqClient", "ApiError", "Offline", "path_of"]

JSON = "application/json"


def path_of(template: str, **parts: str) -> str:
    """A route with its ``{name}`` parts filled in and quoted (a SKU may hold a slash)."""
    return template.format(**{k: quote(str(v), safe="") for k, v in parts.items()})


class HqClient:
    def __init__(self, base: str, token: str = "", timeout: float = 60.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.token = token
        self.user = "token" if token else ""
        self.role = "admin" if token else ""

    @property
    def signed_in(self) -> bool:
        return bool(self.token)

    # ------------------------------------------------------------ sessions
    def login(self, user: str, password: str) -> dict[str, Any]:
        res = self.request("POST", "/v1/hq/login", {"user": user, "password": password})
        self.token = str(res["token"])
        self.user = str(res.get("user") or user)
        self.role = str(res.get("role") or "")
        return res

    def logout(self) -> None:
        try:
            if self.token and self.user != "token":
                self.request("POST", "/v1/hq/logout", {})
        finally:
            self.token, self.user, self.role = "", "", ""

    def check_token(self) -> dict[str, Any]:
        """Prove the HQ token (a route every HQ credential may read)."""
        return self.request("GET", "/v1/stores")

    # ------------------------------------------------------------ members and coupons
    def members(self, q: str = "") -> list[dict[str, Any]]:
        """Members whose id, name, phone or card holds ``q``, with their balances."""
        return list(self.get("/v1/hq/members", q=q).get("members") or [])

    def member_tiers(self, member: str) -> dict[str, Any]:
        """The member's tier at each store, by the store's rules (``cloud.members_search``)."""
        return dict(self.get(path_of("/v1/hq/members/{m}/tiers", m=member)))

    def members_import(self, data: bytes, name: str) -> dict[str, Any]:
        """Import a CSV or XLSX file: ``{imported, errors: [{row, member, error}]}`` (a file
        with bad rows is answered 422 with the same body: the good rows are taken)."""
        try:
            return dict(self.upload("/v1/hq/members/import", data, "text/csv", name=name))
        except ApiError as exc:
            if exc.status == 422 and "errors" in exc.details:
                return dict(exc.details)
            raise

    def members_export(self, fmt: str) -> bytes:
        return bytes(self.download(f"/v1/hq/members/export.{fmt}"))

    def coupons(self) -> list[dict[str, Any]]:
        return list(self.get("/v1/hq/coupons").get("coupons") or [])

    def coupon_issue(self, doc: dict[str, Any]) -> dict[str, Any]:
        return dict(self.post("/v1/hq/coupons", doc))

    def coupon_revoke(self, code: str) -> dict[str, Any]:
        return dict(self.post(path_of("/v1/hq/coupons/{code}/revoke", code=code)))

    # ------------------------------------------------------------ requests
    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.request("POST", path, {} if body is None else body, query=query)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def upload(self, path: str, data: bytes, content_type: str, **query: Any) -> Any:
        return self.request("POST", path, query=query, raw=data, content_type=content_type)

    def download(self, path: str, **query: Any) -> bytes:
        return self.request("GET", path, query=query, want_bytes=True)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        raw: bytes | None = None,
        content_type: str = JSON,
        want_bytes: bool = False,
    ) -> Any:
        q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        url = self.base + path + ("?" + urlencode(q) if q else "")
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Accept": "*/*" if want_bytes else JSON}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                payload = r.read()
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise Offline(f"HQ unreachable: {getattr(exc, 'reason', exc)}") from None
        if want_bytes:
            return payload
        if not payload:
            return {}
        if JSON not in ctype:
            return payload
        return json.loads(payload)

    @staticmethod
    def _refusal(exc: urllib.error.HTTPError) -> ApiError:
        if exc.code in (502, 503, 504):
            return Offline(f"HQ answered {exc.code}", exc.code)
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("code") or (Http.NOT_FOUND if exc.code == 404 else Http.ERROR))
        return ApiError(code, str(body.get("message") or exc.reason), exc.code, body)
