"""HQ's copy of a store's backups, from the store's side (``cloud.backups`` is HQ's side).

Every request is signed with the store's upload secret exactly like an upload
(``domain.upload.signed_headers``). A POST signs its body; a GET signs ``b"GET " + path?query``,
so nobody can change what it asks for.

* ``POST /v1/backups``: one piece of a backup. The body is one JSON line ``{"name", "size",
  "sha256", "offset"}`` then the piece's bytes. HQ appends it if ``offset`` is what it holds of
  that file and answers ``{"received", "complete"}`` (409 ``backup.offset`` with ``received``
  otherwise), so an upload cut by a thin line resumes where it stopped, even after a restart.
  Pieces are sized to the line (about 5 s each). Before each piece the sender waits while the
  event uploader has a backlog or priority traffic holds the line (``actors.line``): sales go
  first; after ``MAX_WAIT_S`` of waiting it gives up until the next backup (HQ keeps the part).
* ``GET /v1/backups/latest[?offset=N]``: HQ's newest complete backup of this store (from byte N).
* ``GET /v1/backups/events?after=N``: the events HQ holds past seq N (a page), with HQ's head.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from actors.backup_archive import BackupError, Progress
from domain.backup_format import sha256_of
from domain.upload import signed_headers

__all__ = ["HqBackups", "upload_newest", "append_tail", "BACKUP_TYPE", "MAX_WAIT_S"]

log = logging.getLogger(__name__)
BACKUP_TYPE = "application/vnd.kassa.backup"
MAX_WAIT_S = 900.0
MIN_PIECE, MAX_PIECE = 64 * 1024, 8 * 1024 * 1024
BACKLOG_EVENTS = 500  # the event uploader is behind by more than this: the backup waits


class HqBackups:
    def __init__(self, cloud_url: str, store: str, secret: str, timeout_s: float = 60.0) -> None:
        self.url = cloud_url.rstrip("/")
        self.store = store
        try:
            self.secret = bytes.fromhex(secret.strip())
        except ValueError:
            raise BackupError(
                "backup.hq_refused", "the secret is the store's hex upload secret"
            ) from None
        self.timeout_s = timeout_s
        self.offset_s = 0  # learned from HQ when it says our clock is off

    # ------------------------------------------------------------ one signed request
    def _request(
        self, method: str, path: str, body: bytes = b"", timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            signed = body if method == "POST" else b"GET " + path.encode()
            headers = signed_headers(
                self.secret,
                self.store,
                int(time.time()) + self.offset_s,
                signed,
                content_type=BACKUP_TYPE,
                encoding=None,
            )
            req = urllib.request.Request(
                self.url + path, data=body if method == "POST" else None, method=method
            )
            for k, v in headers.items():
                req.add_header(k, v)
            try:
                with urllib.request.urlopen(req, timeout=timeout or self.timeout_s) as r:
                    return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                status, hdrs = exc.code, {k.lower(): v for k, v in exc.headers.items()}
            except (OSError, ValueError) as exc:
                raise BackupError(
                    "backup.hq_unreachable", f"HQ ({self.url}) does not answer: {exc}"
                ) from None
            doc = _json(raw)
            if attempt == 0 and status == 401 and doc.get("code") == "auth.stale":
                self.offset_s -= int(doc.get("skew_s") or 0)  # sign on HQ's clock and ask again
                continue
            return status, hdrs, raw
        raise AssertionError("unreachable")

    def _refused(self, status: int, raw: bytes) -> BackupError:
        doc = _json(raw)
        code = str(doc.get("code") or f"http {status}")
        if status == 401:
            return BackupError(
                "backup.hq_refused",
                f"HQ refused the store's credentials ({code}): check --store and --secret",
            )
        return BackupError("backup.hq_refused", f"HQ refused: {code}: {doc.get('message', '')}")

    # ------------------------------------------------------------ upload
    def upload(
        self,
        path: Path,
        wait: Callable[[], None] = lambda: None,
        progress: Progress | None = None,
        piece: int = 256 * 1024,
    ) -> dict[str, Any]:
        """Send ``path`` to HQ, resuming where HQ's part ends; ``wait()`` runs before each piece."""
        size = path.stat().st_size
        digest = _sha256(path)
        meta = {"name": path.name, "size": size, "sha256": digest}
        offset = self._send(meta, 0, b"")["received"]  # what HQ holds of it already
        with open(path, "rb") as fh:
            while offset < size:
                wait()
                fh.seek(offset)
                chunk = fh.read(piece)
                t0 = time.monotonic()
                answer = self._send(meta, offset, chunk, timeout=30 + len(chunk) / 2000)
                dt = max(time.monotonic() - t0, 0.01)
                offset = answer["received"]
                piece = int(min(MAX_PIECE, max(MIN_PIECE, len(chunk) / dt * 5)))
                if progress is not None:
                    progress(offset, size)
        return {"name": path.name, "size": size, "sha256": digest}

    def _send(self, meta: dict, offset: int, chunk: bytes, timeout: float = 60.0) -> dict:
        body = orjson.dumps({**meta, "offset": offset}) + b"\n" + chunk
        status, _, raw = self._request("POST", "/v1/backups", body, timeout)
        doc = _json(raw)
        if status == 200 or (status == 409 and doc.get("code") == "backup.offset"):
            return {"received": int(doc.get("received", 0)), "complete": bool(doc.get("complete"))}
        raise self._refused(status, raw)

    # ------------------------------------------------------------ restore
    def download_latest(self, folder: Path, progress: Progress | None = None) -> Path:
        """HQ's newest backup of this store into ``folder`` (resuming a part already there)."""
        status, hdrs, raw = self._request("GET", "/v1/backups/latest?offset=0&probe=1")
        if status == 404:
            raise BackupError(
                "backup.none_at_hq",
                "HQ holds no backup of this store. What is possible: restore a backup file "
                "(--from FILE, e.g. from the USB disk), or start an empty store; HQ still holds "
                f"every event it received ({self._held_text()}), but without a backup the "
                "store's settings, catalogue and secrets are not there",
            )
        if status != 200:
            raise self._refused(status, raw)
        name, size = hdrs.get("x-kassa-backup-name", ""), int(hdrs.get("x-kassa-backup-size", 0))
        want = hdrs.get("x-kassa-backup-sha256", "")
        if not name or "/" in name or not name.endswith(".kbak"):
            raise BackupError("backup.hq_refused", "HQ's answer names no backup file")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        final, part = folder / name, folder / (name + ".part")
        if final.exists() and _sha256(final) == want:  # fetched by an earlier run
            return final
        done = part.stat().st_size if part.exists() else 0
        with open(part, "ab") as out:
            while done < size:
                status, _, raw = self._request(
                    "GET", f"/v1/backups/latest?offset={done}", timeout=self.timeout_s + 60
                )
                if status != 200 or not raw:
                    raise self._refused(status, raw)
                out.write(raw)
                done += len(raw)
                if progress is not None:
                    progress(done, size)
        if _sha256(part) != want:
            part.unlink()
            raise BackupError("backup.tampered", "HQ's backup does not match its checksum")
        part.rename(final)
        return final

    def events(self, after: int) -> tuple[tuple[int, bytes], Iterator[tuple]]:
        """HQ's head (held seq, hash) and the events it holds past ``after``, page by page."""
        first = self._events_page(after)
        head = (int(first["held"]), bytes.fromhex(first["head"]))

        def rows() -> Iterator[tuple]:
            page = first
            while True:
                batch = page["events"]
                for r in batch:
                    yield (*r[:9], base64.b64decode(r[9]), bytes.fromhex(r[10]))
                if not batch or batch[-1][0] >= head[0]:
                    return
                page = self._events_page(batch[-1][0])

        return head, rows()

    def _events_page(self, after: int) -> dict:
        status, _, raw = self._request("GET", f"/v1/backups/events?after={int(after)}")
        if status != 200:
            raise self._refused(status, raw)
        return _json(raw)

    def _held_text(self) -> str:
        try:
            return f"up to seq {self._events_page(0)['held']}"
        except (BackupError, KeyError):
            return "its events"


def _json(raw: bytes) -> dict:
    try:
        doc = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_of(fh)[0]


def _backlog(data_dir: Path) -> int:
    """Events the event uploader has not had acknowledged yet."""
    try:
        acked = int(orjson.loads((data_dir / "uploader.json").read_bytes()).get("acked", 0))
    except (OSError, orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        acked = 0
    con = sqlite3.connect(f"file:{data_dir / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]) - acked
    finally:
        con.close()


def sales_first(data_dir: Path, max_wait_s: float = MAX_WAIT_S) -> Callable[[], None]:
    """A ``wait`` for ``HqBackups.upload``: returns once the event uploader has (almost) no
    backlog and no priority traffic holds the line; raises ``backup.skipped`` after waiting
    ``max_wait_s`` in all."""
    from actors.line import Line

    line = Line(data_dir / "line.lock")
    waited = [0.0]

    def wait() -> None:
        while _backlog(data_dir) > BACKLOG_EVENTS or line.busy():
            if waited[0] >= max_wait_s:
                raise BackupError(
                    "backup.skipped", "the line is busy with sales: HQ gets this backup later"
                )
            time.sleep(1.0)
            waited[0] += 1.0

    return wait


def upload_newest(data_dir: Path, path: Path) -> dict[str, Any]:
    """Send the backup just taken to HQ if the store is linked; the outcome, for the status."""
    from actors.backup import store_id_of

    try:
        cloud = str(orjson.loads((data_dir / "store.json").read_bytes()).get("cloud_url") or "")
        secret = (data_dir / "cloud_secret").read_text().strip()
    except (OSError, orjson.JSONDecodeError, AttributeError):
        cloud, secret = "", ""
    if not cloud or not secret:
        return {"ok": False, "skipped": "not linked to HQ"}
    try:
        hq = HqBackups(cloud, store_id_of(data_dir), secret)
        sent = hq.upload(path, sales_first(data_dir))
    except BackupError as exc:
        log.warning("backup to HQ: %s", exc.message)
        return {"ok": False, "error": exc.message, "code": exc.code}
    return {"ok": True, "at_us": int(time.time() * 1e6), **sent}


def append_tail(journal: Path, rows: Iterable[tuple]) -> int:
    """Append rows HQ holds (an envelope's columns, ``domain.journal_format``) after the
    journal's end; the chain is checked afterwards with the rest. Their command hash is unknown
    (HQ does not keep it): empty."""
    con = sqlite3.connect(str(journal), isolation_level=None)
    n = 0
    try:
        con.execute("BEGIN IMMEDIATE")
        last = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        for r in rows:
            if r[0] <= last:
                continue
            con.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (*r[:10], b"", r[10])
            )
            last, n = r[0], n + 1
        con.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise BackupError("backup.journal_broken", f"HQ's events do not fit: {exc}") from None
    finally:
        con.close()
    return n
