"""HQ's flags inbox (issue 19): every anomaly flag the stores uploaded, with its rule, order,
staff, till, time and evidence in words (``analytics.flag_words``, in the reader's language, money
formatted), the store manager's own state, and HQ's: acknowledged or dismissed (with a note), by
whom and when. HQ's actions are kept in HQ's own SQLite (``<hq>/hqflags.sqlite``, 0600) and in
HQ's audit when the master data part is mounted; they never travel to the store.

    GET  /v1/hq/flags?store=&status=&rule=&from=&to=&lang=   admin, finance, support
    POST /v1/hq/flags/{store}/{flag}/ack       {note}          admin, finance
    POST /v1/hq/flags/{store}/{flag}/dismiss   {note} needed   admin, finance

Flags come from the warehouse's ``flags`` table (``order.flagged`` events and the store's
``flag.acknowledged``/``flag.dismissed``), exported from the uploads before each answer.
``status`` filters on HQ's state (open, acknowledged, dismissed); ``from``/``to`` on the flag's
business day.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import orjson
from aiohttp import web

from analytics.events import inbox
from analytics.flag_words import describe, rule_name, translator
from cloud.app import REGISTRY, WAREHOUSE, _run
from cloud.hqauth import declare, private_file
from domain.ports import Clock, SystemClock

__all__ = ["HqFlags", "HQ_FLAGS", "setup", "STATUSES"]

DB_FILE = "hqflags.sqlite"
STATUSES = ("open", "acknowledged", "dismissed")
_OPS = {"ack": "acknowledged", "dismiss": "dismissed"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS hq_flag_actions (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    flag_id TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL,
    who TEXT NOT NULL,
    role TEXT NOT NULL,
    at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hq_flag_actions_flag ON hq_flag_actions(store, flag_id, id);
"""


def _refuse(status: int, code: str, message: str) -> web.HTTPException:
    text = orjson.dumps({"ok": False, "code": code, "message": message}).decode()
    cls = {400: web.HTTPBadRequest, 404: web.HTTPNotFound}[status]
    return cls(text=text, content_type="application/json")


def _day(q: Any, key: str) -> str | None:
    v = q.get(key) or None
    if v is None:
        return None
    try:
        return date.fromisoformat(v).isoformat()
    except ValueError:
        raise _refuse(400, "hqflag.bad_filter", f"{key}: a day as YYYY-MM-DD") from None


class HqFlags:
    """HQ's actions on flags (SQLite, one row per action; the latest one is the state)."""

    def __init__(self, hq_dir: Path | str, clock: Clock | None = None) -> None:
        path = Path(hq_dir) / DB_FILE
        self.con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        private_file(path)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.executescript(SCHEMA)
        self.lock = threading.Lock()
        self.clock = clock or SystemClock()

    def close(self) -> None:
        self.con.close()

    def act(self, store: str, flag_id: str, op: str, note: str, who: str, role: str) -> dict:
        at = self.clock.now_us()
        with self.lock:
            self.con.execute(
                "INSERT INTO hq_flag_actions(store, flag_id, action, note, who, role, at_us) "
                "VALUES (?,?,?,?,?,?,?)",
                (store, flag_id, _OPS[op], note, who, role, at),
            )
        return {"store": store, "flag_id": flag_id, "status": _OPS[op], "by": who, "at_us": at}

    def states(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(store, flag) → HQ's latest action on it."""
        with self.lock:
            rows = self.con.execute(
                "SELECT store, flag_id, action, note, who, at_us FROM hq_flag_actions ORDER BY id"
            ).fetchall()
        return {(s, f): {"status": a, "note": n, "by": w, "at_us": t} for s, f, a, n, w, t in rows}


HQ_FLAGS = web.AppKey("hq_flags", HqFlags)
_COLS = ", ".join(
    f'"{c}"'
    for c in (
        "store_id", "seq", "staff", "flag_id", "order_id", "rule", "severity", "score",
        "evidence", "freeze", "subject_staff", "subject_till", "business_day",
    )
) + ", epoch_us(ts) AS ts_us"  # fmt: skip


def _store_flags(wh: Any, store: str | None, start: str | None, end: str | None) -> list[dict]:
    """Every flag in the warehouse (with the store manager's state) and each store's currency."""
    glob = wh._glob("flags")
    if glob is None:
        return []
    where, args = [], []
    for cond, v in (("store_id = ?", store), ("business_day >= CAST(? AS DATE)", start)):
        if v:
            where.append(cond)
            args.append(v)
    if end:
        where.append("business_day <= CAST(? AS DATE)")
        args.append(end)
    w = (" WHERE " + " AND ".join(where)) if where else ""
    con = wh._duck()
    try:
        cur = con.execute(
            f"SELECT {_COLS} FROM read_parquet('{glob}', hive_partitioning=true){w}", args
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        for r in rows:  # times as µs: a TIMESTAMPTZ fetched as such needs pytz
            r["ts"] = datetime.fromtimestamp(r.pop("ts_us") / 1_000_000, UTC)
        currency: dict[str, str] = {}
        orders = wh._glob("orders")
        if orders:
            currency = dict(
                con.execute(
                    f"SELECT store_id, any_value(currency) FROM read_parquet('{orders}', "
                    "hive_partitioning=true) GROUP BY ALL"
                ).fetchall()
            )
    finally:
        con.close()
    out = []
    by_store: dict[str, list[dict]] = {}
    for r in rows:
        by_store.setdefault(str(r["store_id"]), []).append(r)
    for s, rs in by_store.items():
        for f in inbox(rs):
            out.append({**f, "store": s, "currency": currency.get(s) or "THB"})
    return out


def _ts(value: Any, zone: str) -> tuple[str | None, str | None]:
    if not isinstance(value, datetime):
        return None, None
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        local = utc.astimezone(ZoneInfo(zone or "UTC"))
    except Exception:
        local = utc
    return utc.isoformat(), local.replace(tzinfo=None).isoformat(timespec="seconds")


def _listing(request: web.Request) -> list[dict[str, Any]]:
    """The flags HQ asked for, newest first (runs on the cloud's executor)."""
    q = request.query
    status, rule = q.get("status") or "", q.get("rule") or ""
    if status and status not in STATUSES:
        raise _refuse(400, "hqflag.bad_filter", "status is open, acknowledged or dismissed")
    lang = q.get("lang") or "en"
    g = translator(lang)
    start, end = _day(q, "from"), _day(q, "to")
    zones = {s.id: s.zone for s in request.app[REGISTRY].stores()}
    hq = request.app[HQ_FLAGS].states()
    out = []
    for f in _store_flags(request.app[WAREHOUSE], q.get("store") or None, start, end):
        if rule and f["rule"] != rule:
            continue
        mine = hq.get((f["store"], f["flag_id"]), {})
        st = mine.get("status", "open")
        if status and st != status:
            continue
        ts, local = _ts(f.get("ts"), zones.get(f["store"], "UTC"))
        day = f.get("business_day")
        out.append(
            {
                "store": f["store"],
                "flag_id": f["flag_id"],
                "rule": f["rule"],
                "rule_name": rule_name(f["rule"], lang, g),
                "severity": f["severity"],
                "order_id": f["order_id"],
                "staff": f["staff"],
                "till": f["till"],
                "ts": ts,
                "local_time": local,
                "business_day": day.isoformat() if isinstance(day, date) else day,
                "evidence": f["evidence"],
                "words": describe(f, f["currency"], lang, g),
                "currency": f["currency"],
                "store_state": f["state"],
                "store_note": f["note"],
                "status": st,
                "by": mine.get("by", ""),
                "note": mine.get("note", ""),
                "acted_at_us": mine.get("at_us"),
            }
        )
    out.sort(key=lambda r: (r["ts"] or "", r["store"], r["flag_id"]), reverse=True)
    return out


async def list_flags(request: web.Request) -> web.Response:
    await request.app[WAREHOUSE].flush()
    rows = await _run(request, _listing, request)
    body = {"flags": rows, "open": sum(1 for r in rows if r["status"] == "open")}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def act(request: web.Request) -> web.Response:
    op = request.rel_url.path.rsplit("/", 1)[-1]
    store, flag_id = request.match_info["store"], request.match_info["flag"]
    try:
        data = msgspec.json.decode(await request.read()) if request.can_read_body else {}
    except msgspec.DecodeError:
        raise _refuse(400, "input.bad_json", "the body is not JSON") from None
    note = data.get("note", "") if isinstance(data, dict) else ""
    if not isinstance(note, str) or len(note) > 500:
        raise _refuse(400, "input.bad_field", "note is text of at most 500 characters")
    note = note.strip()
    if op == "dismiss" and not note:
        raise _refuse(400, "flag.note_required", "say why the flag is dismissed")
    wh = request.app[WAREHOUSE]
    await wh.flush()
    known = await _run(request, _store_flags, wh, store, None, None)
    if not any(f["flag_id"] == flag_id for f in known):
        raise _refuse(404, "hqflag.not_found", f"no flag {flag_id} from store {store}")
    who, role = _caller(request)
    done = await _run(request, request.app[HQ_FLAGS].act, store, flag_id, op, note, who, role)
    master = _master(request.app)
    if master is not None:  # HQ's audit: who did what, when
        detail = {"store": store, "flag": flag_id, "note": note}
        await _run(request, master.audit, who, f"flag.{_OPS[op]}", detail)
    return web.Response(body=orjson.dumps({"ok": True, **done}), content_type="application/json")


def _caller(request: web.Request) -> tuple[str, str]:
    """Who acts and in which role, as the cloud's middleware found them (HQ's token: admin)."""
    import cloud.app as cloud_app

    key = getattr(cloud_app, "HQ_ROLE", None)
    role = request.get(key) if key is not None else None
    return str(request.get("hq_user") or "token"), str(role or "admin")


def _master(app: web.Application) -> Any:
    """HQ's master data (part hqmaster) when it is mounted: its audit gets HQ's flag actions."""
    import importlib

    try:
        key = getattr(importlib.import_module("cloud.master"), "MASTER", None)
    except ModuleNotFoundError:
        return None
    return app.get(key) if key is not None else None


def setup(app: web.Application, data_dir: Path, clock: Clock | None = None) -> None:
    flags = HqFlags(data_dir, clock)
    app[HQ_FLAGS] = flags
    app.router.add_get("/v1/hq/flags", list_flags)
    declare("GET", "/v1/hq/flags", roles=("finance", "support"))
    for op in _OPS:
        path = f"/v1/hq/flags/{{store}}/{{flag}}/{op}"
        app.router.add_post(path, act)
        declare("POST", path, roles=("finance",))

    async def _close(_app: web.Application) -> None:
        flags.close()

    app.on_cleanup.append(_close)
