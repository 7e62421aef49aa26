"""Reports people read, on real till windows under Xvfb against a real store (one per module):
X/Z and a cashier's own report laid out with translated labels in every language (no raw keys,
counts as counts, money as money), a cashier refused another's report, the day closed only after
confirming expected/counted/difference per tender, the report on the loopback printer and as a
PDF, the charts, import errors in the manager's language; screenshots at 1024x768 and 1920x1080.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gwkit import DEMO, new_id
from gwkit import sign_in as api_sign_in
from pdfcheck import pdf_images
from report_shots import LANGS, RAW, assert_no_raw_keys, show_manager_report, texts
from tilldriver import close_tills, get, idle, open_day, pump, screenshot, sign_in

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small, THB 30.50
TEA2 = "8850000000027"  # Golden Green tea small, THB 19.50


def sell(api: Any, codes: list[str], kind: str = "cash") -> dict:
    view = None
    for code in codes:
        view = api.ok(api.cmd("scan", {"code": code}))["view"]
    assert view is not None
    tender: dict[str, Any] = {"kind": kind, "amount": view["total"]}
    if kind == "card":
        tender.update(reference="T-1", last4="4242")
    else:
        tender["amount"] += 5000
    return api.ok(api.cmd("pay", {"tenders": [tender]}))["order"]


@pytest.fixture(scope="module")
def sales(store) -> dict:
    """Real sales over HTTP: c1 sells 3 orders at R1 (2 cash, 1 card), c2 one at R2 and voids a
    basket, and after-sales refunds one of c1's orders."""
    for till in ("R1", "R2", "R3"):
        open_day(store.url, till)
    c1 = api_sign_in(store.url, "c1", "R1", DEMO["c1"])
    orders = [sell(c1, [TEA]), sell(c1, [TEA, TEA2]), sell(c1, [TEA2], "card")]
    c2 = api_sign_in(store.url, "c2", "R2", DEMO["c2"])
    orders.append(sell(c2, [TEA, TEA]))
    c2.ok(c2.cmd("scan", {"code": TEA2}))
    c2.ok(c2.cmd("void", {"reason": "test"}))
    a1 = api_sign_in(store.url, "a1", "R3", DEMO["a1"])
    a1.ok(a1.post(f"/v1/orders/{orders[0]['order_id']}/refund", {"id": new_id(), "reason": "t"}))
    return {"c1": orders[:3], "c2": orders[3:], "tokens": {"c1": c1.token, "c2": c2.token}}


def make_till(store: Any, tmp_path: Path, till_id: str, lang: str = "en", **kw: Any) -> Any:
    from kiosk.app import TillApp

    app = TillApp(store.url, till_id, lang=lang, data_dir=tmp_path / till_id, **kw)
    pump(app, lambda: app.store and app.print_queue is not None, what="store config")
    return app


@pytest.fixture
def till(xvfb, store, tmp_path):
    made = []

    def make(till_id: str, lang: str = "en", **kw: Any) -> Any:
        app = make_till(store, tmp_path, till_id, lang, **kw)
        made.append(app)
        return app

    yield make
    close_tills(made)  # freed on the Tk thread (tilldriver)


def table_rows(view: Any, title: str) -> dict[str, list[str]]:
    """Rows of the report table titled ``title`` (as shown), by their first cell."""
    from kiosk.i18n import shown

    for tree in view.trees:
        label = tree.master.winfo_children()[tree.master.winfo_children().index(tree) - 1]
        if label.cget("text") == shown(title):
            rows = [list(tree.item(i, "values")) for i in tree.get_children()]
            return {r[0]: r[1:] for r in rows}
    raise AssertionError(f"no table {title!r}")


def test_reports_show_no_raw_keys_in_any_language(till, store, sales, artifacts):
    from kiosk import i18n
    from kiosk.i18n import shown

    app = till("R9")
    sign_in(app, "m1", "9999")
    rep = get(f"{store.url}/v1/reports/x?scope=store")
    totals = rep["totals"]
    assert totals["orders"] == 4 and totals["refunds"] == 1 and totals["voids"] == 1
    for lang in LANGS:
        i18n.set_language(lang)
        app.session.lang = lang
        app.show_counter("manager")
        idle(app)
        for key in ("x_store", "x_till", "z_store"):
            mgr = show_manager_report(app, key)
            assert_no_raw_keys(texts(mgr.reports_tab), f"{key} in {lang}")
        mgr = show_manager_report(app, "x_store")
        shown_texts = texts(mgr.reports_tab)
        for raw in ("totals.gross_sales", "by_till[0]", "gross_sales", "cash_difference"):
            assert not any(raw in t for t in shown_texts), raw
        figures = table_rows(mgr.report_view, i18n._("Totals"))
        # counts as counts, money as money, every figure with its label
        orders = figures[shown(i18n._("Orders"))][0]
        assert orders == shown(i18n.number(4)), orders
        assert figures[shown(i18n._("Voided baskets"))][0] == shown(i18n.number(1))
        net = figures[shown(i18n._("Net sales"))][0]
        assert net == shown(i18n.money(totals["net_sales"], "THB")), net
        disc = figures[shown(i18n._("Discounts"))][0]
        assert disc == shown(i18n.money(totals["discounts"], "THB"))
        assert len(figures) == len(totals)
        per_till = table_rows(mgr.report_view, i18n._("Per till"))
        assert {"R1", "R2"} <= set(per_till)
        tenders = table_rows(mgr.report_view, i18n._("Per tender"))
        assert tenders[shown(i18n._("Card"))][0] == shown(i18n.money(totals["card_sales"], "THB"))
        screenshot(app, artifacts / f"report_x_store_{lang}.png")
    i18n.set_language("en")


def test_a_cashier_reads_their_own_report_and_not_anothers(till, store, sales, artifacts):
    from kiosk import i18n
    from kiosk.i18n import shown

    url = store.url
    c1 = sales["tokens"]["c1"]

    def http(path: str, token: str) -> tuple[int, Any]:
        req = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                import json

                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, None

    status, own = http("/v1/reports/cashier", c1)
    assert status == 200 and own["staff"] == "c1" and own["totals"]["orders"] == 3
    assert http("/v1/reports/cashier?staff=c2", c1)[0] == 403
    assert http("/v1/reports/x?scope=store", c1)[0] == 403
    assert http("/v1/reports/sales?by=hour", c1)[0] == 403
    # from the sale counter: "My report" in the header
    app = till("R1")
    sign_in(app, "c1", "1111")
    assert type(app.screen).__name__ == "SaleScreen"
    app.own_report_button.invoke()
    win = pump(
        app, lambda: app.dialog if app.dialog and app.dialog.view.trees else None, what="own report"
    )
    idle(app)
    all_texts = texts(win)
    assert_no_raw_keys(all_texts, "own report")
    figures = table_rows(win.view, i18n._("Totals"))
    assert figures[shown(i18n._("Orders"))][0] == "3"
    tenders = table_rows(win.view, i18n._("Per tender"))
    card = sum(o["total"] for o in sales["c1"] if o["payments"][0]["kind"] == "card")
    assert shown(i18n.money(card, "THB")) in tenders[shown(i18n._("Card"))]
    assert any("c1" in t for t in all_texts) and not any("c2" in t for t in all_texts)
    screenshot(app, artifacts / "report_own_en.png")


def test_day_close_shows_expected_counted_difference_and_asks_first(till, store, sales, artifacts):
    from kiosk.i18n import shown

    app = till("R2")
    sign_in(app, "m1", "9999")
    mgr = app.screen
    mgr.tabs.select(mgr.day_tab)
    pump(app, lambda: mgr.expected is not None, what="expected figures")
    exp = get(f"{store.url}/v1/reports/x?scope=till&till=R2")["totals"]
    assert mgr.expected["cash"] == exp["expected_cash"] > 0
    # count with the on-screen keypad: 1 × THB 100 and 3 × THB 20
    for denom, digits in ((10000, "1"), (2000, "3")):
        mgr.count_entries[denom].focus_force()
        app.update()
        for d in digits:
            mgr.keypad.press(d)
    idle(app)
    counted = 10000 + 3 * 2000
    cash_row = [shown(x) for x in mgr.tender_figures[0]]
    money = mgr.app.money
    assert cash_row[1:] == [
        money(exp["expected_cash"]),
        money(counted),
        ("+" if counted > exp["expected_cash"] else "") + money(counted - exp["expected_cash"]),
    ]
    mgr.close_button.invoke()
    dlg = pump(
        app,
        lambda: type(app.dialog).__name__ == "CloseConfirm" and app.dialog,
        what="close question",
    )
    rows = [list(dlg.tree.item(i, "values")) for i in dlg.tree.get_children()]
    assert rows[0][1:] == cash_row[1:], rows
    assert len(rows) == 3  # cash, card, member wallet
    screenshot(app, artifacts / "day_close_confirm_en.png")
    # not closed before confirming; "Go back" leaves it open
    assert get(f"{store.url}/v1/day")["tills"]["R2"]["open"]
    dlg.back_button.invoke()
    idle(app)
    assert get(f"{store.url}/v1/day")["tills"]["R2"]["open"] and app.dialog is None
    mgr.close_button.invoke()
    dlg = pump(
        app,
        lambda: type(app.dialog).__name__ == "CloseConfirm" and app.dialog,
        what="close question again",
    )
    dlg.confirm_button.invoke()
    pump(
        app,
        lambda: not get(f"{store.url}/v1/day")["tills"]["R2"]["open"],
        timeout=60,
        what="day closed",
    )
    day = get(f"{store.url}/v1/day")["tills"]["R2"]
    assert day.get("counted_cash", counted) == counted
    pump(app, lambda: mgr.report_view.trees, what="Z report shown")
    assert_no_raw_keys(texts(mgr.reports_tab) + texts(mgr.day_tab), "after close")


def test_report_prints_on_the_receipt_printer_and_saves_a_pdf(till, store, sales, printer):
    app = till(
        "R5",
        printer={"kind": "network", "host": "127.0.0.1", "port": printer.port, "status": False},
    )
    sign_in(app, "m1", "9999")
    mgr = show_manager_report(app, "x_store")
    mgr.report_actions["print"].invoke()
    jobs = printer.wait_jobs(1, timeout=30)
    assert jobs, "nothing printed"
    job = jobs[-1]
    assert b"X report" in job and b"Net sales" in job and b"Orders" in job
    assert b"gross_sales" not in job
    mgr.report_actions["pdf"].invoke()
    path = pump(app, lambda: getattr(app, "last_pdf", None), timeout=60, what="PDF saved")
    assert str(path) in app.message.cget("text")
    pages = pdf_images(Path(path))
    assert pages and pages[0].size == (1240, 1754)
    assert pages[0].convert("L").getextrema()[0] < 100  # something is drawn on it


def test_charts_of_today_by_hour_category_and_till(till, store, sales, artifacts):
    app = till("R6")
    sign_in(app, "m1", "9999")
    mgr = app.screen
    mgr.tabs.select(mgr.charts_tab)
    mgr.charts_button.invoke()
    pump(app, lambda: all(c.bars for c in mgr.charts.values()), what="charts")
    idle(app)
    till_names = [b[0] for b in mgr.charts["till"].bars]
    assert {"R1", "R2"} <= set(till_names)
    by_till = {b[0]: b[1] for b in mgr.charts["till"].bars}
    rows = get(f"{store.url}/v1/reports/sales?by=till")
    assert by_till == {r["till"]: r["net_sales"] for r in rows}
    assert sum(b[1] for b in mgr.charts["hour"].bars) == sum(by_till.values())
    drawn = [t for c in mgr.charts.values() for t in c.texts()]
    assert "R1" in drawn and not any(RAW.search(t) for t in drawn)
    screenshot(app, artifacts / "charts_en.png")


def test_import_errors_in_the_managers_language(till, store, tmp_path):
    from kiosk import i18n

    csv = tmp_path / "bad.csv"
    csv.write_text("sku,name,price,tax_class\nA1,Tea,abc,std\nA1,Tea,12.50,std\nB2,Rice,3,zz\n")
    app = till("R7", lang="th")
    sign_in(app, "m1", "9999")
    i18n.set_language("th")
    app.session.lang = "th"
    app.show_counter("manager")
    mgr = app.screen
    mgr.import_path.insert(0, str(csv))
    mgr.preview_import()
    pump(app, lambda: len(mgr.import_tree.get_children()) == 3, what="preview")
    errors = [mgr.import_tree.item(i, "values")[-1] for i in mgr.import_tree.get_children()]
    assert errors[1] == ""  # row 3 is the first A1: fine; row 3 is the duplicate below
    for e in (errors[0], errors[2]):
        assert re.search("[\u0e00-\u0e7f]", e), e  # Thai
        assert not re.search(r"[a-z]+\.[a-z_]+", e), e  # no error code
    assert "2" in errors[0] and "price" in errors[0] and "abc" in errors[0]
    assert "zz" in errors[2] and "std" in errors[2]
    i18n.set_language("en")


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_screenshots_at_each_size(store, sales, artifacts, size):
    """The report, charts and day screens in every language at this screen size, from a child
    process with its own Xvfb (a till process keeps its X connections: a second display that
    went away would take it down)."""
    kits = Path(__file__).resolve().parents[2] / "kits"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(kits), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DISPLAY", None)
    run = subprocess.run(
        [sys.executable, str(kits / "report_shots.py"), store.url, size, str(artifacts)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    for lang in LANGS:
        for screen in ("report", "charts", "day", "own"):
            assert (artifacts / f"{screen}_{size}_{lang}.png").stat().st_size > 10_000
