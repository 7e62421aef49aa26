"""Pieces of publishing: each product's JSON and content hash (``encode``), what changed in a
product field by field (``field_changes``, for the preview), and the signed bundles kept once built
(``BundleFiles``). The published catalogue itself is kept as rows (``cloud.publish_rows``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import private_dir
from cloud.licence import _atomic_write as write_atomic

__all__ = ["Encoded", "encode", "field_changes", "BundleFiles"]


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


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs (absent = None)."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            out[key] = [a, b]
    return out


class BundleFiles:
    """One store's signed bundles, kept once built: ``full-<N>.bundle`` and
    ``delta-<B>-<N>.bundle`` in ``<hq>/publish/stores/<store>/`` (0700, files 0600)."""

    def __init__(self, root: Path, store: str) -> None:
        self.dir = root / "stores" / store

    def bundle_path(self, version: int, base: int | None = None) -> Path:
        name = f"full-{version}.bundle" if base is None else f"delta-{base}-{version}.bundle"
        return self.dir / name

    def read_bundle(self, version: int, base: int | None = None) -> bytes | None:
        try:
            return self.bundle_path(version, base).read_bytes()
        except FileNotFoundError:
            return None

    def write_bundle(self, data: bytes, version: int, base: int | None = None) -> None:
        private_dir(self.dir)
        write_atomic(self.bundle_path(version, base), data)

    def prune(self, newest: int) -> None:
        """Remove the bundles of versions before ``newest`` (no store is sent them any more),
        and the snapshot files an earlier HQ kept (``<N>.lines``, ``.hashes``, ``.meta``)."""
        if not self.dir.is_dir():
            return
        for p in self.dir.iterdir():
            stem, _, ext = p.name.partition(".")
            if p.name.startswith(".") or ext not in ("bundle", "lines", "hashes", "meta"):
                continue
            try:
                v = int(stem.rsplit("-", 1)[-1])
            except ValueError:
                continue
            if v < newest:
                p.unlink(missing_ok=True)
