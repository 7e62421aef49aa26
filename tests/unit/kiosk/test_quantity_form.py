"""The quantity a refund or an exchange gives back, as typed in its form."""

from kiosk.screens.dialogs import quantity_up_to


def test_a_whole_quantity_up_to_what_is_left_is_taken_and_nothing_else():
    assert quantity_up_to("0", 3) == 0
    assert quantity_up_to("3", 3) == 3
    assert quantity_up_to(" 2 ", 3) == 2
    for bad in ("4", "-1", "1.5", "", "two"):
        assert quantity_up_to(bad, 3) is None, bad
