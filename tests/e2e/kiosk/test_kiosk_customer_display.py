"""The customer display: a customer-facing window (read back from its widgets) and a 2 x 20 pole
display (a loopback TCP "VFD" on 127.0.0.1 that decodes the ESC/POS display frames it receives),
driven by a real till window under Xvfb against a real store server. Screenshots of the customer
window in each language at 1024x768 and 1920x1080 go to ``artifacts/kiosk/``.

One 1920x1080 Xvfb serves the whole module (a second X server started and stopped inside the
process would leave Tk holding a dead display connection); the customer window is placed full-size
at +0+0 and the screenshot is cut to its size."""

from __future__ import annotations

import gc
import socket
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest

from tilldriver import get, idle, open_day, pump, settle, sign_in, type_keys, xvfb_display

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small, THB 30.50
TEA2 = "8850000000027"  # Golden Green tea small, THB 19.50
CLEAR, LINE2 = b"\x0c", b"\x1f\x24\x01\x02"


class LoopbackPole(socketserver.ThreadingTCPServer):
    """A TCP listener on 127.0.0.1 that takes what a network VFD would and decodes its frames
    (CLEAR, line 1, cursor to line 2, line 2) into (line1, line2) pairs."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        self.data = b""
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _PoleConnection)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def frames(self) -> list[tuple[str, str]]:
        with self.lock:
            data = self.data
        out = []
        for chunk in data.split(CLEAR)[1:]:
            if LINE2 in chunk:
                one, two = chunk.split(LINE2, 1)
                two = two.split(b"\x1b@")[0]  # (an INIT before the next CLEAR)
                out.append((one.decode("cp858").rstrip(), two.decode("cp858").rstrip()))
        return out

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _PoleConnection(socketserver.BaseRequestHandler):
    server: LoopbackPole

    def handle(self) -> None:
        while chunk := self.request.recv(4096):
            with self.server.lock:
                self.server.data += chunk


@pytest.fixture(scope="module")
def xvfb():
    with xvfb_display("1920x1080") as display:
        yield display


def shot(app, window, path: Path) -> Path:
    """The customer window (at +0+0, on top) as the customer sees it."""
    window.lift()
    settle(app, 0.3)
    w, h = window.px
    subprocess.run(
        ["import", "-window", "root", "-crop", f"{w}x{h}+0+0", "+repage", str(path)],
        check=True,
        timeout=30,
    )
    return path


@pytest.fixture
def pole():
    p = LoopbackPole()
    yield p
    p.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_till(store, tmp_path, till_id: str, **kw):
    from kiosk.app import TillApp

    open_day(store.url, till_id)
    app = TillApp(store.url, till_id, data_dir=tmp_path / till_id, **kw)
    pump(app, lambda: app.store and app.print_queue is not None, what="store config")
    return app


def close_till(app) -> None:
    try:
        app.close()
    finally:
        gc.collect()  # free the window here, on the Tk thread


@pytest.fixture
def till(xvfb, store, tmp_path):
    made = []

    def make(till_id: str, **kw):
        app = make_till(store, tmp_path, till_id, **kw)
        made.append(app)
        return app

    yield make
    for app in made:
        close_till(app)
    made.clear()


def scan(app, code: str, start: int) -> None:
    lines = lambda: app.screen.view.get("lines") or []  # noqa: E731
    before = (len(lines()), sum(int(ln["qty"]) for ln in lines()))
    type_keys(app.screen.entry, code, gap_ms=4, start_ms=start)
    pump(
        app,
        lambda: (len(lines()), sum(int(ln["qty"]) for ln in lines())) != before or app.last_error,
        what=f"scan {code}",
    )
    assert not app.last_error, app.last_error


def pay_cash(app, amount: str) -> dict:
    """Pay the basket in cash through the till's pay screen; the completed order."""
    sale = app.screen
    sale.last_order = None
    sale.buttons["pay"].invoke()
    dlg = pump(app, lambda: app.dialog, what="pay dialog")
    dlg.cash_amount.delete(0, "end")
    dlg.cash_amount.insert(0, amount)
    dlg.submit()  # the pay screen's Enter
    return pump(app, lambda: sale.last_order, what="order paid")


def wait_frame(app, pole: LoopbackPole, want, what: str) -> tuple[str, str]:
    return pump(
        app, lambda: next((f for f in pole.frames() if want(f)), None), timeout=20, what=what
    )


def test_customer_window_and_pole_follow_a_cash_sale(till, store, pole, tmp_path):
    from kiosk import till_settings

    # set in the till's settings file, as `kassa till --customer-display … --pole-display …` saves
    till_settings.save(
        tmp_path / "D1",
        customer_display="window:900x640+0+0",
        pole_display={"kind": "tcp", "host": "127.0.0.1", "port": pole.port},
        customer_lang="en",
    )
    app = till("D1")
    cust = app.customer
    win = cust.window
    assert win is not None and cust.pole is not None
    pump(app, lambda: win.showing == "idle" and win.welcome.cget("text") == "Welcome", what="idle")
    pump(  # the shop's name as soon as the store has answered
        app,
        lambda: app.store and win.header.cget("text") == app.store["name"],
        what="the shop's name on the idle screen",
    )
    wait_frame(app, pole, lambda f: f == ("Welcome", latin_shop(app)), "pole idle")
    sign_in(app, "c1", "1111")
    cust.thanks_after_ms = 300
    scan(app, TEA, 1_000_000)
    scan(app, TEA2, 2_000_000)
    pump(app, lambda: len(win.shown_lines()) == 2, what="two lines on the customer window")
    first, second = win.shown_lines()
    assert first[0] == "Lotus Green tea small" and first[1] == "1" and "30.50" in first[2]
    assert second[0] == "Golden Green tea small" and "19.50" in second[2]
    assert "50.00" in win.total_value.cget("text") and win.showing == "basket"
    assert not win.change_value.winfo_ismapped()
    # the pole: the last item and its price, then the total
    item, total = wait_frame(app, pole, lambda f: f[0].startswith("Golden"), "pole item")
    assert item.endswith("19.50") and len(item) == 20
    assert total.startswith("Total") and total.endswith("50.00")

    order = pay_cash(app, "100")
    assert order["change"] == 5000
    pump(app, lambda: win.showing == "paid", what="paid on the customer window")
    assert "50.00" in win.total_value.cget("text")
    assert "100.00" in win.paid_value.cget("text")
    assert "50.00" in win.change_value.cget("text")
    assert win.thanks.cget("text") == "Thank you for shopping with us!"
    assert len(win.shown_lines()) == 2  # the lines the customer paid for stay in view
    paid, change = wait_frame(app, pole, lambda f: f[0].startswith("Paid"), "pole paid")
    assert paid.endswith("100.00") and change.startswith("Change") and change.endswith("50.00")
    wait_frame(app, pole, lambda f: f == ("Thank you", latin_shop(app)), "pole thank-you")
    idle(app)
    assert win.showing == "paid"  # the emptied basket keeps the thank-you until the next scan
    scan(app, TEA2, 3_000_000)
    pump(app, lambda: win.showing == "basket" and len(win.shown_lines()) == 1, what="next sale")
    assert "19.50" in win.total_value.cget("text") and not win.thanks.winfo_ismapped()
    assert cust.status_text == ""  # nothing wrong with the displays


def latin_shop(app) -> str:
    from hw.display import latin

    return latin(app.store["name"])[:20]


def test_sale_completes_with_the_pole_display_unreachable(till, store):
    port = free_port()  # nothing listens there: an unplugged display
    app = till(
        "D2",
        customer_display="window:800x600+0+0",
        pole_display={"kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": 0.5},
    )
    sign_in(app, "c1", "1111")
    scan(app, TEA, 1_000_000)
    pump(
        app,
        lambda: "Pole display: not reachable" in app.customer.status_text,
        what="the status line says the pole display is off",
    )
    pump(app, lambda: app.customer.label.winfo_ismapped(), what="the status line drawn")
    order = pay_cash(app, "50")
    assert order["change"] == 1950
    rec = get(f"{store.url}/v1/orders/{order['order_id']}")
    assert rec["order"]["total"] == 3050 and rec["till"] == "D2"
    win = app.customer.window
    pump(app, lambda: win.showing == "paid", what="the window still works")
    assert "19.50" in win.change_value.cget("text")


def test_newest_line_stays_in_view(till, store):
    from kassa_cli.sample import make_ean13

    app = till("D3", customer_display="window:1024x768+0+0")
    sign_in(app, "c1", "1111")
    win = app.customer.window
    for n in range(1, 15):
        scan(app, make_ean13("885", n), 1_000_000 * n)
        pump(app, lambda n=n: len(win.shown_lines()) == n, what=f"{n} lines")
        assert win.visible(-1), f"line {n} is out of view"
    assert not win.visible(0)  # 14 lines do not fit: the oldest scrolled away, not the newest


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_screenshots(till, artifacts, size):
    app = till(f"S{size[:4]}", customer_display=f"window:{size}+0+0")
    cust = app.customer
    win = cust.window
    sign_in(app, "c1", "1111")
    for i, lang in enumerate(("en", "zh", "th", "ar")):
        cust.lang_setting = lang
        cust.idle()
        pump(app, lambda lang=lang: win.showing == "idle" and win.lang == lang, what="idle")
        shot(app, win, artifacts / f"customer_idle_{lang}_{size}.png")
        scan(app, TEA, 10_000_000 * (i + 1))
        scan(app, TEA2, 10_000_000 * (i + 1) + 1_000_000)
        pump(app, lambda: len(win.shown_lines()) == 2, what="basket")
        shot(app, win, artifacts / f"customer_basket_{lang}_{size}.png")
        pay_cash(app, "1000")
        pump(app, lambda: win.showing == "paid", what="paid")
        idle(app)
        shot(app, win, artifacts / f"customer_change_{lang}_{size}.png")
        assert win.change_value.cget("text") and win.thanks.cget("text")
