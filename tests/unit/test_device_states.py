"""The tills' printer reports at the store (``actors.device_states``) and the till's side of them
(``kiosk.app_devices``): checked, kept per till with their time, exported as series."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from actors.device_states import DeviceStates, check_report
from domain.errors import InvalidInput
from kiosk.app_devices import DeviceReport, printer_report


def test_a_report_is_kept_per_till_with_its_time_and_exported():
    reg = CollectorRegistry()
    dev = DeviceStates(reg, clock=lambda: 1_700_000_000.5)
    dev.report("T1", {"printer": "paper_out", "pending": 3})
    dev.report("T2", {"printer": "paper_low"})
    dev.report("T3", {"printer": "ok", "failed": 1})
    text = generate_latest(reg).decode()
    assert 'kassa_printer_up{till="T1"} 0.0' in text
    assert 'kassa_printer_up{till="T2"} 1.0' in text  # paper low still prints
    assert 'kassa_printer_up{till="T3"} 0.0' in text  # a receipt failed
    assert 'kassa_printer_pending_receipts{till="T1"} 3.0' in text
    assert dev.figures()["T1"] == {
        "printer": "paper_out", "pending": 3, "failed": 0, "up": False,
        "at_us": 1_700_000_000_500_000,
    }  # fmt: skip
    dev.report("T1", {"printer": "ok"})  # the latest report wins
    assert 'kassa_printer_up{till="T1"} 1.0' in generate_latest(reg).decode()


@pytest.mark.parametrize(
    "bad",
    [None, [], {}, {"printer": "on fire"}, {"printer": "ok", "pending": -1},
     {"printer": "ok", "failed": True}, {"printer": "ok", "pending": "2"}],
)  # fmt: skip
def test_a_bad_report_is_refused_with_its_code(bad):
    with pytest.raises(InvalidInput) as exc:
        check_report(bad)
    assert exc.value.code == "devices.bad_report"


class _Till(DeviceReport):
    def __init__(self) -> None:
        self.session = SimpleNamespace(token="tok")
        self.printer_state = None
        self.till = "T9"
        self.sent: list[dict] = []
        self.api = SimpleNamespace(post=lambda path, body: self.sent.append(body))
        self.worker = SimpleNamespace(read=lambda fn, ok, err, label: fn())


def test_the_till_reports_when_the_state_changes_not_at_every_receipt():
    till = _Till()
    till.report_printer()
    assert till.sent == [{"printer": "none", "pending": 0, "failed": 0}]
    st = SimpleNamespace(printer="ok", pending=0, failed=0)
    till.printer_state = st
    till.report_printer()
    st.pending = 4  # a receipt queued: the same state, nothing sent
    till.report_printer()
    st.printer = "offline"
    till.report_printer()
    assert [s["printer"] for s in till.sent] == ["none", "ok", "offline"]
    till.session = None  # signed out: nothing to send with
    st.printer = "ok"
    till.report_printer()
    assert len(till.sent) == 3
    assert printer_report(st) == {"printer": "ok", "pending": 4, "failed": 0}
