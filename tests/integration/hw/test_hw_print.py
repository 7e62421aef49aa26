"""A receipt in each language through a real python-escpos network printer to a loopback TCP
"printer" on 127.0.0.1, with the captured ESC/POS bytes checked; PNG previews saved as artifacts."""

from __future__ import annotations

import re

from PIL import Image

from hw.encode import EncodeOptions, encode_receipt, row_mode
from hw.printer import NetworkPrinter, make_printer, parse_status
from hw.receipt import build_receipt, build_refund_receipt
from hw.render import render_receipt, save_preview
from hw_samples import STORES, refund, sale

FS_ON, FS_OFF = b"\x1c&", b"\x1c."
RASTER = b"\x1dv0"
KICK = b"\x1bp"
CODE128 = b"\x1dkI"  # GS k 73 (function B, CODE128)
QR_STORE = b"\x1d(k"  # GS ( k
CUT = b"\x1dV"


def raster_images(data: bytes) -> list[tuple[int, int]]:
    """(width in bytes, height) of every GS v 0 image in the stream."""
    out = []
    for m in re.finditer(re.escape(RASTER), data):
        i = m.end()
        out.append((data[i + 1] | data[i + 2] << 8, data[i + 3] | data[i + 4] << 8))
    return out


def print_over_tcp(loopback, receipt, paper=80, kick=False) -> bytes:
    printer = make_printer(
        {
            "kind": "network",
            "host": "127.0.0.1",
            "port": loopback.port,
            "paper": paper,
            "timeout": 3,
        }
    )
    assert isinstance(printer, NetworkPrinter)
    st = printer.print_bytes(encode_receipt(receipt, printer.options, kick=kick))
    assert st.state == "ok"
    jobs = loopback.wait_jobs(1, timeout=5)
    assert len(jobs) == 1
    return jobs[0]


def assert_codes(data: bytes, number: str) -> None:
    assert CODE128 in data
    i = data.index(CODE128)
    n = data[i + 3]
    assert data[i + 4 : i + 4 + n] == b"{B" + number.encode()
    assert QR_STORE + b"\x0c\x001P0" + number.encode() in data  # store the QR data
    assert QR_STORE + b"\x03\x001Q0" in data  # print it
    assert CUT in data


def test_english_receipt_bytes(loopback_printer, artifacts):
    r = build_receipt(
        sale("en"),
        STORES["en"],
        "en",
        member_balance=12345,
        till="T1",
        staff="alice",
        when_us=1_767_225_600_000_000,
    )
    data = print_over_tcp(loopback_printer, r, kick=r.cash)
    assert data.startswith(b"\x1b@")
    assert b"Fresh milk 1L" in data and b"THB398.72" in data and b"Change" in data
    assert "2 × THB45.00".encode("cp858") in data  # × in code page PC858 (ESC t 19)
    assert b"\x1bt\x13" in data
    assert RASTER not in data and FS_ON not in data  # all text, no images
    assert data.count(KICK) == 1 and data.index(KICK) < 10  # drawer first
    assert_codes(data, "T1-000042")
    save_preview(r, artifacts / "en-80mm.png", paper=80)
    save_preview(r, artifacts / "en-58mm.png", paper=58)


def test_card_sale_does_not_kick(loopback_printer):
    r = build_receipt(sale("en", cash=False), STORES["en"], "en")
    data = print_over_tcp(loopback_printer, r, kick=r.cash)
    assert KICK not in data
    assert b"Card ****4242" in data


def test_chinese_prints_as_gb18030_text_in_chinese_mode(loopback_printer, artifacts):
    r = build_receipt(sale("zh"), STORES["zh"], "zh", member_balance=2000)
    data = print_over_tcp(loopback_printer, r, paper=58, kick=r.cash)
    for text in ("鲜牛奶 1升", "泰国香米 5公斤", "合计", "找零", "卡萨便利店"):
        enc = text.encode("gb18030")
        assert enc in data, text
        i = data.index(enc)
        # Chinese mode switched on before the line and not switched off in between
        assert data.rfind(FS_ON, 0, i) > data.rfind(FS_OFF, 0, i)
        assert data.find(FS_OFF, i) > i  # and switched off after it
    # the yen sign as the full-width one GB2312 has, not U+00A5 as GB18030's 4-byte sequence
    assert "￥398.72".encode("gb18030") in data
    assert "鲜牛奶".encode() not in data
    assert RASTER not in data
    assert KICK in data
    assert_codes(data, "T1-000042")
    save_preview(r, artifacts / "zh-58mm.png", paper=58)
    save_preview(r, artifacts / "zh-80mm.png", paper=80)


def test_thai_prints_as_raster_image(loopback_printer, artifacts):
    r = build_receipt(sale("th", member="M1"), STORES["th"], "th", member_balance=12345)
    data = print_over_tcp(loopback_printer, r, paper=80, kick=r.cash)
    images = raster_images(data)
    assert images and all(w == 576 // 8 for w, _ in images)  # full 80 mm width
    assert sum(h for _, h in images) > 500
    for thai in ("นมสด", "ยอดรวมทั้งสิ้น", "เงินทอน"):
        assert thai.encode("utf-8") not in data
        for cp in ("cp874", "tis-620"):
            assert thai.encode(cp) not in data  # not sent as code-page text either
    assert FS_ON not in data
    assert KICK in data
    assert_codes(data, "T1-000042")
    img = save_preview(r, artifacts / "th-80mm.png", paper=80)
    assert Image.open(img).size[0] == 576
    save_preview(r, artifacts / "th-58mm.png", paper=58)


def test_arabic_prints_as_raster_image(loopback_printer, artifacts):
    r = build_receipt(sale("ar"), STORES["ar"], "ar", member_balance=12345)
    data = print_over_tcp(loopback_printer, r, paper=58, kick=r.cash)
    images = raster_images(data)
    assert images and all(w == 384 // 8 for w, _ in images)
    for ar in ("الإجمالي", "الباقي"):
        assert ar.encode("utf-8") not in data
    assert b"T1-000042" in data  # the barcode's human-readable data
    assert_codes(data, "T1-000042")
    save_preview(r, artifacts / "ar-58mm.png", paper=58)
    save_preview(r, artifacts / "ar-80mm.png", paper=80)


def test_refund_receipts_preview(artifacts):
    for lang in ("en", "zh", "th", "ar"):
        o = sale(lang)
        r = build_refund_receipt(refund(o), STORES[lang], lang, original=o)
        save_preview(r, artifacts / f"{lang}-refund-80mm.png")
        data = encode_receipt(r, EncodeOptions(), kick=r.cash)
        assert CODE128 in data


def _ink_columns(img: Image.Image, y0: int, y1: int) -> list[int]:
    g = img.convert("L")
    return [x for x in range(g.width) if any(g.getpixel((x, y)) < 128 for y in range(y0, y1))]


def test_arabic_is_right_aligned_and_thai_left_aligned():
    """In the Arabic preview the labels start on the right; in Thai on the left."""
    from hw.receipt import Row
    from hw.render import render_rows

    ar = render_rows([Row("pair", "الإجمالي", "12.00")], rtl=True, width=576)
    cols = _ink_columns(ar, 0, ar.height)
    # label on the right half, number on the left half
    assert min(cols) < 100 and max(cols) > 476
    th = render_rows([Row("text", "ยอดรวมทั้งสิ้น")], rtl=False, width=576)
    cols = _ink_columns(th, 0, th.height)
    assert min(cols) < 20 and max(cols) < 400


def test_arabic_is_shaped_joined():
    """Shaped (joined) Arabic is narrower than the same letters drawn in isolated forms."""
    from hw.render import fonts, measure

    fs = fonts(22)
    joined = measure("الإجمالي", fs, rtl_base=True)
    isolated = sum(measure(c, fs, rtl_base=True) for c in "الإجمالي")
    assert joined < isolated


def test_thai_digits_fall_back_to_latin_font():
    from hw.render import _runs, fonts

    runs = _runs("นมสด 1 ลิตร", fonts(22), False)
    scripts = {r.text.strip(): r.script for r in runs if r.text.strip()}
    assert scripts.get("1") == "latin"
    assert any(s == "thai" for s in scripts.values())


def test_row_modes():
    o = EncodeOptions()
    assert row_mode("TOTAL 12.00", o) == "ascii"
    assert row_mode("Café 3,50 €", o) == "latin"
    assert row_mode("合计 ¥12.00", o) == "cjk"
    assert row_mode("รวม 12.00", o) == "raster"
    assert row_mode("الإجمالي", o) == "raster"
    assert row_mode("合计 ฿12.00", o) == "raster"  # a baht sign is not in GB2312
    assert row_mode("合计", EncodeOptions(cjk=False)) == "raster"


def test_native_qr_can_be_image():
    r = build_receipt(sale("en"), STORES["en"], "en")
    data = encode_receipt(r, EncodeOptions(qr_native=False))
    assert QR_STORE not in data and RASTER in data


def test_parse_status():
    assert parse_status(b"\x12", b"\x12", b"\x12").state == "ok"
    assert parse_status(b"\x1a", b"\x32", b"\x72").state == "paper_out"
    assert parse_status(b"\x12", b"\x12", b"\x1e").state == "paper_low"
    assert parse_status(b"\x1a", b"\x16", b"\x12").state == "cover_open"
    assert parse_status(None, None, None).state == "unknown"


def test_render_preview_whole_receipt_size():
    r = build_receipt(sale("th"), STORES["th"], "th")
    assert render_receipt(r, 58).size[0] == 384
