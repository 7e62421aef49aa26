"""What a store got in one published catalogue version, kept so HQ answers deltas quickly.

A published version of a store is a *snapshot*: every product the store gets (its JSON, one line
each), each product's content hash (BLAKE2b, 8 bytes, over that JSON),
the scheduled prices, the fields a store may override and the store's profile. Files, in
``<hq>/publish/stores/<store>/`` (0700 folders, 0600 files, written atomically):

    <N>.hashes     {sku: hash}: kept for the last ``KEEP_HASHES`` versions (the bases a delta
                   can start from; an older base gets a full bundle)
    <N>.lines      the products' JSON, one per line, in the order of ``<N>.hashes``
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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import private_dir
from cloud.licence import _atomic_write as write_atomic

__all__ = [
    "Encoded",
    "encode",
    "diff",
    "field_changes",
    "SnapshotFiles",
    "KEEP_HASHES",
]

KEEP_HASHES = 12  # versions a delta can start from, per store


@dataclass(slots=True)
class Encoded:
    """Products as JSON (``lines``) with their hashes by SKU, in the same order."""

    lines: list[bytes]
    hashes: dict[str, str]


def encode(products: list[dict[str, Any]]) -> Encoded:
    """The JSON of each product and its content hash (a later duplicate SKU wins, as in
    ``apply_delta``, and keeps its first position). The same dict (same keys in the same order,
    as master data writes them) always gives the same hash; a key order that differs makes a
    product look changed, which only adds it to a delta."""
    lines = _split(products)
    if lines is None:  # products whose first key is not "sku": one dumps per product
        lines = [orjson.dumps(p) for p in products]
    blake = hashlib.blake2b
    skus = [str(p["sku"]) for p in products]
    pairs = zip(skus, lines, strict=True)
    hashes = {sku: blake(line, digest_size=8).hexdigest() for sku, line in pairs}
    if len(hashes) == len(lines):
        return Encoded(lines, hashes)
    out: list[bytes] = []  # a SKU twice: the later product in the earlier place
    at: dict[str, int] = {}
    for sku, line in zip(skus, lines, strict=True):
        i = at.get(sku)
        if i is None:
            at[sku] = len(out)
            out.append(line)
        else:
            out[i] = line
    return Encoded(out, hashes)


_SKU_FIRST = b',{"sku":'


def _split(products: list[dict[str, Any]]) -> list[bytes] | None:
    """Each product's JSON from one ``orjson.dumps`` of the list (many times faster than one call
    per product), cut where a product begins: ``{"sku":`` after a comma cannot occur inside a JSON
    string (its quote would be escaped); if it occurs inside a product, the count tells (None)."""
    if not products or any(next(iter(p), None) != "sku" for p in products):
        return None
    parts = orjson.dumps(products)[1:-1].split(_SKU_FIRST)
    if len(parts) != len(products):
        return None
    head = _SKU_FIRST[1:]
    return [parts[0], *(head + x for x in parts[1:])]


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


class SnapshotFiles:
    """One store's snapshot files (see the module's text)."""

    def __init__(self, root: Path, store: str) -> None:
        self.dir = root / "stores" / store

    def _p(self, name: str) -> Path:
        return self.dir / name

    def write(self, version: int, enc: Encoded, meta: dict[str, Any]) -> None:
        private_dir(self.dir)
        write_atomic(self._p(f"{version}.lines"), b"\n".join(enc.lines))
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
