"""No card number enters the store. A table of ways to write one (and of things that are not one);
then a fuzz run against a real store server (and the demo's HQ cloud it uploads to) that puts
Luhn-valid card numbers, written in many ways, into every free-text field a client can send — every
one is refused with ``payment.card_number_refused`` — and finally searches the journal file, the
DuckDB analytics copy, the server's log and HQ's files for the digits of any of them: none."""

from __future__ import annotations

import json
import os
import random
import time
import unicodedata
from pathlib import Path

import pytest
import requests

from actors.process import StoreProcess
from domain.errors import InvalidInput
from domain.pan import looks_like_card_number, luhn_ok, refuse_card_number
from gwkit import error_code, new_id, sign_in
from kiosk.importer import check_rows

PAN = "4111111111111111"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def formats(pan: str) -> dict[str, str]:
    """One card number written the ways a person, a terminal slip or an attacker might."""
    g = [pan[i : i + 4] for i in range(0, len(pan), 4)]
    return {
        "plain": pan,
        "spaces": " ".join(g),
        "dashes": "-".join(g),
        "dots": ".".join(g),
        "slashes": "/".join(g),
        "underscores": "_".join(g),
        "nbsp": "\u00a0".join(g),
        "thin spaces": "\u2009".join(g),
        "ideographic space": "\u3000".join(g),
        "zero-width": "\u200b".join(pan),
        "soft hyphens": "\u00ad".join(g),
        "mixed": f"{g[0]} - {'.'.join(g[1:3])} / {''.join(g[3:])}",
        "tabs and newlines": "\t".join(g[:2]) + "\n" + "\n".join(g[2:]),
        "full-width": pan.translate(FULLWIDTH),
        "arabic-indic": pan.translate(ARABIC),
        "full-width spaced": "\u3000".join(x.translate(FULLWIDTH) for x in g),
        "in a sentence": f"customer card {' '.join(g)} thanks",
        "after a reference": f"TRM 0042 {'-'.join(g)}",
    }


@pytest.mark.parametrize("how,text", formats(PAN).items())
def test_card_numbers_written_any_way_are_refused(how, text):
    assert looks_like_card_number(text), how
    with pytest.raises(InvalidInput) as exc:
        refuse_card_number(text, "note")
    assert exc.value.code == "payment.card_number_refused" and exc.value.details["field"] == "note"


@pytest.mark.parametrize(
    "pan",
    [
        "4111111111111111",
        "378282246310005",
        "5555555555554444",
        "6011111111111117",
        "3530111333300000",
        "4222222222222",
        "6212345678901265",
        "621234567890128",
        "6200000000000000000",
        "62123456789012347",
        "6212345678901234569",
    ],
)
def test_every_card_length_13_to_19(pan):
    assert luhn_ok(pan) and looks_like_card_number(pan)
    assert looks_like_card_number(formats(pan)["mixed"])


@pytest.mark.parametrize(
    "text",
    [
        "AUTH-778812",
        "TRM 000123 0042",
        "123456789012",
        "4111111111111112",  # fails Luhn
        "RRN 0000123456789",
        "2026-11-29 21:10",
        "tel +66 81 234 5678",
        "12.50 x 3 = 37.50",
        "ref 12345678901234567890123",  # a long terminal reference: not a card number as written
        "M0002",
        "8850000000015",
        "",
        "收银员二",
        "แคชเชียร์สาม",
        "order #1042, 3 items",
        "4111 x 1111 y 1111 z 1111",  # letters end a number
    ],
)
def test_ordinary_text_and_long_references_are_accepted(text):
    assert not looks_like_card_number(text)
    assert refuse_card_number(text, "note") == text


def test_the_importer_refuses_a_card_number_in_names_but_not_in_codes():
    rows = [
        {"sku": "P1", "name_en": "Gift card 4111 1111 1111 1111", "price": "1.00"},
        {
            "sku": "P2",
            "name": "Plain",
            "category": "４１１１１１１１１１１１１１１１",
            "price": "1.00",
        },
        {"sku": "4111111111111111", "name": "SKU that happens to pass Luhn", "price": "1.00"},
    ]
    out = check_rows(rows, "THB")
    assert [r.error_code for r in out] == ["payment.card_number_refused"] * 2 + [""]


# ---------------------------------------------------------------- over a real store server


def luhn_pan(rng: random.Random, n: int) -> str:
    prefix = rng.choice("3456") + "".join(rng.choice("0123456789") for _ in range(n - 2))
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("pan") / "store"
    proc = StoreProcess(data, products=300).start()
    try:
        yield proc
    finally:
        proc.stop()


def fields(w: dict):
    """(field name, function(text) -> response) for every free text a client can send."""
    c, m, a = w["c1"], w["m1"], w["a1"]
    code = w["code"]

    def basket_then(op: str, args: dict):
        def go(text: str):
            c.ok(c.cmd("scan", {"code": code}))
            r = c.cmd(op, {k: (text if v is None else v) for k, v in args.items()})
            c.cmd("void", {"reason": "pan test"})
            return r

        return go

    def pay(text: str):
        view = c.ok(c.cmd("scan", {"code": code}))["view"]
        r = c.cmd(
            "pay",
            {
                "tenders": [
                    {"kind": "card", "amount": view["total"], "reference": text, "last4": "1111"}
                ]
            },
        )
        c.cmd("void", {"reason": "pan test"})
        return r

    return {
        "member.member": lambda t: c.post(
            "/v1/members", {"id": new_id(), "member": t, "name": "Pan Test"}
        ),
        "member.name": lambda t: c.post(
            "/v1/members", {"id": new_id(), "member": "MP1", "name": t}
        ),
        "member.phone": lambda t: c.post(
            "/v1/members", {"id": new_id(), "member": "MP2", "name": "Pan Test", "phone": t}
        ),
        "member.card": lambda t: c.post(
            "/v1/members", {"id": new_id(), "member": "MP3", "name": "Pan Test", "card": t}
        ),
        "member lookup": lambda t: c.get("/v1/members/" + requests.utils.quote(t, safe="")),
        "topup.reference": lambda t: c.post(
            "/v1/members/M0002/topup",
            {"id": new_id(), "amount": 100, "tender": "card", "reference": t},
        ),
        "topup.member": lambda t: c.post(
            "/v1/members/" + requests.utils.quote(t, safe="") + "/topup",
            {"id": new_id(), "amount": 100},
        ),
        "pay.card reference": pay,
        "park.note": basket_then("park", {"note": None}),
        "void.reason": lambda t: (
            c.ok(c.cmd("scan", {"code": code})),
            c.cmd("void", {"reason": t}),
            c.cmd("void", {"reason": "pan test"}),
        )[1],
        "refund.reason": lambda t: a.post(
            f"/v1/orders/{w['order']}/refund", {"id": new_id(), "reason": t}
        ),
        "freeze.reason": lambda t: a.post(
            f"/v1/orders/{w['order']}/freeze", {"id": new_id(), "reason": t}
        ),
        "unfreeze.reason": lambda t: m.post(  # only a manager unfreezes
            f"/v1/orders/{w['order']}/unfreeze", {"id": new_id(), "reason": t}
        ),
        "orders q": lambda t: a.get("/v1/orders", q=t),
        "staff.name": lambda t: m.post(
            "/v1/staff",
            {
                "id": new_id(),
                "staff": "pan1",
                "name": t,
                "role": "cashier",
                "language": "en",
                "pin": "5678",
            },
        ),
        "staff.id": lambda t: m.post(
            "/v1/staff",
            {
                "id": new_id(),
                "staff": t.replace(" ", "-"),
                "name": "Pan",
                "role": "cashier",
                "language": "en",
                "pin": "5678",
            },
        ),
        "staff lock.reason": lambda t: m.post("/v1/staff/c3/lock", {"id": new_id(), "reason": t}),
        "stock.reference": lambda t: m.post(
            "/v1/stock/receive", {"id": new_id(), "sku": w["sku"], "qty": 1, "reference": t}
        ),
        "stock.reason": lambda t: m.post(
            "/v1/stock/adjust", {"id": new_id(), "sku": w["sku"], "delta": -1, "reason": t}
        ),
        "feedback.message": lambda t: c.post(
            "/v1/feedback", {"id": new_id(), "kind": "other", "message": t}
        ),
        "feedback.device": lambda t: c.post(
            "/v1/feedback", {"id": new_id(), "kind": "device", "message": "drawer", "device": t}
        ),
        "import.name": lambda t: m.post(
            "/v1/products/import",
            {"id": new_id(), "products": [{"sku": "PANX", "names": {"en": t}, "price": 100}]},
        ),
        "import.name zh": lambda t: m.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [{"sku": "PANY", "names": {"en": "ok", "zh": t}, "price": 100}],
            },
        ),
        "import.category": lambda t: m.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [{"sku": "PANZ", "names": {"en": "ok"}, "category": t, "price": 100}],
            },
        ),
        "import.source": lambda t: m.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "source": t,
                "products": [{"sku": "PANW", "names": {"en": "ok"}, "price": 100}],
            },
        ),
        "sign-in till": lambda t: requests.post(
            c.url + "/v1/sessions",
            json={"id": new_id(), "staff": "c2", "pin": "2222", "till": t.replace(" ", "-")},
            timeout=60,
        ),
    }


# ids that have a pattern of their own (letters, digits, - _ .), short fields, and keys in a URL
# path, where a slash ends the path segment: written so, they are refused for that first
PATTERN_CODES = {
    "sign-in till": {"till.bad_id"},
    "staff.id": {"staff.bad_id"},
    "member.phone": {"input.bad_field"},  # longer than a phone may be
    "member lookup": {"http.not_found"},
    "topup.member": {"http.not_found"},
}


@pytest.mark.ray
def test_card_numbers_in_every_field_are_refused_and_never_stored(store):
    m = sign_in(store.url, "m1", "PN3")
    for t in ("PN1", "PN3"):
        m.ok(m.post("/v1/day/open", {"id": new_id(), "till": t, "float": 1000}))
    w = {"c1": sign_in(store.url, "c1", "PN1"), "m1": m, "a1": sign_in(store.url, "a1", "PN2")}
    prods = [
        p
        for p in m.ok(m.get("/v1/products", q="885", limit=50))
        if p["unit"] == "each" and p["barcodes"] and p["sellable"]
    ]
    w["code"], w["sku"] = prods[0]["barcodes"][0], prods[0]["sku"]
    view = m.ok(m.cmd("scan", {"code": w["code"]}))["view"]
    w["order"] = m.ok(m.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"]}]}))[
        "order"
    ]["order_id"]

    rng = random.Random(20261129)
    pans = [luhn_pan(rng, n) for n in range(13, 20)] + [luhn_pan(rng, 16) for _ in range(5)]
    wrong = []
    for i, (name, send) in enumerate(fields(w).items()):
        for j, how in enumerate(formats(PAN)):
            r = send(formats(pans[(i + j) % len(pans)])[how])
            codes = {"payment.card_number_refused"}
            if how != "plain":  # ids with a pattern of their own may refuse the separators first
                codes |= PATTERN_CODES.get(name, set())
            if r.status_code not in (400, 404) or error_code(r) not in codes:
                wrong.append((name, how, r.status_code, r.text[:160]))
    assert wrong == [], wrong[:20]

    # controls: the same routes take ordinary text, and a long reference that fails Luhn
    ok = fields(w)
    for name in ("member.name", "topup.reference", "feedback.message", "park.note"):
        r = ok[name]("4111 1111 1111 1112" if name == "topup.reference" else "Somchai 0812345678")
        assert r.status_code == 200, (name, r.text[:300])
    w["c1"].cmd("void", {"reason": "pan test"})

    # wait until HQ holds everything, then stop the store (DuckDB opens for one process only)
    end = time.time() + 120
    while time.time() < end:
        up = requests.get(store.url + "/v1/health", timeout=30).json()["upload"]
        if up.get("backlog_events") == 0:
            break
        time.sleep(0.5)
    store.stop()
    hq = store.data.with_name(store.data.name + "-hq")
    places = {
        "journal": digits_of_files(
            [store.data / "journal.sqlite", store.data / "journal.sqlite-wal"]
        )
        + digits_of_rows(store.data / "journal.sqlite"),
        "analytics": digits_of_duckdb(store.data / "analytics.duckdb"),
        "server log": digits_of_files([store.data.with_name(store.data.name + ".server.log")]),
        "data folder": digits_of_files(sorted(store.data.rglob("*"))),
        "hq": digits_of_files(sorted(hq.rglob("*"))) + digits_of_parquet(hq),
    }
    assert len(places["journal"]) > 10_000 and len(places["analytics"]) > 1000
    assert hq.exists() and len(places["hq"]) > 1000
    found = [(where, p) for where, digits in places.items() for p in pans if p in digits]
    assert found == [], found


def digits(text: str) -> str:
    out = []
    for ch in text:
        d = unicodedata.digit(ch, None)
        if d is not None:
            out.append(str(d))
    return "".join(out)


def digits_of_files(paths) -> str:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_file():
            out.append(digits(p.read_bytes().decode("utf-8", "ignore")))
    return "|".join(out)


def digits_of_rows(journal: Path) -> str:
    import sqlite3

    con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT * FROM events").fetchall()
    finally:
        con.close()
    return "|".join(
        digits(bytes(v).decode("utf-8", "ignore") if isinstance(v, bytes) else str(v))
        for r in rows
        for v in r
    )


def digits_of_duckdb(path: Path) -> str:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall():
            for row in con.execute(
                f'SELECT COLUMNS(*)::VARCHAR FROM "{schema}"."{table}"'
            ).fetchall():
                out.append("|".join(digits(str(v)) for v in row))
        return "|".join(out)
    finally:
        con.close()


def digits_of_parquet(root: Path) -> str:
    import polars as pl

    out = []
    for f in sorted(root.rglob("*.parquet")):
        df = pl.read_parquet(f)
        out.append(
            "|".join(digits(json.dumps(r, default=str, ensure_ascii=False)) for r in df.iter_rows())
        )
    return "|".join(out)


def test_the_file_helpers_find_what_they_look_for(tmp_path):
    """The search above would see a card number written in any of these ways."""
    f = tmp_path / "x.txt"
    for text in formats(PAN).values():
        f.write_bytes(json.dumps({"note": text}, ensure_ascii=False).encode())
        assert PAN in digits_of_files([f]), text
    os.remove(f)
