"""Paying by card on the terminal from a real till window under Xvfb against a real store, whose
card-terminal simulator decides by test amount (``card_sim.mode: by_amount``: an amount ending in
51 is declined, 52 never answered): the cashier scans, types the card amount, taps "Charge on the
terminal" and the sale completes with the terminal's reference and last 4 digits; a declined card
leaves the basket to pay in cash; a terminal that answers nothing times out, the customer pays
cash, and the approval the acquirer reports later is not lost: the store records it and the manager
finds it on the Payments tab as money to give back — never counted in a sale. The manager also
reconciles an acquirer's statement there, in English and Arabic. Screenshots at 1024x768 and
1920x1080. (The desk's own sweep that hears a terminal's late approval is tested in
``tests/unit/test_payment_sweep.py``: with it running every second here, which of the till and
the sweep hears it first would be a race.)"""

from __future__ import annotations

import json

import pytest

from storekit import kassa
from tilldriver import get, pump, scan, screenshot, sign_in
from tillfactory import sized_tills, store_with

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # THB 30.50
TEA2 = "8850000000027"  # THB 19.50
SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}
TIMEOUT_S = 4
PAYMENTS = {
    "card": "card-sim",
    "card_sim": {"mode": "by_amount"},
    "timeout_s": TIMEOUT_S,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with store_with(tmp_path_factory.mktemp("kiosk-card"), {"payments": PAYMENTS}) as s:
        yield s


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


def charge(app, amount: str):
    """Two teas (50.00), the pay screen, Card, the amount typed, "Charge on the terminal"."""
    from kiosk.i18n import T

    scan(app, TEA, 1_000_000)
    scan(app, TEA2, 2_000_000)
    assert app.screen.view["total"] == 5000
    app.screen.buttons["pay"].invoke()
    pay = pump(app, lambda: app.dialog, what="pay screen")
    pump(app, lambda: pay.winfo_viewable(), what="pay screen shown")
    pay.tender_buttons["card"].invoke()
    pay.card_amount.delete(0, "end")
    pay.card_amount.insert(0, amount)
    (button,) = [
        b
        for b in pay.panels["card"].winfo_children()
        if b.winfo_class() == "TButton" and b.cget("text") == T("Charge on the terminal")
    ]
    button.invoke()
    wait = pump(app, lambda: pay.wait, what="wait dialog")
    return pay, wait


def pay_the_rest_in_cash(app, pay) -> dict:
    sale = app.screen
    assert pay.card_amount.get() == ""  # the terminal took nothing: its amount is gone
    pay.tender_buttons["cash"].invoke()
    pay.tender_cash(5000)
    pay.enter()
    pump(app, lambda: sale.last_order, timeout=30, what="paid in cash")
    return sale.last_order


def test_an_approved_card_pays_the_sale_with_the_terminals_reference(till_on, artifacts):
    app = till_on("C1", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    pay, wait = charge(app, "50.00")
    pump(app, lambda: sale.last_order, timeout=60, what="order completed by the terminal")
    (p,) = sale.last_order["payments"]
    assert (p["kind"], p["amount"], p["provider"], p["last4"]) == ("card", 5000, "card-sim", "4242")
    assert p["key"] == wait.key and p["reference"] == f"SIM-{wait.key[:8].upper()}"
    assert app.dialog is None and not wait.winfo_exists()
    screenshot(app, artifacts / "card_paid_en_1024x768.png")


@pytest.mark.parametrize("size", list(SIZES))
def test_a_declined_card_leaves_the_basket_to_pay_in_cash(till_on, artifacts, size):
    from kiosk.i18n import T
    from kiosk.screens.pay_wait import STATES

    app = till_on({"1024x768": "C2", "1920x1080": "C3"}[size], size)
    sign_in(app, "c1", "1111")
    pay, wait = charge(app, "49.51")  # the simulator declines amounts ending in 51
    pump(app, lambda: wait.phase == "failed", timeout=60, what="declined")
    assert wait.state_label.cget("text") == T(STATES["failed"])
    assert str(wait.retry_button.cget("state")) == "normal"
    assert wait.cancel_button.cget("text") == T("Close")
    screenshot(app, artifacts / f"card_declined_en_{size}.png")
    wait.cancel_button.invoke()
    pump(app, lambda: not wait.winfo_exists(), timeout=30, what="wait closed")
    assert app.dialog is pay and pay.provider_tenders == []
    order = pay_the_rest_in_cash(app, pay)
    assert [p["kind"] for p in order["payments"]] == ["cash"]


def test_a_timeout_then_a_late_approval_is_money_to_give_back(store, till_on, artifacts):
    from kiosk.i18n import T
    from kiosk.screens.pay_wait import STATES

    app = till_on("C4", "1024x768")
    sign_in(app, "c1", "1111")
    pay, wait = charge(app, "49.52")  # the simulated terminal answers nothing
    pump(app, lambda: wait.phase == "pending", timeout=60, what="waiting on the terminal")
    pump(app, lambda: wait.phase == "timed_out", timeout=TIMEOUT_S + 60, what="timed out")
    assert wait.state_label.cget("text") == T(STATES["timed_out"])
    screenshot(app, artifacts / "card_timed_out_en_1024x768.png")
    key = wait.key
    wait.cancel_button.invoke()
    pump(app, lambda: not wait.winfo_exists(), timeout=30, what="wait closed")
    order = pay_the_rest_in_cash(app, pay)  # the customer pays cash instead
    assert [(p["kind"], p["amount"]) for p in order["payments"]] == [("cash", 5000)]
    # then the acquirer reports that the card was charged after all (its signed callback)
    res = kassa(
        "store", "payments", "simulate", "--data", str(store.data), "--url", store.url,
        "--provider", "card-sim", "--key", key, "--result", "success", "--reference", "ACQ-LATE-1",
    )  # fmt: skip
    assert res.returncode == 0 and '"late_success"' in res.stdout, res.stdout + res.stderr
    (row,) = [r for r in get(f"{store.url}/v1/payments/refunds")["payments"] if r["key"] == key]
    assert (row["state"], row["amount"], row["action"]) == ("late_success", 4952, "refund")
    assert row["used_by"] == "" and row["reference"] == "ACQ-LATE-1"  # in no sale
    # the manager sees it on the Payments tab, in words
    app.sign_out()
    sign_in(app, "m1", "9999")
    app.show_counter("manager")
    tab = pump(app, lambda: getattr(app.screen, "payments", None), what="Payments tab")
    app.screen.tabs.select(tab)
    tree = tab.back_tree

    def shown_row() -> tuple | None:
        for iid in tree.get_children():
            values = tree.item(iid, "values")
            if "49.52" in str(values[4]):
                return values
        return None

    values = pump(app, shown_row, timeout=30, what="the late payment listed")
    assert values[0] == T("Paid after the till gave up")
    assert values[1] and values[2] == "C4" and values[3] == T("Card")
    assert "49.52" in tab.back_summary.cget("text")
    screenshot(app, artifacts / "payments_to_give_back_en_1024x768.png")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_manager_reconciles_a_statement_in_words(till_on, artifacts, tmp_path, size):
    """Two card sales; the acquirer's statement has the first for its amount, the second for a
    baht less, and a line this store never took: each is reported in words on the Payments tab."""
    from datetime import UTC, datetime

    from kiosk import i18n
    from kiosk.i18n import T
    from kiosk.screens.payments_words import STATUS_WORDS

    app = till_on({"1024x768": "C5", "1920x1080": "C6"}[size], size)
    sign_in(app, "m1", "9999")
    refs = []
    for _ in range(2):
        app.show_counter("sale")
        charge(app, "50.00")
        pump(app, lambda: app.screen.last_order, timeout=60, what="paid by card")
        refs.append(app.screen.last_order["payments"][0]["reference"])
    now = datetime.now(UTC).isoformat()
    statement = tmp_path / "acquirer.csv"
    statement.write_text(
        "reference,amount,date,fee\n"
        f"{refs[0]},50.00,{now},1.00\n{refs[1]},49.00,{now},1.00\nRRN-NOT-OURS,12.00,{now},0\n"
    )
    for lang in ("en", "ar") if size == "1024x768" else ("en",):
        i18n.set_language(lang)
        app.session.lang = lang
        app.show_counter("manager")
        tab = pump(app, lambda: getattr(app.screen, "payments", None), what="Payments tab")
        app.screen.tabs.select(tab)
        tab.pages.select(tab.statement_page)
        pump(app, lambda t=tab: t.provider_box.cget("values"), what="the mappings")
        tab.path_entry.insert(0, str(statement))
        tab.provider_box.set("generic")
        tab.reconcile_button.invoke()
        pump(app, lambda t=tab: t.pairs, timeout=60, what="the reconciliation")
        got = {r["reference"]: tab.pair_tree.item(iid, "values")[0] for iid, r in tab.pairs.items()}
        assert got[refs[0]] == T(STATUS_WORDS["matched"])
        assert got[refs[1]] == T(STATUS_WORDS["amount_differs"])
        assert got["RRN-NOT-OURS"] == T(STATUS_WORDS["extra"])
        assert set(got.values()) <= {T(w) for w in STATUS_WORDS.values()}
        first = tab.pair_tree.selection()[0]  # what needs looking at comes first, in a sentence
        assert tab.pairs[first]["status"] != "matched" and tab.text_of(tab.pair_detail)
        assert tab.text_of(tab.summary_label)
        if lang == "en":
            iid = next(i for i, r in tab.pairs.items() if r["reference"] == refs[1])
            tab.pair_tree.selection_set(iid)
            pump(app, lambda t=tab: "1.00 apart" in t.text_of(t.pair_detail), what="sentence")
            assert "1 amount differs" in tab.text_of(tab.summary_label)
        screenshot(app, artifacts / f"payments_statement_{lang}_{size}.png")
    i18n.set_language("en")


def test_a_cashier_may_not_reconcile_or_see_the_money_to_give_back(store):
    import urllib.error
    import urllib.request
    import uuid

    from tilldriver import post

    body = {"id": str(uuid.uuid4()), "staff": "c1", "pin": "1111", "till": "QA2"}
    token = post(f"{store.url}/v1/sessions", body)["token"]
    for method, path, data in (
        ("POST", "/v1/payments/reconcile?provider=generic", b"reference,amount,date\n"),
        ("GET", "/v1/payments/refunds", None),
        ("GET", "/v1/payments/statement-mappings", None),
    ):
        req = urllib.request.Request(
            store.url + path, data=data, method=method, headers={"Authorization": f"Bearer {token}"}
        )
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=30)
        err = json.loads(exc.value.read())["error"]
        assert exc.value.code == 403 and err["code"] == "auth.forbidden", (path, err)
        assert err["details"]["action"] == "payments.view"
