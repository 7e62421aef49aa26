"""The printer alert from the tills' own reports: raised for a printer that cannot print or a
till with failed receipts, not for a till without a printer, and said in words per till."""

from __future__ import annotations

from actors.device_states import check_report
from domain.alerts_devices import printer_alert


def test_a_printer_out_of_paper_or_with_failed_receipts_raises_the_alert_per_till():
    reports = {
        "T1": check_report({"printer": "ok"}),
        "T2": check_report({"printer": "paper_out", "pending": 2}),
        "T3": check_report({"printer": "none"}),  # no printer set up: nothing to say
        "T4": check_report({"printer": "ok", "failed": 1}),
        "T5": check_report({"printer": "paper_low"}),  # still prints
    }
    alert = printer_alert(reports)
    assert alert is not None and alert.code == "printer.not_ready"
    v = alert.values
    assert v["count"] == 2
    assert (v["till_1"], v["printer_1"], v["failed_1"]) == ("T2", "paper_out", 0)
    assert (v["till_2"], v["printer_2"], v["failed_2"]) == ("T4", "ok", 1)
    assert all(isinstance(x, (int, str)) for x in v.values())  # HQ takes flat values only


def test_no_alert_while_every_printer_prints():
    assert printer_alert({"T1": check_report({"printer": "ok"})}) is None
    assert printer_alert({}) is None


def test_the_health_tab_says_it_in_words():
    from kiosk import i18n
    from kiosk.screens.manager_health import ALERT_NAMES, alert_detail

    alert = printer_alert(
        {
            "T2": check_report({"printer": "paper_out"}),
            "T4": check_report({"printer": "ok", "failed": 3}),
        }
    )
    assert alert is not None
    i18n.set_language("en")
    assert alert_detail(alert.to_dict()) == "till T2: out of paper; till T4: 3 receipts not printed"
    assert ALERT_NAMES["printer.not_ready"] == "Printer cannot print"
    i18n.set_language("th")
    try:
        th = alert_detail(alert.to_dict())
        assert "T2" in th and "out of paper" not in th and "till" not in th, th
    finally:
        i18n.set_language("en")
