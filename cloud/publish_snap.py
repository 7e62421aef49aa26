"""What a store got in one published catalogue version, kept so HQ answers deltas quickly.

A published version of a store is a *snapshot*: every product the store gets (canonical JSON, one
line each), each product's content hash (BLAKE2b, 8 bytes, over its canonical JSON: sorted keys),
the scheduled prices, the fields a store may override and the store's profile. Files, in
``<hq>/publish/stores/<store>/`` (0700 folders, 0600 files, written atomically):

    <N>.hashes     {sku: hash}: kept for the last ``KEEP_HASHES`` versions (the bases a delta
                   can start from; an older base gets a full bundle)
    <N>.lines      the products' canonical JSON, one per line, in the order of ``<N>.hashes``
    <N>.meta       {"prices", "store_fields", "profile"} of that version
    full-<N>.bundle          the signed full bundle of version N
    delta-<B>-<N>.bundle     a signed delta from B to N, built once and kept while N is the newest

A delta from any held version B to the newest N compares two hash maps (no product is parsed but
those added or changed) and reads only the changed products' lines.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import PRIVATE_FILE, private_dir

__all__ = [
    "Encoded",
    "encode",
    "diff",
    "field_changes",
    "write_atomic",
    "SnapshotFiles",
    "KEEP_HASHES",
]

KEEP_HASHES = 12  # versions a delta can start from, per store
_SORT = orjson.OPT_SORT_KEYS


@dataclass(slots=True)
class Encoded:
    """Products in canonical JSON (``lines``) with their hashes by SKU, in the same order."""

    lines: list[bytes]
    hashes: dict[str, str]


def encode(products: Iterable[dict[str, Any]]) -> Encoded:
    """Canonical JSON and content hash of each product (a later duplicate SKU wins, as in
    ``apply_delta``; it keeps its first position)."""
    lines: list[bytes] = []
    hashes: dict[str, str] = {}
    at: dict[str, int] = {}
    blake = hashlib.blake2b
    for p in products:
        line = orjson.dumps(p, option=_SORT)
        sku = str(p["sku"])
        i = at.get(sku)
        if i is None:
            at[sku] = len(lines)
            lines.append(line)
        else:
            lines[i] = line
        hashes[sku] = blake(line, digest_size=8).hexdigest()
    return Encoded(lines, hashes)


def diff(base: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) SKUs from hash map ``base`` to hash map ``new``."""
    added: list[str] = []
    changed: list[str] = []
    get = base.get
    for sku, h in new.items():
        old = get(sku)
        if old is None:
            added.append(sku)
        elif old != h:
            changed.append(sku)
    removed = [sku for sku in base if sku not in new]
    return added, changed, removed


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs (absent = None)."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            out[key] = [a, b]
    return out


def write_atomic(path: Path, data: bytes | Iterable[bytes], mode: int = PRIVATE_FILE) -> None:
    """Write ``data`` (bytes, or chunks) to ``path`` through a temporary file and a rename."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                fh.writelines(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SnapshotFiles:
    """One store's snapshot files (see the module's text)."""

    def __init__(self, root: Path, store: str) -> None:
        self.dir = root / "stores" / store

    def _p(self, name: str) -> Path:
        return self.dir / name

    def write(self, version: int, enc: Encoded, meta: dict[str, Any]) -> None:
        private_dir(self.dir)
        write_atomic(self._p(f"{version}.lines"), _joined(enc.lines))
        write_atomic(self._p(f"{version}.meta"), orjson.dumps(meta))
        write_atomic(self._p(f"{version}.hashes"), orjson.dumps(enc.hashes))

    def has(self, version: int) -> bool:
        return self._p(f"{version}.hashes").is_file()

    def hashes(self, version: int) -> dict[str, str] | None:
        try:
            data = self._p(f"{version}.hashes").read_bytes()
        except FileNotFoundError:
            return None
        out: dict[str, str] = orjson.loads(data)
        return out

    def meta(self, version: int) -> dict[str, Any]:
        out: dict[str, Any] = orjson.loads(self._p(f"{version}.meta").read_bytes())
        return out

    def products(self, version: int, hashes: dict[str, str], skus: Iterable[str]) -> list[dict]:
        """The products ``skus`` of ``version`` (``hashes`` is that version's map, whose order is
        the order of its lines)."""
        want = set(skus)
        if not want:
            return []
        out: list[dict] = []
        with open(self._p(f"{version}.lines"), "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return out
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                pos = 0
                for sku in hashes:
                    end = mm.find(b"\n", pos)
                    end = len(mm) if end < 0 else end
                    if sku in want:
                        out.append(orjson.loads(mm[pos:end]))
                        if len(out) == len(want):
                            break
                    pos = end + 1
        return out

    def all_products(self, version: int) -> list[dict]:
        data = self._p(f"{version}.lines").read_bytes()
        if not data:
            return []
        out: list[dict] = orjson.loads(b"[" + data.replace(b"\n", b",") + b"]")
        return out

    def bundle_path(self, version: int, base: int | None = None) -> Path:
        return self._p(
            f"full-{version}.bundle" if base is None else f"delta-{base}-{version}.bundle"
        )

    def read_bundle(self, version: int, base: int | None = None) -> bytes | None:
        try:
            return self.bundle_path(version, base).read_bytes()
        except FileNotFoundError:
            return None

    def write_bundle(self, data: bytes, version: int, base: int | None = None) -> None:
        write_atomic(self.bundle_path(version, base), data)

    def prune(self, newest: int, keep: list[int]) -> None:
        """Remove what no answer needs any more: lines, meta and bundles of versions before
        ``newest``, hashes of versions not in ``keep`` (the last few)."""
        if not self.dir.is_dir():
            return
        for p in self.dir.iterdir():
            name = p.name
            if name.startswith("."):
                continue
            stem, _, ext = name.partition(".")
            try:
                if ext in ("lines", "meta"):
                    drop = int(stem) < newest
                elif ext == "hashes":
                    drop = int(stem) < newest and int(stem) not in keep
                elif ext == "bundle":
                    drop = int(stem.rsplit("-", 1)[1]) < newest
                else:
                    continue
            except (ValueError, IndexError):
                continue
            if drop:
                p.unlink(missing_ok=True)


def _joined(lines: list[bytes]) -> Iterable[bytes]:
    """``lines`` joined by newlines, in chunks (no second copy of a 100 MB catalogue)."""
    step = 4096
    for i in range(0, len(lines), step):
        chunk = b"\n".join(lines[i : i + step])
        yield chunk if i + step >= len(lines) else chunk + b"\n"
