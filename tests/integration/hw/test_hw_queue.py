"""The print queue: a sale never waits for the printer, and its receipt is never lost."""

from __future__ import annotations

import threading
import time

from hw.printer import DummyPrinter, PrinterError, Status
from hw.queue import PrintQueue
from hw_loopback import LoopbackPrinter, free_port
from hw_samples import STORES, refund, sale

FAST = {"backoff": (0.1, 0.5), "probe_every": 0.1, "idle_probe_every": 0.2}


def net(port: int, **kw) -> dict:
    return {
        "kind": "network",
        "host": "127.0.0.1",
        "port": port,
        "timeout": 1,
        "status_timeout": 0.5,
        **kw,
    }


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_sale_while_printer_down_prints_when_it_comes_back(tmp_path):
    port = free_port()  # nobody listens: the printer is off
    seen = []
    q = PrintQueue(tmp_path, net(port), STORES["zh"], on_change=seen.append, **FAST)
    try:
        t0 = time.perf_counter()
        job = q.submit(sale("zh"), "zh", member_balance=100)
        assert time.perf_counter() - t0 < 0.2  # at once
        assert job > 0
        assert wait_for(lambda: q.state().last_error)  # it tried, and failed
        st = q.state()
        assert st.pending == 1 and not st.ok and st.code == "printer.offline"
        assert st.next_retry_at is not None
        time.sleep(0.5)
        assert q.state().pending == 1  # still waiting, not dropped
        printer = LoopbackPrinter(port).start()  # the printer comes back
        try:
            jobs = printer.wait_jobs(1, timeout=10)
            assert len(jobs) == 1
            assert "鲜牛奶".encode("gb18030") in jobs[0]
            assert b"\x1bp" in jobs[0]  # cash sale, printed within the kick window
            assert wait_for(lambda: q.state().pending == 0 and q.state().printer == "ok")
            assert q.state().last_printed == "T1-000042"
            assert q.jobs(1)[0].state == "done" and q.jobs(1)[0].attempts >= 2
        finally:
            printer.stop()
        assert any(s.printer == "offline" for s in seen) and seen[-1].printer == "ok"
    finally:
        q.close()


def test_out_of_paper_waits_then_prints(tmp_path, loopback_printer):
    loopback_printer.paper_out()
    q = PrintQueue(tmp_path, net(loopback_printer.port), STORES["en"], **FAST)
    try:
        q.submit(sale("en", cash=False), "en")
        assert wait_for(lambda: q.state().printer == "paper_out")
        assert loopback_printer.jobs == []  # nothing sent to a printer without paper
        assert q.state().pending == 1
        loopback_printer.paper_ok()
        jobs = loopback_printer.wait_jobs(1, timeout=10)
        assert len(jobs) == 1 and b"Fresh milk 1L" in jobs[0] and b"\x1bp" not in jobs[0]
        assert wait_for(lambda: q.state().printer == "ok" and q.state().pending == 0)
    finally:
        q.close()


def test_jobs_survive_a_restart(tmp_path):
    port = free_port()
    q = PrintQueue(tmp_path, net(port), STORES["th"], **FAST)
    q.submit(sale("th"), "th")
    assert wait_for(lambda: q.state().printer == "offline")
    q.close()  # the till is switched off with the receipt still waiting
    printer = LoopbackPrinter(port).start()
    try:
        q2 = PrintQueue(tmp_path, net(port), STORES["th"], **FAST)
        try:
            assert q2.state().pending == 1
            jobs = printer.wait_jobs(1, timeout=10)
            assert jobs and b"\x1dv0" in jobs[0]  # Thai as a raster image
            assert wait_for(lambda: q2.state().pending == 0)
        finally:
            q2.close()
    finally:
        printer.stop()


def test_submit_is_idempotent_and_reprint_is_a_copy_without_kick(tmp_path):
    p = DummyPrinter()
    q = PrintQueue(tmp_path, p, STORES["en"], **FAST)
    try:
        o = sale("en")
        a = q.submit(o, "en")
        b = q.submit(o, "en")  # the till retried
        assert a == b
        assert q.wait_idle(10)
        assert len(p.jobs) == 1 and b"\x1bp" in p.jobs[0]
        r = q.reprint("T1-000042")
        assert r != a
        assert q.wait_idle(10)
        assert len(p.jobs) == 2
        assert b"*** COPY ***" in p.jobs[1] and b"\x1bp" not in p.jobs[1]
        q.reprint(a, lang="zh")  # by job id, in another language
        assert q.wait_idle(10)
        assert "鲜牛奶".encode("gb18030") in p.jobs[2]
    finally:
        q.close()


def test_late_receipt_does_not_open_the_drawer(tmp_path):
    clock = [1000.0]
    p = DummyPrinter()
    p.state = "offline"
    q = PrintQueue(tmp_path, p, STORES["en"], clock=lambda: clock[0], kick_window=60, **FAST)
    try:
        q.submit(sale("en"), "en")
        assert wait_for(lambda: q.state().printer == "offline")
        clock[0] += 3600  # an hour later the printer is fixed
        p.state = "ok"
        q.retry()
        assert q.wait_idle(10)
        assert len(p.jobs) == 1 and b"\x1bp" not in p.jobs[0]
    finally:
        q.close()


def test_refund_and_drawer_jobs(tmp_path):
    p = DummyPrinter()
    q = PrintQueue(tmp_path, p, STORES["en"], **FAST)
    try:
        o = sale("en")
        q.submit_refund(refund(o), "en", original=o)
        q.open_drawer()
        assert q.wait_idle(10)
        assert b"REFUND" in p.jobs[0] and b"\x1bp" in p.jobs[0]
        assert p.jobs[1].startswith(b"\x1bp")
        png = q.preview("R-000007", tmp_path / "refund.png")
        assert png.exists() and png.stat().st_size > 1000
    finally:
        q.close()


class SlowPrinter(DummyPrinter):
    """A printer that hangs on every job (a half-dead network printer)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def print_bytes(self, data):
        self.release.wait(5)
        return super().print_bytes(data)


def test_submit_and_state_never_wait_on_the_printer(tmp_path):
    p = SlowPrinter()
    q = PrintQueue(tmp_path, p, STORES["en"], **FAST)
    try:
        q.submit(sale("en"), "en", key="a")
        assert wait_for(lambda: q.state().printing)
        worst = 0.0
        for i in range(20):  # the printer is stuck in a job: the till keeps selling
            t0 = time.perf_counter()
            q.submit(sale("en"), "en", key=f"k{i}")
            q.state()
            worst = max(worst, time.perf_counter() - t0)
        assert worst < 0.2
        assert q.state().pending == 21
        p.release.set()
        assert q.wait_idle(20)
        assert len(p.jobs) == 21
    finally:
        p.release.set()
        q.close()


def test_render_failure_is_kept_as_failed_and_retryable(tmp_path):
    p = DummyPrinter()
    q = PrintQueue(tmp_path, p, STORES["en"], **FAST)
    try:
        bad = sale("en")
        bad["lines"][0]["base"] = "oops"
        q.submit(bad, "en")
        assert wait_for(lambda: q.state().failed == 1)
        assert q.state().pending == 0 and not q.state().ok
        assert "render" in q.state().last_error
        job = q.jobs(1)[0]
        assert job.state == "failed"
        assert q.cancel(job.id)
        assert q.state().failed == 0
    finally:
        q.close()


def test_printer_error_codes_are_stable():
    e = PrinterError("printer.paper_out", "no paper")
    assert e.code == "printer.paper_out" and e.to_dict()["code"] == "printer.paper_out"
    assert Status("paper_low").printable and not Status("offline").printable


def test_printer_without_status_answers_still_prints(tmp_path):
    printer = LoopbackPrinter(answer_status=False).start()
    try:
        q = PrintQueue(tmp_path, net(printer.port), STORES["en"], **FAST)
        try:
            q.submit(sale("en"), "en")
            q.reprint_order(sale("ar"), "ar")
            jobs = printer.wait_jobs(2, timeout=15)
            assert len(jobs) == 2
            assert b"Fresh milk 1L" in jobs[0] and b"\x1dv0" in jobs[1]
            assert wait_for(lambda: q.state().printer == "ok" and q.state().pending == 0)
        finally:
            q.close()
    finally:
        printer.stop()
