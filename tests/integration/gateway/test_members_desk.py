"""The member desk's routes over real HTTP on loopback (one demo store for the module): a member
registered without an id gets ``<store>-<n>`` and their consent journaled; search by card, phone
and name words; an edit journaled as ``member.updated`` that keeps what it does not change and
refuses another member's card; an import with bad rows journals the good rows only and names the
bad ones by row number (a retry journals nothing twice); the export lists every member; a cashier
may not search, edit, import or export (403)."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from gwkit import (
    Api,
    body_of,
    error_code,
    journal_rows,
    journal_seq,
    new_id,
    running_store,
    sign_in,
)

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("desk") / "store"
    data.mkdir(parents=True)
    with running_store(data) as proc:
        yield proc


@pytest.fixture(scope="module")
def apis(store) -> dict[str, Api]:
    return {
        "a1": sign_in(store.url, "a1", "D1"),
        "m1": sign_in(store.url, "m1", "D2"),
        "c1": sign_in(store.url, "c1", "D3"),
    }


def register(api: Api, **rec: object) -> str:
    out = api.ok(api.post("/v1/members", {"id": new_id(), **rec}))
    return str(out["result"]["member"])


def test_a_new_member_gets_a_store_id_and_their_consent_is_journaled(store, apis):
    a1 = apis["a1"]
    seq = journal_seq(store.data)
    one = register(a1, name="Niran Desk", phone="+66 81 234 0001", card="DESK-0001", consent=True)
    two = register(a1, name="Somchai Desk", phone="0812340002", consent=False)
    assert one.startswith("S001-") and two.startswith("S001-") and one != two
    rows = [r for r in journal_rows(store.data, seq) if r[1] == "member.registered"]
    bodies = {body_of(r)["member"]: body_of(r) for r in rows}
    assert bodies[one]["consent"] is True and bodies[one]["home"] == "S001"
    assert bodies[two]["consent"] is False
    # the same card, or the same phone written another way, is another member's
    r = a1.post("/v1/members", {"id": new_id(), "name": "X", "card": "DESK-0001"})
    assert error_code(r) == "member.card_taken"
    r = a1.post("/v1/members", {"id": new_id(), "name": "X", "phone": "66812340001"})
    assert error_code(r) == "member.phone_taken"
    r = a1.post("/v1/members", {"id": new_id(), "name": "X", "consent": "maybe"})
    assert error_code(r) == "member.no_consent"


def test_search_by_card_phone_and_name(apis):
    a1 = apis["a1"]
    mid = register(a1, name="Pranee Search", phone="0899990001", card="SRCH-1", consent=True)
    register(a1, name="Pranee Other", phone="0899990002", consent=False)

    def found(q: str) -> list[str]:
        return [m["member"] for m in a1.ok(a1.get("/v1/members", q=q))["members"]]

    assert found("SRCH-1") == [mid]
    assert found("089 999 0001") == [mid]  # the phone's digits, however written
    assert found(mid) == [mid]
    assert len(found("pranee")) == 2  # a name: everybody whose name holds the words
    assert found("pranee search") == [mid]
    assert found("nobody-at-all") == []
    rec = a1.ok(a1.get("/v1/members", q="SRCH-1"))["members"][0]
    assert rec["consent"] is True and rec["phone"] == "0899990001" and rec["balance"] == 0


def test_an_edit_keeps_what_it_does_not_change(store, apis):
    a1 = apis["a1"]
    mid = register(a1, name="Edit Me", phone="0811110001", card="EDIT-1", consent=False)
    other = register(a1, name="Card Owner", card="EDIT-2", consent=False)
    seq = journal_seq(store.data)
    a1.ok(a1.post(f"/v1/members/{mid}", {"id": new_id(), "name": "Edited Name", "consent": True}))
    m = a1.ok(a1.get(f"/v1/members/{mid}"))
    assert (m["name"], m["phone"], m["card"], m["consent"]) == (
        "Edited Name",
        "0811110001",
        "EDIT-1",
        True,
    )
    assert [r[1] for r in journal_rows(store.data, seq)] == ["member.updated"]
    r = a1.post(f"/v1/members/{mid}", {"id": new_id(), "card": "EDIT-2"})
    assert error_code(r) == "member.card_taken"
    assert a1.ok(a1.get(f"/v1/members/{other}"))["card"] == "EDIT-2"
    # the old card no longer finds anyone once changed
    a1.ok(a1.post(f"/v1/members/{mid}", {"id": new_id(), "card": "EDIT-3"}))
    assert a1.ok(a1.get("/v1/members", q="EDIT-1"))["members"] == []
    assert a1.ok(a1.get("/v1/members", q="EDIT-3"))["members"][0]["member"] == mid


def _file(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return base64.b64encode(buf.getvalue().encode()).decode()


def test_an_import_journals_the_good_rows_and_names_the_bad_ones(store, apis):
    m1 = apis["m1"]
    known = register(m1, name="Known Member", phone="0822220001", card="KNOWN-1", consent=False)
    register(m1, name="Card Holder", card="HELD-1", consent=True)
    data = _file(
        [
            ["member", "name", "phone", "card", "consent"],
            ["", "Imported One", "0833330001", "IMP-1", "yes"],  # row 2: new
            [known, "Known Member Renamed", "0822220001", "KNOWN-1", "no"],  # row 3: an edit
            ["", "", "0833330003", "", "yes"],  # row 4: no name
            ["", "No Answer", "0833330004", "", ""],  # row 5: consent not given
            ["", "Same Card", "0833330005", "IMP-1", "no"],  # row 6: card twice in the file
            ["", "Bad Phone", "call me", "", "no"],  # row 7
            ["IMP-X", "Imported Two", "0833330007", "", "0"],  # row 8: new, own id
            ["", "Taken Card", "", "HELD-1", "no"],  # row 9: another member's card
        ]
    )
    cid = new_id()
    seq = journal_seq(store.data)
    out = m1.ok(m1.post("/v1/members/import", {"id": cid, "format": "csv", "data": data}))
    assert [(e["row"], e["code"]) for e in out["errors"]] == [
        (4, "member.no_name"),
        (5, "member.no_consent"),
        (6, "member.duplicate_row"),
        (7, "member.bad_phone"),
        (9, "member.card_taken"),
    ]
    assert [d["row"] for d in out["imported"]] == [2, 3, 8]
    kinds = [r[1] for r in journal_rows(store.data, seq)]
    assert kinds == ["member.registered", "member.updated", "member.registered"]
    assert m1.ok(m1.get(f"/v1/members/{known}"))["name"] == "Known Member Renamed"
    assert m1.ok(m1.get("/v1/members/IMP-X"))["consent"] is False
    # the same import sent again (a lost answer): nothing journaled twice
    again = m1.ok(m1.post("/v1/members/import", {"id": cid, "format": "csv", "data": data}))
    assert len(journal_rows(store.data, seq)) == 3
    assert [d["row"] for d in again["imported"]] == [2, 3, 8]
    assert [e["row"] for e in again["errors"]] == [4, 5, 6, 7, 9]
    # a file without the columns is refused whole
    bad = _file([["who", "what"], ["a", "b"]])
    r = m1.post("/v1/members/import", {"id": new_id(), "format": "csv", "data": bad})
    assert error_code(r) == "member.bad_columns"


def test_the_export_lists_every_member(apis):
    m1 = apis["m1"]
    mid = register(m1, name="Export Me", phone="0844440001", card="0044", consent=True)
    r = m1.get("/v1/members/export.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = {row["member"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows[mid]["card"] == "0044" and rows[mid]["consent"] == "yes"
    assert rows[mid]["home"] == "S001" and rows[mid]["balance"] == "0"
    x = m1.get("/v1/members/export.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    import polars as pl

    df = pl.read_excel(io.BytesIO(x.content), engine="calamine", infer_schema_length=0)
    assert mid in df["member"].to_list() and len(df) == len(rows)


def test_a_cashier_may_not_search_edit_import_or_export(apis):
    c1, a1 = apis["c1"], apis["a1"]
    mid = register(a1, name="Private Person", phone="0855550001", consent=False)
    assert error_code(c1.get("/v1/members", q="Private")) == "auth.forbidden"
    r = c1.post(f"/v1/members/{mid}", {"id": new_id(), "name": "Changed"})
    assert r.status_code == 403
    assert c1.get("/v1/members/export.csv").status_code == 403
    r = c1.post("/v1/members/import", {"id": new_id(), "format": "csv", "data": _file([["a"]])})
    assert r.status_code == 403
    # after-sales may search and edit, but not export the whole list
    assert a1.get("/v1/members/export.csv").status_code == 403
    # what the sale counter sees of a member: what paying needs, no phone or consent
    seen = c1.ok(c1.get(f"/v1/members/{mid}"))
    assert set(seen) == {"member", "name", "balance", "as_of_seq"}
