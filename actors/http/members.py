"""Members and their wallets: registering, looking one up (scoped by role), topping up; and the
member desk's routes (issue 15): search by card, phone or name, edit, import and export."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from actors.http.common import (
    command_id,
    derived_id,
    jresp,
    need_amount,
    need_str,
    path_key,
    query_int,
    read_json,
)
from actors.http.context import gw
from actors.http.licensing import need_feature
from actors.http.members_io import check_rows, read_rows, to_csv, to_xlsx
from actors.members_sync import look_up
from actors.openapi_schemas import APPROVAL, ID, MONEY, S, _body, _op, _path, _q
from domain.error_codes.desk import Desk
from domain.errors import InvalidInput, KassaError, NotFound
from domain.events import MemberRegistered
from domain.handlers_staff import TopUpWallet
from domain.member_events import MemberUpdated

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPES"]

MEMBER_FOR_SALE = ("member", "name", "balance", "as_of_seq")  # members.view without details
MAX_FILE = 180 * 1024  # an import file (base64 in a JSON body of at most MAX_BODY)


def _consent(data: dict, required: bool) -> bool:
    value = data.get("consent")
    if value is None and not required:
        return False  # no answer is no consent: nothing is sent to a member who did not agree
    if not isinstance(value, bool):
        raise InvalidInput(Desk.NO_CONSENT, "consent is true or false", field="consent")
    return value


async def register_member(request: web.Request) -> web.Response:
    """A new member; without ``member`` the ledger gives ``<store>-<n>`` (domain.member_desk)."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "members.register", data)
    await need_feature(g, "wallet")  # the licence grants member wallets
    cid = command_id(data)
    body = MemberRegistered(
        member=need_str(data, "member", 64, required=False).strip(),
        name=need_str(data, "name"),
        phone=need_str(data, "phone", 32, required=False),
        card=need_str(data, "card", 64, required=False),
        consent=_consent(data, False),
        home=g.config.store_id,
    )
    args = [body.member, body.name, body.phone, body.card, body.consent]
    ack = await g.submit(ctx, cid, "member", args, body, g.h.wallet)
    return jresp(g.answer(ack))


async def update_member(request: web.Request) -> web.Response:
    """Change a member's name, phone, card or consent (the fields sent; the others stay)."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "members.edit", data)
    cid = command_id(data)
    was = await g.h.wallet.member(path_key(request, "member"))

    def field(key: str, most: int) -> str:
        return need_str(data, key, most, required=False) if key in data else was[key]

    body = MemberUpdated(
        member=was["member"],
        name=need_str(data, "name") if "name" in data else was["name"],
        phone=field("phone", 32),
        card=field("card", 64),
        consent=_consent(data, True) if "consent" in data else was["consent"],
    )
    args = [body.member, body.name, body.phone, body.card, body.consent]
    ack = await g.submit(ctx, cid, "member.update", args, body, g.h.wallet)
    return jresp(g.answer(ack))


async def top_up(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "wallet.topup", data)
    await need_feature(g, "wallet")
    member = path_key(request, "member")
    cid = command_id(data)
    amount = need_amount(data, "amount", 1, g.config.limits.max_topup)
    tender = data.get("tender", "cash")
    ref = need_str(data, "reference", 64, required=False)
    ack = await g.submit(
        ctx,
        cid,
        "topup",
        [member, amount, tender, ref],
        TopUpWallet(member, amount, tender, ref),
        g.h.wallet,
    )
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


async def member(request: web.Request) -> web.Response:
    """A member by id, card or phone. The sale counter sees what paying needs (id, name,
    balance); phone, card and wallet history need ``members.view_details``."""
    g = gw(request)
    ctx = await g.auth(request, "members.view")
    key = path_key(request, "member")
    try:
        m: dict | None = await g.h.wallet.member(key)
    except NotFound:
        m = None
    m = await look_up(g.h, key, m)  # chain-wide: HQ's members, what may be spent here
    if m is None:
        raise NotFound("member.not_found", "no such member", member=key)
    if not g.dir.allows(ctx.staff, "members.view_details"):
        m = {k: m[k] for k in MEMBER_FOR_SALE if k in m}
    return jresp(m)


async def search(request: web.Request) -> web.Response:
    """Members by id, card or phone (one) or by the words of their name (a list)."""
    g = gw(request)
    await g.auth(request, "members.view_details")
    q = path_key(request, "q", 100)
    return jresp(await g.h.wallet.search(q, query_int(request, "limit", 50, 1, 200)))


async def export(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "members.import")
    fmt = request.path.rsplit(".", 1)[-1]
    rows = await g.h.wallet.rows()
    body, kind = (
        (to_csv(rows), "text/csv")
        if fmt == "csv"
        else (to_xlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    name = f"members-{g.config.store_id}.{fmt}"
    return web.Response(
        body=body,
        content_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def import_members(request: web.Request) -> web.Response:
    """A CSV or XLSX file of members (base64 in ``data``): every valid row journaled (a known
    member id: an edit), every bad row listed with its number and why; a retry with the same
    ``id`` journals nothing twice (each row's event has an id derived from it)."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "members.import", data)
    await need_feature(g, "wallet")
    cid = command_id(data)
    fmt = need_str(data, "format", 8)
    try:
        raw = base64.b64decode(need_str(data, "data", 4 * MAX_FILE // 3 + 4, code=True))
    except (binascii.Error, ValueError):
        raise InvalidInput("input.bad_field", "data is the file in base64", field="data") from None
    known = {m["member"] for m in await g.h.wallet.rows()}
    checked = check_rows(read_rows(raw, fmt), known, g.config.store_id)
    done: list[dict] = []
    errors = checked.errors
    for n, body in checked.bodies:
        args = [body.member, body.name, body.phone, body.card, body.consent]
        try:
            rid = derived_id(cid, f"row{n}")
            ack = await g.submit(ctx, rid, "member.import", args, body, g.h.wallet)
        except KassaError as exc:  # refused at commit (another till took the card meanwhile)
            errors.append({"row": n, "code": exc.code, "message": exc.message})
            continue
        done.append({"row": n, "member": ack.body.member, "event": ack.kind})
    errors.sort(key=lambda e: e["row"])
    return jresp({"imported": done, "errors": errors, "rows": len(done) + len(errors)})


ROUTES = [
    ("GET", "/v1/members", search),
    ("POST", "/v1/members", register_member),
    ("POST", "/v1/members/import", import_members),
    ("GET", "/v1/members/export.csv", export),
    ("GET", "/v1/members/export.xlsx", export),
    ("GET", "/v1/members/{member}", member),
    ("POST", "/v1/members/{member}", update_member),
    ("POST", "/v1/members/{member}/topup", top_up),
]

_MEMBER_FIELDS = {
    "name": S,
    "phone": {"type": "string", "maxLength": 32},
    "card": {"type": "string", "maxLength": 64},
    "consent": {"type": "boolean"},
}
OPENAPI = {
    "/v1/members": {
        "get": _op(
            "members by id, card or phone (one), or by the words of their name",
            "members.view_details",
            params=[
                _q("q", {"type": "string", "maxLength": 100}),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
            ],
        ),
        "post": _op(
            "register a member (without 'member' the store gives <store>-<n>)",
            "members.register",
            _body(
                {"id": ID, "member": {"type": "string", "maxLength": 64}, **_MEMBER_FIELDS},
                ["id", "name"],
            ),
        ),
    },
    "/v1/members/import": {
        "post": _op(
            "import members from CSV or XLSX (base64): valid rows journaled, bad rows listed",
            "members.import",
            _body(
                {"id": ID, "format": {"enum": ["csv", "xlsx"]}, "data": {"type": "string"}},
                ["id", "format", "data"],
            ),
        )
    },
    "/v1/members/export.csv": {"get": _op("every member as CSV", "members.import")},
    "/v1/members/export.xlsx": {"get": _op("every member as XLSX", "members.import")},
    "/v1/members/{member}": {
        "get": _op(
            "a member and wallet balance (by id, card or phone)",
            "members.view",
            params=[_path("member")],
        ),
        "post": _op(
            "change a member's name, phone, card or marketing consent",
            "members.edit",
            _body({"id": ID, **_MEMBER_FIELDS}, ["id"]),
            [_path("member")],
        ),
    },
    "/v1/members/{member}/topup": {
        "post": _op(
            "top up a wallet (cash or card)",
            "wallet.topup",
            _body(
                {
                    "id": ID,
                    "amount": {**MONEY, "minimum": 1},
                    "tender": {"enum": ["cash", "card"]},
                    "reference": {"type": "string", "maxLength": 64},
                    "approval": APPROVAL,
                },
                ["id", "amount"],
            ),
            [_path("member")],
        )
    },
}
EXPORT_SCOPE = "members.import (manager): every member's personal data and balance"
READ_SCOPES = {
    "/v1/members": "members.view_details (after-sales, manager): id, name, phone, card, "
    "consent, home store, balance",
    "/v1/members/{member}": "members.view: id, name, balance (what paying needs); phone, card, "
    "consent and wallet history with members.view_details",
    "/v1/members/export.csv": EXPORT_SCOPE,
    "/v1/members/export.xlsx": EXPORT_SCOPE,
}
