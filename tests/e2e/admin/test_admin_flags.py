"""HQ's flags inbox in the admin app (issue 19), in a real window under Xvfb: a real store (the
demo, linked to its real cloud) sells outside its opening hours and has a cashier open the drawer
without a sale again and again; the store flags both and uploads them; an HQ user signed in to the
admin app sees them in the Flags screen with rule, store, order, staff, till, time and the evidence
in words (English and Arabic, money formatted), acknowledges one (HQ's API then says who did),
dismisses the other with a note (a dismiss without a note is refused on screen), and a support
user sees the flags with the act buttons disabled and the reason beside them. Screenshots at
1024x768 and 1920x1080 go to artifacts/admin."""

from __future__ import annotations

import contextlib
import gc

import pytest

# the store and its flags, shared with HQ's API test (one demo store for this module)
from tests.integration.cloud.test_hq_flags import flagged, store  # noqa: F401
from tilldriver import pump, screenshot, settle, xvfb_display

pytestmark = [pytest.mark.ray, pytest.mark.timeout(900)]

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def users(flagged):  # noqa: F811
    """A finance user (may act on flags) and a support user (may only read them)."""
    from cloud.hqusers import HqUsers

    u = HqUsers(flagged["hq"].dir)
    try:
        u.add("fiona", "finance", PASSWORD, "test")
        u.add("sami", "support", PASSWORD, "test")
    finally:
        u.close()
    return flagged


def idle(app, timeout: float = 60.0) -> None:
    pump(app, lambda: app.inflight == 0, timeout, "HQ calls answered")
    settle(app, 0.1)


@contextlib.contextmanager
def signed_in(hq, user: str, lang: str = "en", size=(1280, 800)):
    """The admin app, signed in through its sign-in screen, on the Flags screen."""
    from admin.app import AdminApp

    app = AdminApp(hq.url, lang=lang, size=size)
    try:
        pump(app, lambda: type(app.screen).__name__ == "SignInScreen", 30, "sign-in")
        app.screen.user.insert(0, user)
        app.screen.password.insert(0, PASSWORD)
        app.screen.button.invoke()
        pump(app, lambda: app.api.signed_in and app.screen_key, 60, "signed in")
        idle(app)
        app.open("flags")
        idle(app)
        yield app
    finally:
        with contextlib.suppress(Exception):
            app.close()
        gc.collect()


def shown_row(screen, flag_id: str) -> tuple[dict, dict]:
    """(the flag's row from HQ, what the table shows for it by column key)."""
    for i, row in enumerate(screen.table.rows):
        if row["flag_id"] == flag_id:
            return row, dict(zip(screen.table.cols, screen.table.values()[i], strict=True))
    raise AssertionError(
        f"flag {flag_id} not on screen: {[r['flag_id'] for r in screen.table.rows]}"
    )


def select(screen, flag_id: str) -> None:
    i = next(i for i, r in enumerate(screen.table.rows) if r["flag_id"] == flag_id)
    screen.table.tree.selection_set(str(i))
    screen.table.tree.event_generate("<<TreeviewSelect>>")
    screen.update()


def _flags(hq, status: str) -> list[dict]:
    r = hq.get("/v1/hq/flags", status=status)
    assert r.status_code == 200, r.text
    return r.json()["flags"]


def test_support_reads_flags_but_may_not_act(xvfb, users, artifacts):
    hq, sale, drawer = users["hq"], users["sale"], users["drawer"]
    with signed_in(hq, "sami") as app:
        s = app.screen
        ids = {r["flag_id"] for r in s.table.rows}
        assert {sale["flag_id"], drawer["flag_id"]} <= ids
        for b in (s.ack_button, s.dismiss_button):
            assert str(b.cget("state")) == "disabled"
        reasons = [
            w.cget("text")
            for w in s.ack_button.master.winfo_children()
            if w.winfo_class() == "TLabel"
        ]
        assert any("Needs the role" in t and "Finance" in t for t in reasons), reasons
        screenshot(app, artifacts / "admin-flags-support.png")
    assert _flags(hq, "open") and sale["flag_id"] in {f["flag_id"] for f in _flags(hq, "open")}


def test_flags_shown_with_evidence_in_words_in_two_languages(xvfb, users, artifacts):
    hq, sale, drawer = users["hq"], users["sale"], users["drawer"]
    order = users["orders"]["c1"]
    total = order["total"]
    with signed_in(hq, "fiona") as app:
        s = app.screen
        row, cells = shown_row(s, sale["flag_id"])
        assert cells["store"] == hq.store_id
        assert cells["rule_name"] == "Outside opening hours"
        assert cells["order_id"] == order["order_id"][:8]
        assert (cells["staff"], cells["till"]) == ("c1", "T1")
        assert cells["local_time"] == sale["local_time"].replace("T", " ")[:16]
        assert cells["words"].startswith(f"A sale of THB{total / 100:,.2f} at ")
        _row, dcells = shown_row(s, drawer["flag_id"])
        assert (dcells["staff"], dcells["till"]) == ("c2", "T2")
        assert dcells["words"].startswith("The drawer was opened 7 times that day")
        assert dcells["order_id"] == "—"  # a drawer flag has no order to open
        # the whole sentence, wrapped, below the table for the chosen flag
        select(s, sale["flag_id"])
        assert s.detail.cget("text").endswith(cells["words"])
        assert order["order_id"] in s.detail.cget("text")
    from kiosk.i18n import shown

    with signed_in(hq, "fiona", lang="ar") as app:
        s = app.screen
        row, cells = shown_row(s, sale["flag_id"])
        assert "ساعات العمل" in row["words"] and "{" not in row["words"]  # in Arabic
        assert f"{total / 100:,.2f}\xa0฿" in row["words"]  # money formatted in the sentence
        select(s, sale["flag_id"])
        assert s.detail.cget("text").endswith(shown(row["words"]))  # shaped, in visual order
        assert "Outside" not in cells["rule_name"] and cells["rule_name"]
        assert s.table.tree.cget("displaycolumns")[0] == s.table.visible[-1]  # read from the right


def test_acknowledge_and_dismiss_through_the_screen(xvfb, users, artifacts):
    hq, sale, drawer = users["hq"], users["sale"], users["drawer"]
    with signed_in(hq, "fiona") as app:
        s = app.screen
        select(s, sale["flag_id"])
        s.ack_button.invoke()
        idle(app)
        assert app.message.cget("text") == "Flag acknowledged."
        assert sale["flag_id"] not in {r["flag_id"] for r in s.table.rows}
        # a dismiss without a note is refused on screen, HQ is not asked
        select(s, drawer["flag_id"])
        s.dismiss_button.invoke()
        idle(app)
        assert app.last_error == "Write a note saying why it is dismissed."
        assert drawer["flag_id"] in {f["flag_id"] for f in _flags(hq, "open")}
        screenshot(app, artifacts / "admin-flags-note-refused.png")
        s.note.insert(0, "till jammed that day")
        s.dismiss_button.invoke()
        idle(app)
        assert app.message.cget("text") == "Flag dismissed." and not app.last_error
        # the acted flags under their own status, with who and the note
        s.status.current(2)
        s.load()
        idle(app)
        _row, cells = shown_row(s, drawer["flag_id"])
        assert cells["by"] == "fiona" and cells["note"] == "till jammed that day"
    acked = {f["flag_id"]: f for f in _flags(hq, "acknowledged")}
    assert acked[sale["flag_id"]]["by"] == "fiona" and acked[sale["flag_id"]]["acted_at_us"] > 0
    gone = {f["flag_id"]: f for f in _flags(hq, "dismissed")}
    assert gone[drawer["flag_id"]]["by"] == "fiona"
    assert gone[drawer["flag_id"]]["note"] == "till jammed that day"


@pytest.mark.parametrize(
    "size,lang", [("1024x768", "en"), ("1920x1080", "en"), ("1024x768", "ar"), ("1920x1080", "th")]
)
def test_screenshots(users, artifacts, size, lang):
    w, h = (int(x) for x in size.split("x"))
    hq = users["hq"]
    with xvfb_display(size), signed_in(hq, "fiona", lang, (w, h)) as app:
        app.geometry(f"{w}x{h}+0+0")
        s = app.screen
        for status in (0, 1, 2):  # the first list with flags in it (acted on above)
            s.status.current(status)
            s.load()
            idle(app)
            if s.table.rows:
                break
        if s.table.rows:
            s.table.tree.selection_set("0")
            s.table.tree.event_generate("<<TreeviewSelect>>")
        screenshot(app, artifacts / f"admin-flags-{size}-{lang}.png")
        if lang == "ar" and size == "1024x768":
            for key in ("products", "stores", "prices"):
                form = app.open(key)
                idle(app)
                if key == "stores":  # a form refused: the message under the labels
                    form.tabs.select(1)
                    form.lic_days.delete(0, "end")
                    form.create()
                elif key == "prices":
                    form.add()
                idle(app)
                screenshot(app, artifacts / f"admin-{key}-{size}-{lang}.png")
