"""The member desk on real till windows (Xvfb) against a real store server, driven as a person
would: a manager scans a card nobody has (a scanner's burst ending with Enter), is told nobody was
found, registers the person from there (the card already in the form; the consent a required
yes/no), tops up their wallet in cash and reads it in the history; the store journaled the member
with the consent given and the wallet holds the money. At the after-sales counter (Arabic) a name
finds several members as a list, and a card scanned while the focus is elsewhere finds its member.
Screenshots at 1024x768 and 1920x1080 (artifacts/kiosk/member_desk_*)."""

from __future__ import annotations

import uuid

import pytest

from gwkit import body_of, journal_rows
from tilldriver import get, idle, manager_token, post, pump, screenshot, sign_in, type_keys
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


def journal_member(data, member: str) -> dict:
    bodies = (body_of(r) for r in journal_rows(data) if r[1] == "member.registered")
    return next(b for b in bodies if b["member"] == member)


def test_register_a_scanned_card_top_up_cash_and_read_the_history(till_on, store, artifacts):
    app = till_on("MD1", "1024x768")
    sign_in(app, "m1", "9999")
    screen = app.screen
    desk = next(w for w in screen.tabs.winfo_children() if type(w).__name__ == "MemberDesk")
    screen.tabs.select(desk)
    idle(app)
    card = "MC" + uuid.uuid4().hex[:10].upper()
    # a scanner: a burst a few ms apart, then Enter, into the desk's search field
    type_keys(desk.entry, card, gap_ms=4)
    pump(app, lambda: desk.empty.cget("text"), what="'no member found'")
    assert desk.results.get_children() == ()
    assert str(desk.buttons["topup"].cget("state")) == "disabled"
    screenshot(app, artifacts / "member_desk_not_found_en_1024x768.png")
    desk.buttons["new"].invoke()
    form = pump(app, lambda: app.dialog, what="the register form")
    assert form.fields["card"].get() == card  # what was scanned is the new member's card
    type_keys(form.fields["name"], "Malee Jaidee", gap_ms=30, enter=False)
    type_keys(form.fields["phone"], "0812345670", gap_ms=30, enter=False)
    form.ok_button.invoke()  # no answer on marketing yet: refused in the form, nothing sent
    idle(app)
    assert app.dialog is form and form.error.cget("text").startswith("Ask the customer")
    screenshot(app, artifacts / "member_desk_register_en_1024x768.png")
    form.choices["yes"].invoke()
    form.ok_button.invoke()
    pump(app, lambda: app.dialog is None, timeout=30, what="the member registered")
    pump(app, lambda: desk.record and desk.record.get("card") == card, what="the member shown")
    member = desk.record["member"]
    assert member.startswith("S001-")
    assert desk.name.cget("text") == "Malee Jaidee"
    assert "THB0.00" in desk.balance.cget("text") or "0.00" in desk.balance.cget("text")
    # top up 500.00 in cash from the on-screen keypad
    desk.buttons["topup"].invoke()
    dlg = pump(app, lambda: app.dialog, what="the top-up dialog")
    for key in "500":
        dlg.keypad.press(key)
    assert dlg.amount.get() == "500"
    screenshot(app, artifacts / "member_desk_topup_en_1024x768.png")
    dlg.ok_button.invoke()
    pump(app, lambda: app.dialog is None, timeout=30, what="topped up")
    pump(app, lambda: desk.history.get_children(), what="the history row")
    row = desk.history.item(desk.history.get_children()[0], "values")
    assert row[1] == "Top-up" and "500.00" in row[2]
    assert "500.00" in desk.balance.cget("text")
    screenshot(app, artifacts / "member_desk_member_en_1024x768.png")
    # the card scanned again while the focus is elsewhere on the desk (the history table):
    # the desk finds the member again, and the scanned text lands in no other widget
    desk.entry.delete(0, "end")
    desk.record = None
    type_keys(desk.history, card, gap_ms=4, start_ms=5_000_000)
    pump(app, lambda: desk.record and desk.record.get("card") == card, what="found by a scan")
    assert desk.entry.get() == card
    # what the store holds: the member with the consent given, the money on the wallet
    held = get(f"{store.url}/v1/members/{member}")
    assert (held["name"], held["card"], held["consent"], held["balance"]) == (
        "Malee Jaidee",
        card,
        True,
        50_000,
    )
    assert journal_member(store.data, member)["consent"] is True


def test_the_after_sales_desk_lists_names_and_finds_a_scanned_card(till_on, store, artifacts):
    tok = manager_token(store.url)
    tag = uuid.uuid4().hex[:6]
    cards = []
    for i, name in enumerate(("سارة", "سامي")):  # two members whose names share a word
        cards.append(f"AR{tag}{i}".upper())
        post(
            f"{store.url}/v1/members",
            {
                "id": str(uuid.uuid4()),
                "name": f"{name} {tag}",
                "card": cards[-1],
                "phone": f"09{i}{uuid.uuid4().int % 10**7:07d}",
                "consent": i == 0,
            },
            tok,
        )
    app = till_on("MD2", "1920x1080")
    sign_in(app, "a1", "4444")  # after-sales, in Arabic
    screen = app.screen
    assert type(screen).__name__ == "AfterSalesScreen"
    screen.open_desk()
    desk = screen.desk
    idle(app)
    # a person types a word of the name (slowly: not a scan) and gets a list to pick from
    type_keys(desk.entry, tag, gap_ms=150)
    pump(app, lambda: len(desk.results.get_children()) == 2, what="two members listed")
    assert desk.record is None
    screenshot(app, artifacts / "member_desk_list_ar_1920x1080.png")
    # a card scanned while the keyboard is on the list (not the search field) finds its member
    desk.results.focus_force()
    type_keys(desk.results, cards[1], gap_ms=4)
    pump(app, lambda: desk.record and desk.record.get("card") == cards[1], what="scanned card")
    assert desk.entry.get() == cards[1]
    screenshot(app, artifacts / "member_desk_member_ar_1920x1080.png")
    desk.buttons["topup"].invoke()
    dlg = pump(app, lambda: app.dialog, what="the top-up dialog")
    dlg.choices["card"].invoke()
    dlg.ok_button.invoke()  # an amount and, for a card, the terminal's reference are needed
    assert dlg.error.cget("text") and app.dialog is dlg
    screenshot(app, artifacts / "member_desk_topup_ar_1920x1080.png")
    dlg.cancel()
    # back to the orders: the order search is there again
    desk.buttons["back"].invoke()
    idle(app)
    assert screen.desk is None and screen.main.winfo_ismapped()
