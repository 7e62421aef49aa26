"""HQ's copy of each store's backups (mounted through ``cloud.app.OPTIONAL_PARTS``).

    POST /v1/backups                       store: one piece of a backup (``actors.backup_hq``)
    GET  /v1/backups/latest[?offset=N]     store: the store's newest complete backup, from byte N
    GET  /v1/backups/events?after=N        store: the events HQ holds past seq N, and HQ's head
    GET  /v1/hq/backups[?store=S001]       hq (admin, support): the backups held per store

Store routes are signed with the store's upload secret and checked by ``cloud.ingest``'s
``authenticate`` (a GET signs ``b"GET " + path?query``). A store reads and writes only its own
backups. Files: ``<data>/stores/<id>/backups/<name>.kbak`` (0600 in 0700 folders); one part being
received per store (``.part`` and ``.part.json``); a complete file is checked against the sha256
its sender named and its manifest must name the store; the newest ``KEEP`` are kept. A backup is
at most ``MAX_BACKUP`` bytes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import tarfile
import threading
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.app import EXECUTOR, INGESTOR
from cloud.hqauth import HQ, STORE, declare, private_dir, private_file
from domain.backup_crypt import sealed_manifest
from domain.backup_format import MANIFEST, BackupError, Manifest, sha256_of
from domain.upload import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS

__all__ = ["setup", "BackupStore", "KEEP", "MAX_BACKUP"]

KEEP = 3
MAX_BACKUP = 8 * 1024**3
PIECE_OUT = 8 * 1024 * 1024  # bytes per answer of GET /v1/backups/latest
EVENTS_PAGE = 5000
_NAME = re.compile(r"^kassa-[A-Za-z0-9_-]{1,32}-\d{8}T\d{6}Z-\d{1,19}\.kbak$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _refuse(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return _json({"ok": False, "code": code, "message": message, **extra}, status)


class BackupStore:
    """The files; thread-safe (a lock per store)."""

    def __init__(self, data_dir: Path, keep: int = KEEP, max_bytes: int = MAX_BACKUP) -> None:
        self.dir = Path(data_dir)
        self.keep, self.max_bytes = keep, max_bytes
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def folder(self, store: str) -> Path:
        return private_dir(self.dir / "stores" / store / "backups")

    def lock(self, store: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(store, threading.Lock())

    def complete(self, store: str) -> list[Path]:
        """The store's complete backups, oldest first (the names sort by time)."""
        d = self.dir / "stores" / store / "backups"
        if not d.is_dir():
            return []
        return sorted(p for p in d.iterdir() if _NAME.match(p.name))

    def receive(self, store: str, meta: dict[str, Any], chunk: bytes) -> tuple[int, dict]:
        name, size, digest, offset = (meta.get(k) for k in ("name", "size", "sha256", "offset"))
        if (
            not isinstance(name, str)
            or not _NAME.match(name)
            or not name.startswith(f"kassa-{store}-")
            or not isinstance(size, int)
            or not isinstance(offset, int)
            or not isinstance(digest, str)
            or not _HEX64.match(digest)
            or isinstance(size, bool)
            or offset < 0
        ):
            return 400, {
                "code": "backup.bad_request",
                "message": "not a backup piece of this store",
            }
        if size > self.max_bytes or offset + len(chunk) > size:
            return 413, {
                "code": "backup.too_large",
                "message": f"a backup is at most {self.max_bytes} bytes",
            }
        with self.lock(store):
            folder = self.folder(store)
            final = folder / name
            if final.exists():
                return 200, {"received": size, "complete": True}
            part, info = folder / ".part", folder / ".part.json"
            held = 0
            try:
                cur = orjson.loads(info.read_bytes())
                if cur == {"name": name, "size": size, "sha256": digest} and part.exists():
                    held = part.stat().st_size
            except (OSError, orjson.JSONDecodeError):
                pass
            if held == 0 and offset == 0:  # a new file: the part of any other one is dropped
                part.unlink(missing_ok=True)
                info.write_bytes(orjson.dumps({"name": name, "size": size, "sha256": digest}))
                private_file(info)
                fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.close(fd)
            if offset != held:
                return 409, {
                    "code": "backup.offset",
                    "message": f"HQ holds {held} bytes of {name}",
                    "received": held,
                }
            with open(part, "ab") as fh:
                fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            held += len(chunk)
            if held < size:
                return 200, {"received": held, "complete": False}
            return self._finish(store, part, info, final, digest)

    def _finish(
        self, store: str, part: Path, info: Path, final: Path, digest: str
    ) -> tuple[int, dict]:
        try:
            if _sha256(part) != digest:
                raise BackupError("backup.tampered", "the file does not match its sha256")
            if read_manifest(part).store != store:
                raise BackupError("backup.tampered", "the backup is another store's")
        except BackupError as exc:
            part.unlink(missing_ok=True)
            info.unlink(missing_ok=True)
            return 400, {"code": exc.code, "message": exc.message, "received": 0}
        os.replace(part, final)
        info.unlink(missing_ok=True)
        final.with_name(final.name + ".sha256").write_text(digest)
        private_file(final.with_name(final.name + ".sha256"))
        for old in self.complete(store)[: -self.keep]:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".sha256").unlink(missing_ok=True)
        return 200, {"received": final.stat().st_size, "complete": True}

    def listing(self, store: str | None) -> list[dict[str, Any]]:
        stores = (
            [store]
            if store
            else sorted(p.name for p in (self.dir / "stores").iterdir() if p.is_dir())
            if (self.dir / "stores").is_dir()
            else []
        )
        out = []
        for s in stores:
            for p in reversed(self.complete(s)):
                row: dict[str, Any] = {"store": s, "name": p.name, "size": p.stat().st_size}
                try:
                    m = read_manifest(p)
                    row.update(seq=m.seq, created=m.created, code_version=m.code_version)
                except BackupError:
                    row["unreadable"] = True
                out.append(row)
        return out


BACKUPS = web.AppKey("backups", BackupStore)


def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup file (its first member; a sealed one's header repeats it: HQ
    holds the ciphertext only)."""
    header = sealed_manifest(path)
    if header is not None:
        return Manifest.from_bytes(orjson.dumps(header))
    try:
        with tarfile.open(path, mode="r:") as tar:
            first = tar.next()
            fh = tar.extractfile(first) if first is not None and first.name == MANIFEST else None
            if fh is None:
                raise BackupError("backup.bad_archive", "the file has no manifest")
            return Manifest.from_bytes(fh.read(1 << 20))
    except (tarfile.TarError, OSError) as exc:
        raise BackupError("backup.bad_archive", f"not a backup: {exc}") from None


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


async def _store_of(request: web.Request, signed: bytes) -> tuple[str | None, web.Response | None]:
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    refused = await _run(request, request.app[INGESTOR].authenticate, headers, signed)
    if refused is not None:
        return None, _json(refused.body, refused.status)
    return headers[H_STORE], None


async def post_backup(request: web.Request) -> web.Response:
    body = await request.read()
    store, refused = await _store_of(request, body)
    if refused is not None or store is None:
        return refused or _refuse(401, "auth.missing", "the request is not signed")
    head, _, chunk = body.partition(b"\n")
    try:
        meta = orjson.loads(head)
        assert isinstance(meta, dict)
    except (orjson.JSONDecodeError, AssertionError):
        return _refuse(400, "backup.bad_request", "the body is a JSON line, then the bytes")
    status, doc = await _run(request, request.app[BACKUPS].receive, store, meta, chunk)
    return _json({"ok": status == 200, **doc}, status)


def _int(request: web.Request, key: str) -> int:
    try:
        return max(0, int(request.query.get(key, "0")))
    except ValueError:
        return -1


async def latest(request: web.Request) -> web.Response:
    store, refused = await _store_of(request, b"GET " + request.raw_path.encode())
    if refused is not None or store is None:
        return refused or _refuse(401, "auth.missing", "the request is not signed")
    files = request.app[BACKUPS].complete(store)
    if not files:
        return _refuse(404, "backup.none", "HQ holds no backup of this store")
    path, offset = files[-1], _int(request, "offset")
    size = path.stat().st_size
    if offset < 0 or offset > size:
        return _refuse(400, "backup.bad_request", "offset is a byte position in the file")
    digest = await _run(request, _digest, path)
    n = 0 if request.query.get("probe") else min(PIECE_OUT, size - offset)
    data = await _run(request, _read, path, offset, n)
    headers = {
        "X-Kassa-Backup-Name": path.name,
        "X-Kassa-Backup-Size": str(size),
        "X-Kassa-Backup-Sha256": digest,
    }
    return web.Response(body=data, headers=headers, content_type="application/octet-stream")


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_of(fh)[0]


def _digest(path: Path) -> str:
    """A complete backup's sha256, kept beside it when it arrived."""
    try:
        return path.with_name(path.name + ".sha256").read_text().strip()
    except OSError:
        return _sha256(path)


def _read(path: Path, offset: int, n: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(n)


async def events(request: web.Request) -> web.Response:
    store, refused = await _store_of(request, b"GET " + request.raw_path.encode())
    if refused is not None or store is None:
        return refused or _refuse(401, "auth.missing", "the request is not signed")
    after = _int(request, "after")
    if after < 0:
        return _refuse(400, "backup.bad_request", "after is a seq")

    def page() -> dict[str, Any]:
        lg, lock = request.app[INGESTOR].event_log(store)
        with lock:
            rows = lg.read(after, EVENTS_PAGE)
            held, head = lg.held, lg.head
        return {
            "held": held,
            "head": head.hex(),
            "events": [
                [*r[:9], base64.b64encode(bytes(r[9])).decode(), bytes(r[10]).hex()] for r in rows
            ],
        }

    return _json(await _run(request, page))


async def hq_backups(request: web.Request) -> web.Response:
    store = request.query.get("store") or None
    rows = await _run(request, request.app[BACKUPS].listing, store)
    return _json({"backups": rows})


def setup(app: web.Application, data_dir: Path) -> None:
    app[BACKUPS] = BackupStore(Path(data_dir))
    declare("POST", "/v1/backups", STORE)
    declare("GET", "/v1/backups/latest", STORE)
    declare("GET", "/v1/backups/events", STORE)
    declare("GET", "/v1/hq/backups", HQ, ("support",))
    app.router.add_post("/v1/backups", post_backup)
    app.router.add_get("/v1/backups/latest", latest)
    app.router.add_get("/v1/backups/events", events)
    app.router.add_get("/v1/hq/backups", hq_backups)
