"""Open a PDF well enough for a test, without a PDF library: check its structure (header, pages,
cross-reference table, end marker) and decode the page images it holds (DCT = JPEG, Flate)."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

from PIL import Image

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)


def pdf_images(path: Path) -> list[Image.Image]:
    """The page images of a PDF written by Pillow (one image per page), decoded. Raises
    AssertionError when the file is not a well-formed PDF."""
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-1."), "no PDF header"
    assert data.rstrip().endswith(b"%%EOF"), "no end marker"
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    assert data[start : start + 4] == b"xref", "startxref does not point at the xref table"
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    images: list[Image.Image] = []
    for _, body in _OBJ.findall(data):
        if b"/Subtype /Image" not in body and b"/Subtype/Image" not in body:
            continue
        head, _, rest = body.partition(b"stream")
        raw = rest.lstrip(b"\r\n").rsplit(b"endstream", 1)[0]
        w = int(re.search(rb"/Width\s+(\d+)", head).group(1))
        h = int(re.search(rb"/Height\s+(\d+)", head).group(1))
        if b"DCTDecode" in head:
            img = Image.open(io.BytesIO(raw))
            img.load()
        else:
            raw = zlib.decompress(raw) if b"FlateDecode" in head else raw
            mode = "RGB" if b"DeviceRGB" in head else "L"
            img = Image.frombytes(mode, (w, h), raw[: w * h * len(mode)])
        assert img.size == (w, h)
        images.append(img)
    assert pages and len(images) == pages, (pages, len(images))
    return images
