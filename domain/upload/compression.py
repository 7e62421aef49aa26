"""The body's encoding on the wire (``X-Kassa-Encoding``): zstd, or raw LZMA2 (``xz``) on a slow
line. Decompression is bounded: a body that would grow past the limit is refused before it does."""

from __future__ import annotations

import lzma
from typing import Any

import zstandard

from domain.upload.batch import ProtocolError
from domain.upload.request import MAX_RAW

__all__ = ["compress", "compress_xz", "decompress", "XZ_FILTERS"]

_cctx: dict[int, zstandard.ZstdCompressor] = {}

# ``X-Kassa-Encoding: xz``: raw LZMA2 with these fixed settings (a 1 MiB window: bounded memory on
# both sides, and a sender cannot pick another); about 6 % smaller than zstd -19 on a slow line's
# batches, for CPU the store has to spare there
XZ_FILTERS: list[dict[str, Any]] = [
    {
        "id": lzma.FILTER_LZMA2,
        "dict_size": 1 << 20,
        "preset": 9 | lzma.PRESET_EXTREME,
        "lc": 4,
        "lp": 0,
        "pb": 0,
    }
]


def compress(raw: bytes, level: int = 3) -> bytes:
    c = _cctx.get(level)
    if c is None:
        c = _cctx[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return c.compress(raw)


def compress_xz(raw: bytes) -> bytes:
    return lzma.compress(raw, format=lzma.FORMAT_RAW, filters=XZ_FILTERS)


def decompress(data: bytes, limit: int = MAX_RAW, encoding: str = "zstd") -> bytes:
    if encoding == "xz":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=XZ_FILTERS)
        try:
            out = d.decompress(data, max_length=limit + 1)
        except lzma.LZMAError as exc:
            raise ProtocolError("ingest.bad_encoding", f"not an LZMA2 stream: {exc}") from None
        if len(out) > limit:
            raise ProtocolError("ingest.too_large", "the batch is too large once decompressed")
        if not d.eof or d.unused_data:
            raise ProtocolError("ingest.bad_encoding", "a truncated or padded LZMA2 stream")
        return out
    try:
        params = zstandard.get_frame_parameters(data)
        if params.content_size > limit:
            raise ProtocolError("ingest.too_large", "the batch is too large once decompressed")
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=limit)
    except zstandard.ZstdError as exc:
        raise ProtocolError("ingest.bad_encoding", f"not a zstd frame: {exc}") from None
