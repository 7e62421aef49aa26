"""All Ray calls live here: the actor shells, their restart options, and starting Ray.

Every other module in ``actors/`` is plain Python and unit-tested without Ray. Each shell holds one
plain object and forwards to it; state that matters is in the journal, so when Ray restarts a dead
actor (``max_restarts=-1``) its ``__init__`` rebuilds it from the journal, and a call that was cut
off is retried (``max_task_retries``) safely because every command carries its client-chosen id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this venv directly
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Ray starts workers at niceness 15 (they are batch jobs to it); here the actors *are* the shop's
# hot path, and a niced ledger waits behind the gateway and anything else the PC runs.
os.environ.setdefault("RAY_worker_niceness", "0")
# Ray (on Linux) turns a node address of 127.0.0.1 into the machine's LAN address, and its servers
# (GCS, raylet, object manager, every worker's gRPC port, the agents) bind that address. Off, it
# keeps loopback, and every one of them listens on 127.0.0.1 only. Read when Ray is imported.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import ray  # noqa: E402
from ray.exceptions import RayTaskError  # noqa: E402

from actors.catalogue import Catalogue  # noqa: E402
from actors.ledger import LEDGER_METHODS, Ack, Ledger, Request, command_hash  # noqa: E402
from actors.projections import StockView, WalletView  # noqa: E402
from actors.till import TILL_METHODS, Till, Who, execute  # noqa: E402
from actors.wire import RpcClient, RpcServer, run_dir, socket_name  # noqa: E402
from domain.catalogue import CatalogueIndex  # noqa: E402
from domain.errors import KassaError, Unavailable  # noqa: E402
from domain.store import StoreConfig  # noqa: E402

__all__ = ["start_ray", "stop_ray", "Handles", "create_actors", "unwrap", "NAMESPACE"]

log = logging.getLogger(__name__)
NAMESPACE = "kassa"
CATALOGUE_CHECK_S = 30.0
RESTART = dict(max_restarts=-1, max_task_retries=3, num_cpus=0)


def start_ray(data_dir: Path | str, num_cpus: int = 2, memory_mb: int | None = None) -> None:
    """Start a private Ray node for the store in ``data_dir``, sized for a small store PC.

    Private: its session files and sockets are in the store's 0700 folder (``run_dir``/ray, not the
    world-writable /tmp/ray), every server of it listens on loopback only, and it requires a token
    (Ray's token authentication) that only the store's user can read: a fresh random one at every
    start, in a 0600 file in that folder. Another account on the PC can neither find nor use it.
    """
    if ray.is_initialized():
        return
    run = run_dir(data_dir)
    token = run / "ray_token"
    tmp = run / "ray_token.new"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    os.replace(tmp, token)
    # token auth whatever the environment says (CI and old set-ups export RAY_AUTH_MODE=disabled);
    # the workers inherit these through the raylet
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    os.environ.pop("RAY_AUTH_TOKEN", None)  # it would take precedence over the file
    from ray._raylet import (AuthenticationMode, AuthenticationTokenLoader, Config,
                             get_authentication_mode)
    Config.initialize("")  # this process reads RAY_AUTH_MODE again (as Ray itself does)
    AuthenticationTokenLoader.instance().reset_cache()
    kwargs: dict[str, Any] = dict(num_cpus=num_cpus, include_dashboard=False, namespace=NAMESPACE,
                                  logging_level=logging.WARNING, log_to_driver=False,
                                  _node_ip_address="127.0.0.1", configure_logging=True,
                                  _temp_dir=str(run / "ray"))
    if memory_mb:
        kwargs["object_store_memory"] = memory_mb * 1024 * 1024
    ray.init(**kwargs)
    node_ip = ray.util.get_node_ip_address()
    if node_ip != "127.0.0.1" or get_authentication_mode() != AuthenticationMode.TOKEN:
        ray.shutdown()  # fail closed: never serve with Ray open to the LAN or to other accounts
        raise Unavailable("store.ray_not_private",
                          f"Ray came up on {node_ip} (token auth: {get_authentication_mode()}); "
                          "the store server runs it only on 127.0.0.1 with token auth")


def stop_ray() -> None:
    if ray.is_initialized():
        ray.shutdown()


def unwrap(exc: BaseException) -> BaseException:
    """The original error behind a Ray task error (KassaErrors keep their code across Ray)."""
    while isinstance(exc, RayTaskError) and getattr(exc, "cause", None) is not None:
        exc = exc.cause
    return exc


# ---------------------------------------------------------------- ledger

def ledger_channel(data_dir: str, ledger: Any) -> RpcClient:
    """The fast channel to the ledger of the store in ``data_dir`` (``ledger``: its Ray handle,
    through which a restarted ledger is woken to open its socket again)."""
    return RpcClient(socket_name(data_dir, "ledger"), LEDGER_METHODS,
                     wake=lambda: ledger.serve.remote())


@ray.remote(**RESTART)
class LedgerActor:
    """Owns the journal. Concurrent submissions are gathered and committed in one transaction."""

    def __init__(self, path: str, batch: int = 256, limits: dict | None = None) -> None:
        import analytics.events  # noqa: F401 - registers order.flagged before the replay
        import domain.feedback  # noqa: F401 - and feedback.reported
        from domain.book import BookRules
        from domain.money import Limits
        # the store's ledger: a till sells only while its day is open, and no value beyond the
        # store's limits is journaled; the journal is checked before selling
        self.ledger = Ledger(path, check=True, rules=BookRules(True, Limits.from_dict(limits)))
        self.queue: list[tuple[Request, asyncio.Future]] = []
        self.batch = batch
        self.writing = False
        self.new_event: asyncio.Condition | None = None
        self.rpc = RpcServer(socket_name(str(Path(path).parent), "ledger"), self._rpc,
                             LEDGER_METHODS)

    async def serve(self) -> str:
        """Open the ledger's fast socket (idempotent; called again after a restart)."""
        await self.rpc.start()
        return self.rpc.name

    async def _rpc(self, method: str, payload: Any) -> Any:
        if method == "submit":
            return await self.submit(payload)
        if method == "lookup":
            return self.ledger.lookup(*payload)
        raise ValueError(f"unknown method {method}")

    def _cond(self) -> asyncio.Condition:
        if self.new_event is None:
            self.new_event = asyncio.Condition()
        return self.new_event

    async def submit(self, req: Request) -> Ack:
        fut = asyncio.get_running_loop().create_future()
        self.queue.append((req, fut))
        if not self.writing:
            self.writing = True
            asyncio.get_running_loop().create_task(self._drain())
        res = await fut
        if isinstance(res, BaseException):
            raise res
        return res

    async def _drain(self) -> None:
        try:
            while self.queue:
                await asyncio.sleep(0)  # let calls that arrived together join this batch
                batch, self.queue = self.queue[:self.batch], self.queue[self.batch:]
                try:
                    results = self.ledger.submit_batch([r for r, _ in batch])
                except Exception as exc:  # a bug, not a refusal: fail these callers loudly
                    log.exception("ledger batch failed")
                    results = [exc] * len(batch)
                for (_, fut), res in zip(batch, results):
                    if not fut.done():
                        fut.set_result(res)
                cond = self._cond()
                async with cond:
                    cond.notify_all()
        finally:
            self.writing = False

    async def wait(self, after: int, limit: int = 1000, timeout: float = 10.0) -> list:
        """Events after ``after``; waits up to ``timeout`` seconds for one if there is none yet."""
        if self.ledger.seq <= after:
            cond = self._cond()
            try:
                async with cond:
                    await asyncio.wait_for(cond.wait_for(lambda: self.ledger.seq > after), timeout)
            except asyncio.TimeoutError:
                return []
        return self.ledger.read(after, limit)

    async def read(self, after: int = 0, limit: int = 1000) -> list:
        return self.ledger.read(after, limit)

    async def open_basket_events(self, till: str) -> list:
        return self.ledger.open_basket_events(till)

    async def till_state(self, till: str) -> tuple:
        return self.ledger.till_state(till)

    async def order(self, order_id: str) -> dict:
        return self.ledger.order(order_id)

    async def orders_of(self, key: str, zone: str = "UTC") -> list[dict]:
        """Orders by number, id, member, or business date (YYYY-MM-DD in the store's zone);
        the newest 50."""
        import re
        from datetime import date, datetime, timezone
        from zoneinfo import ZoneInfo
        orders = self.ledger.book.orders.values()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", key):
            try:
                day = date.fromisoformat(key)
            except ValueError:
                return []
            tz = ZoneInfo(zone)
            out = [r for r in orders if datetime.fromtimestamp(
                r.ts / 1e6, timezone.utc).astimezone(tz).date() == day]
        else:
            out = [r for r in orders if key in (r.order.number, r.order.order_id, r.order.member)]
        return [r.to_dict() for r in out[-50:]]

    async def balance(self, member: str) -> int:
        return self.ledger.balance(member)

    async def staff_state(self) -> dict:
        """Staff accounts, permissions, sessions and till days, for the gateway's mirror."""
        return {**self.ledger.book.staff_state(), "seq": self.ledger.seq}

    async def status(self) -> dict:
        st = self.ledger.status()
        st["last_ts"] = self.ledger.last_ts
        return st


# ---------------------------------------------------------------- catalogue

@ray.remote(**RESTART)
class CatalogueActor:
    def __init__(self, data_dir: str, config: dict) -> None:
        self.cat = Catalogue(data_dir, StoreConfig.from_dict(config))
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.tills: set[str] = set()

    async def snapshot(self) -> tuple:
        return self.cat.snapshot()

    async def version(self) -> str:
        return self.cat.version

    async def lookup(self, code: str) -> dict:
        return self.cat.lookup(code)

    async def search(self, query: str, limit: int = 50, sellable_only: bool = False) -> list:
        return self.cat.search(query, limit, sellable_only)

    async def register_till(self, name: str) -> None:
        self.tills.add(name)

    async def update(self, cid: str, products: list[dict], source: str, who: Who,
                     replace_all: bool = False) -> dict:
        merged, ev = self.cat.prepare_update(products, source, replace_all)
        req = Request(id=cid, cmd=command_hash("catalogue.update", {"v": ev.version}), body=ev,
                      staff=who.staff, ip=who.ip)
        ack = await self.ledger.submit.remote(req)
        if not ack.duplicate:
            self.cat.commit(merged, ev.version)
        for name in list(self.tills):
            try:
                ray.get_actor(name, namespace=NAMESPACE).reload_catalogue.remote()
            except ValueError:
                self.tills.discard(name)
        return {"version": self.cat.version, "count": len(self.cat.index), "seq": ack.seq}


# ---------------------------------------------------------------- till

@ray.remote(**RESTART)
class TillActor:
    def __init__(self, till_id: str, config: dict, data_dir: str) -> None:
        self.till_id = till_id
        self.config = StoreConfig.from_dict(config)
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.catalogue = ray.get_actor("catalogue", namespace=NAMESPACE)
        self.core: Till | None = None
        self.lock: asyncio.Lock | None = None
        self.ledger_rpc = ledger_channel(data_dir, self.ledger)
        self.rpc = RpcServer(socket_name(data_dir, f"till-{till_id}"), self._rpc, TILL_METHODS)

    async def serve(self) -> str:
        await self._ready()
        await self.rpc.start()
        return self.rpc.name

    async def _rpc(self, method: str, payload: Any) -> Any:
        if method == "do":
            return await self.do(*payload)
        if method == "view":
            return await self.view()
        raise ValueError(f"unknown method {method}")

    async def _ready(self) -> Till:
        if self.lock is None:
            self.lock = asyncio.Lock()
        if self.core is None:
            version, products = await self.catalogue.snapshot.remote()
            core = Till(self.till_id, self.config, CatalogueIndex(products, version))
            floor, envs = await self.ledger.till_state.remote(self.till_id)
            core.rebuild(envs, floor)
            self.core = core
            await self.catalogue.register_till.remote(f"till:{self.till_id}")
        return self.core

    async def reload_catalogue(self) -> None:
        version, products = await self.catalogue.snapshot.remote()
        core = await self._ready()
        core.catalogue = CatalogueIndex(products, version)

    async def view(self) -> dict:
        return (await self._ready()).view()

    async def do(self, cid: str, op: str, args: dict, who: Who) -> dict:
        core = await self._ready()
        async with self.lock:
            return await execute(core, self.ledger_rpc.call, cid, op, args, who)

    async def do_many(self, cmds: list[tuple[str, str, dict, Who]]) -> list:
        out = []
        for cid, op, args, who in cmds:
            try:
                out.append(await self.do(cid, op, args, who))
            except Exception as exc:
                out.append(unwrap(exc))
        return out


# ---------------------------------------------------------------- read models

class _Follower:
    """Follows the journal's tail in a background task; restarts rebuild from seq 0.

    A follower reads the journal file through its own read-only SQLite connection (WAL lets it
    read while the ledger commits), so the ledger, on the selling path, never serves its reads.
    """

    view: Any
    journal_path: str
    source: Any = None
    task: asyncio.Task | None = None
    pace_s: float = 0.0  # at least this long between two batches (batching costly views)
    idle_s: float = 0.05  # how often an idle follower looks for new events

    def _ensure(self) -> None:
        if self.task is None or self.task.done():
            self._hurry = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self._follow())

    def _source(self) -> Any:
        if self.source is None:  # opened late: a new store's journal may not exist yet
            from actors.uploader import JournalFileSource
            self.source = JournalFileSource(self.journal_path)
        return self.source

    async def _follow(self) -> None:
        while True:
            try:
                envs = await self._source().read(self.view.seq, 20000)
                self.view.apply(envs)
                self._hurry.clear()
                try:  # a report waiting for fresh figures cuts the pause short
                    await asyncio.wait_for(self._hurry.wait(),
                                           self.pace_s if envs else self.idle_s)
                except asyncio.TimeoutError:
                    pass
            except Exception:  # the journal not there yet, or a bad moment: wait and go on
                log.warning("follower could not read the journal; retrying", exc_info=True)
                if self.source is not None:
                    self.source.close()
                    self.source = None
                await asyncio.sleep(0.5)

    async def caught_up(self, seq: int, timeout: float = 10.0) -> int:
        """Wait until this view has applied everything up to ``seq``."""
        self._ensure()
        if self.view.seq < seq:
            self._hurry.set()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.view.seq < seq and loop.time() < end:
            await asyncio.sleep(0.01)
        return self.view.seq

    async def ping(self) -> int:
        self._ensure()
        return self.view.seq

    async def synced(self) -> None:
        """Answer only once the view holds everything the journal held when the question came:
        a balance looked up right after a top-up shows it, and a restarted read model never
        answers from nothing."""
        self._ensure()
        try:
            seq = await self._source().last_seq()
        except Exception:  # noqa: BLE001 - not readable yet: ask the ledger
            seq = (await self.ledger.status.remote())["seq"]
        await self.caught_up(seq, timeout=120.0)


@ray.remote(**RESTART)
class StockActor(_Follower):
    def __init__(self, data_dir: str) -> None:
        self.journal_path = str(Path(data_dir) / "journal.sqlite")
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.catalogue = ray.get_actor("catalogue", namespace=NAMESPACE)
        self.view = StockView()
        self.task = None
        self.pace_s = 0.25

    async def submit(self, req: Request) -> Ack:
        self._ensure()
        return await self.ledger.submit.remote(req)

    async def level(self, sku: str) -> int:
        await self.synced()
        return self.view.book.level(sku)

    async def report(self) -> dict:
        await self.synced()
        _, products = await self.catalogue.snapshot.remote()
        return self.view.report({p.sku: p.low_stock for p in products})


@ray.remote(**RESTART)
class WalletActor(_Follower):
    def __init__(self, data_dir: str) -> None:
        self.journal_path = str(Path(data_dir) / "journal.sqlite")
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.view = WalletView()
        self.task = None
        self.pace_s = 0.25

    async def submit(self, req: Request) -> Ack:
        self._ensure()
        return await self.ledger.submit.remote(req)

    async def member(self, key: str) -> dict:
        await self.synced()
        return self.view.member(key)


# ---------------------------------------------------------------- analytics

REPORTS = {"x_report", "z_report", "day_report", "cashier_report", "sales_by", "refunds_and_voids",
           "wallet_liability", "stock_on_hand", "negative_stock", "low_stock", "flags",
           "period_report", "year_report"}


def _plain(value: Any) -> Any:
    """Polars frames become lists of rows so that they cross Ray and HTTP as JSON."""
    if hasattr(value, "to_dicts"):
        return value.to_dicts()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@ray.remote(**RESTART)
class AnalyticsActor(_Follower):
    """The only process that opens the store's DuckDB analytics copy; follows the journal."""

    def __init__(self, data_dir: str, zone: str, store_id: str = "",
                 flag_every_s: float = 20.0, rules: dict | None = None) -> None:
        from analytics.store import StoreAnalytics
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.store = StoreAnalytics(str(Path(data_dir) / "analytics.duckdb"), zone,
                                    store_id=store_id or "S001")
        self.journal_path = Path(data_dir) / "journal.sqlite"
        self.zone = zone
        self.store_id = store_id
        self.view = self
        self.task = None
        self.pace_s = 1.0  # DuckDB likes few large inserts: ingest at most once a second
        self.flag_task: asyncio.Task | None = None
        self.flag_every_s = flag_every_s
        from analytics.anomaly import RuleConfig
        self.rules = RuleConfig(**(rules or {}))
        self.journal_fn = _JournalFn(data_dir)
        self.flagged = 0
        self.error = ""  # the last ingest's error, until one succeeds (health shows it)

    def _ensure(self) -> None:
        super()._ensure()
        if self.flag_task is None or self.flag_task.done():
            self.flag_task = asyncio.get_running_loop().create_task(self._flag_loop())

    async def _flag_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flag_every_s)
            try:
                await self.flag_now()
            except Exception:  # noqa: BLE001 - flags wait for the next round
                log.warning("anomaly scoring failed", exc_info=True)

    async def flag_now(self, days: int = 2) -> int:
        """Score today's (and yesterday's) orders; journal new flags, freeze where a rule says.
        Flag ids derive from (store, rule, order), so scoring twice journals a flag once."""
        import uuid
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo

        from analytics.events import flags_to_events
        from domain.commands import FreezeOrder
        today = datetime.now(ZoneInfo(self.zone)).date()
        frame = self.store.new_flags(self.rules, today - timedelta(days=days - 1), today)
        n = 0
        for ev in flags_to_events(frame):
            ack = await self.journal_fn.submit(ev.flag_id, ev)
            n += 0 if ack.duplicate else 1
            if ev.freeze:
                try:
                    await self.journal_fn.submit(
                        str(uuid.uuid5(uuid.UUID(ev.flag_id), "freeze")),
                        FreezeOrder(ev.order_id, f"flag: {ev.rule}", ev.rule))
                except KassaError as exc:  # already frozen, or a voided basket
                    log.info("not frozen: %s", exc)
        self.flagged += n
        return n

    @property
    def seq(self) -> int:
        return self.store.last_seq

    def apply(self, envs: list) -> None:
        if envs:
            try:
                self.store.ingest(envs)
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {str(exc)[:200]}"
                raise
            self.error = ""

    async def status(self) -> dict:
        """The copy's seq, its quarantined events and its last ingest error (for health)."""
        self._ensure()
        return {"seq": self.store.last_seq, "quarantined": self.store.quarantine(limit=0)["total"],
                "error": self.error}

    async def report(self, name: str, kwargs: dict | None = None, at_seq: int = 0,
                     wait_s: float = 10.0, strict: bool = False) -> Any:
        """Run report ``name`` once the copy holds everything up to ``at_seq`` (the journal's seq
        when asked), waiting up to ``wait_s``. A report that still lags says so (``lagging``,
        ``as_of_seq`` < ``journal_seq``) or, ``strict`` (a Z report at close), is refused."""
        if name not in REPORTS:
            from domain.errors import NotFound
            raise NotFound("report.unknown", f"no report {name!r}")
        if at_seq:
            await self.caught_up(at_seq, wait_s)
        self._ensure()
        return _plain(self.store.fresh_report(name, kwargs or {}, at_seq, strict))

    async def rebuild(self) -> int:
        """Drop the copy and derive it again from the journal (read-only; the ledger writes)."""
        from actors.journal import COLS, _env, connect
        con = connect(self.journal_path, readonly=True)
        try:
            rows = (_env(r) for r in con.execute(f"SELECT {COLS} FROM events ORDER BY seq"))
            return self.store.rebuild(rows)
        finally:
            con.close()


# ---------------------------------------------------------------- uploader and licence

class _JournalFn:
    """Journal an event body from a system actor (licence checks…) through the ledger."""

    def __init__(self, data_dir: str) -> None:
        self.ledger = ray.get_actor("ledger", namespace=NAMESPACE)
        self.rpc = ledger_channel(data_dir, self.ledger)

    async def __call__(self, body: Any) -> Any:
        import uuid
        return await self.submit(str(uuid.uuid4()), body)

    async def submit(self, cid: str, body: Any) -> Any:
        """Journal ``body`` under command id ``cid`` (the same id later has no second effect)."""
        req = Request(id=cid, cmd=command_hash("system", cid), body=body,
                      staff="system", till="", ip="")
        return await self.rpc.call("submit", req)


@ray.remote(**RESTART)
class UploaderActor:
    def __init__(self, data_dir: str, store_id: str, cloud_url: str) -> None:
        from actors.uploader import FileState, HttpTransport, JournalFileSource, Uploader
        from domain.ports import SystemClock
        self.up = None
        self.task: asyncio.Task | None = None
        self.stop = None
        secret_path = Path(data_dir) / "cloud_secret"
        self.configured = bool(cloud_url) and secret_path.exists()
        if self.configured:
            from actors.line import Line
            self.up = Uploader(JournalFileSource(Path(data_dir) / "journal.sqlite"),
                               HttpTransport(cloud_url, line=Line(Path(data_dir) / "line.lock")),
                               FileState(Path(data_dir) / "uploader.json"),
                               SystemClock(), store=store_id,
                               secret=secret_path.read_text().strip())

    def _ensure(self) -> None:
        if self.up is not None and (self.task is None or self.task.done()):
            self.stop = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self.up.run(self.stop))

    async def status(self) -> dict:
        self._ensure()
        if self.up is None:
            return {"configured": False}
        return {"configured": True, **(await self.up.status())}

    async def notify(self) -> None:
        self._ensure()
        if self.up is not None:
            self.up.notify()


@ray.remote(**RESTART)
class LicenceActor:
    def __init__(self, data_dir: str, store_id: str, cloud_url: str) -> None:
        from actors.licence import HttpTransport, LicenceKeeper
        from domain.ports import SystemClock
        from kassa_cli.licence import load_public_key
        self.data_dir = data_dir
        key = load_public_key(Path(data_dir))
        self.keeper = None
        self.task: asyncio.Task | None = None
        if key:
            from actors.line import Line
            self.keeper = LicenceKeeper(data_dir, store_id, key,
                                        HttpTransport(cloud_url, line=Line(
                                            Path(data_dir) / "line.lock")) if cloud_url else None,
                                        SystemClock(), _JournalFn(data_dir))

    async def _ensure(self) -> None:
        if self.keeper is None:
            return
        if getattr(self, "_start_lock", None) is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:  # calls arriving together start the keeper once
            if self.task is None or self.task.done():
                st = await ray.get_actor("ledger", namespace=NAMESPACE).status.remote()
                self.keeper.observe(st["last_ts"])
                await self.keeper.flush()
                self.task = asyncio.get_running_loop().create_task(
                    self.keeper.run(asyncio.Event()))

    def _missing(self) -> dict:
        return {"ok": False, "code": "licence.missing", "grace_days_left": 0, "warn": False,
                "message": "no licence is installed: kassa store licence install FILE"}

    async def status(self) -> dict:
        await self._ensure()
        return self.keeper.status() if self.keeper else self._missing()

    async def may_open_day(self) -> dict:
        await self._ensure()
        return await self.keeper.may_open_day() if self.keeper else self._missing()

    async def check_now(self) -> dict:
        await self._ensure()
        return await self.keeper.check_once() if self.keeper else self._missing()

    async def reload(self) -> dict:
        if self.keeper is None:
            return self._missing()
        self.keeper.reload()
        return self.keeper.status()


# ---------------------------------------------------------------- wiring

class Handles:
    """Handles on one store's actors, created or re-attached by name."""

    def __init__(self, data_dir: Path, config: StoreConfig) -> None:
        self.data_dir = Path(data_dir).absolute()  # the same path in every process
        self.config = config
        # all actors start in parallel: the others look the ledger and catalogue up by name,
        # and their calls wait until those are up
        self.ledger = LedgerActor.options(name="ledger", get_if_exists=True).remote(
            str(self.data_dir / "journal.sqlite"), limits=config.limits.to_dict())
        cfg = config.to_dict()
        self.catalogue = CatalogueActor.options(name="catalogue", get_if_exists=True).remote(
            str(self.data_dir), cfg)
        self.tills: dict[str, Any] = {}
        self.till_rpcs: dict[str, RpcClient | GatewayTill] = {}
        self.known_tills_path = self.data_dir / "tills.json"
        self.in_gateway = config.till_placement == "gateway"
        self.ledger_rpc = ledger_channel(str(self.data_dir), self.ledger)
        self._catalogue: CatalogueIndex | None = None  # shared by the tills hosted here
        self._catalogue_checked = 0.0
        self._catalogue_lock: asyncio.Lock | None = None
        if not self.in_gateway:  # the hot path first: Ray starts workers a few at a time
            for till_id in self.known_tills():
                self.till(till_id)
        self.stock = StockActor.options(name="stock", get_if_exists=True).remote(
            str(self.data_dir))
        self.wallet = WalletActor.options(name="wallet", get_if_exists=True).remote(
            str(self.data_dir))
        self.analytics = AnalyticsActor.options(name="analytics", get_if_exists=True).remote(
            str(self.data_dir), config.zone, config.store_id,
            float(os.environ.get("KASSA_FLAG_EVERY_S", "20")),
            {"open_minute": config.open_minute, "close_minute": config.close_minute,
             "discount_limit_bp": config.discount_limits.get("cashier", 1000)})
        self.uploader = UploaderActor.options(name="uploader", get_if_exists=True).remote(
            str(self.data_dir), config.store_id, config.cloud_url)
        self.licence = LicenceActor.options(name="licence", get_if_exists=True).remote(
            str(self.data_dir), config.store_id, config.cloud_url)

    def known_tills(self) -> list[str]:
        import orjson
        try:
            return list(orjson.loads(self.known_tills_path.read_bytes()))
        except (FileNotFoundError, ValueError):
            return []

    async def ready(self) -> None:
        """Wait until the selling path is up — ledger, catalogue, the tills with their baskets
        rebuilt — and wake the others, which finish starting in the background."""
        for h in (self.stock, self.wallet, self.analytics):
            h.ping.remote()
        self.uploader.status.remote()
        self.licence.status.remote()
        await asyncio.gather(self.ledger.serve.remote(), self.catalogue.version.remote(),
                             *(h.serve.remote() for h in self.tills.values()))
        if self.in_gateway:  # rebuild the known tills' open baskets now, not at the first scan
            await asyncio.gather(*(self.till_rpc(t).ready() for t in self.known_tills()))

    async def extra_status(self) -> dict:
        """Upload backlog and licence state, for the health endpoint and ``kassa store status``."""
        try:
            up, lic = await asyncio.wait_for(asyncio.gather(
                self.uploader.status.remote(), self.licence.status.remote()), 3.0)
        except asyncio.TimeoutError:  # still starting after a restart
            return {"upload": {"starting": True}, "licence": {"ok": None, "code": "licence.starting",
                                                              "message": "starting"}}
        return {"upload": up, "licence": {k: lic.get(k) for k in (
            "ok", "code", "message", "grace_days_left", "warn", "warn_code", "expires_days_left",
            "last_ok", "licence_id")}}

    def till(self, till_id: str) -> Any:
        h = self.tills.get(till_id)
        if h is None:
            h = TillActor.options(name=f"till:{till_id}", get_if_exists=True).remote(
                till_id, self.config.to_dict(), str(self.data_dir))
            self.tills[till_id] = h
            self._remember_till(till_id)
        return h

    def till_rpc(self, till_id: str) -> RpcClient | GatewayTill:
        """The till to send commands to: hosted here (``till_placement`` "gateway"), or the fast
        channel to its actor (created, and woken after a restart, through Ray). Both answer
        ``call("do", (cid, op, args, who))`` and ``call("view")``."""
        c = self.till_rpcs.get(till_id)
        if c is None:
            if self.in_gateway:
                c = GatewayTill(self, till_id)
                self._remember_till(till_id)
            else:
                h = self.till(till_id)
                c = RpcClient(socket_name(str(self.data_dir), f"till-{till_id}"), TILL_METHODS,
                              wake=lambda: h.serve.remote())
            self.till_rpcs[till_id] = c
        return c

    def _remember_till(self, till_id: str) -> None:
        known = self.known_tills()
        if till_id not in known:  # started again with the store, before the first sale
            import orjson
            from actors.files import atomic_write
            atomic_write(self.known_tills_path, orjson.dumps(sorted(known + [till_id])))

    async def catalogue_index(self) -> CatalogueIndex:
        """The catalogue as the tills hosted here see it (one copy for all of them). Reloaded
        after an update made through this gateway, and checked for other updates every
        ``CATALOGUE_CHECK_S`` (tills in actors are told by the catalogue actor itself)."""
        if self._catalogue_lock is None:
            self._catalogue_lock = asyncio.Lock()
        async with self._catalogue_lock:
            now = time.monotonic()
            if self._catalogue is not None and now - self._catalogue_checked > CATALOGUE_CHECK_S:
                self._catalogue_checked = now
                if await self.catalogue.version.remote() != self._catalogue.version:
                    self._catalogue = None
            if self._catalogue is None:
                version, products = await self.catalogue.snapshot.remote()
                # indexing a large catalogue takes a while: off the loop that serves the tills
                self._catalogue = await asyncio.get_running_loop().run_in_executor(
                    None, CatalogueIndex, products, version)
                self._catalogue_checked = now
            return self._catalogue

    def catalogue_changed(self) -> None:
        """A catalogue update committed: the tills here load it before their next command."""
        self._catalogue = None


class GatewayTill:
    """A till whose core lives in the gateway's own process (``till_placement`` "gateway").

    The same ``Till`` core and ``execute`` as ``TillActor``, one command at a time per till;
    what goes away is a process hop. On a 2-core store PC the two Unix-socket messages to a till
    actor and back cost more CPU than the till's own work (bench/checkout.py, README). The gateway
    crashing is the store server crashing, after which the till is rebuilt from the journal the
    same way (``Till.rebuild`` from its open baskets' events).
    """

    def __init__(self, handles: Handles, till_id: str) -> None:
        self.h = handles
        self.till_id = till_id
        self.core: Till | None = None
        self.lock = asyncio.Lock()

    async def ready(self) -> Till:
        async with self.lock:
            return await self._core()

    async def _core(self) -> Till:
        index = await self.h.catalogue_index()
        if self.core is None:
            core = Till(self.till_id, self.h.config, index)
            floor, envs = await self.h.ledger.till_state.remote(self.till_id)
            core.rebuild(envs, floor)
            self.core = core
        self.core.catalogue = index
        return self.core

    async def call(self, method: str, payload: Any = None) -> Any:
        async with self.lock:
            core = await self._core()
            if method == "do":
                return await execute(core, self.h.ledger_rpc.call, *payload)
            if method == "view":
                return core.view()
        raise ValueError(f"unknown method {method}")


def create_actors(data_dir: Path, config: StoreConfig) -> Handles:
    return Handles(data_dir, config)


def is_kassa_error(exc: BaseException) -> bool:
    return isinstance(unwrap(exc), KassaError)
