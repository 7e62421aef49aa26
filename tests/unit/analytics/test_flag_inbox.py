"""Acting on a flag is journaled and lands in the flags table beside the flag, so the inbox (and
HQ's warehouse, which holds the same table) knows each flag's state, who acted and the note."""

from __future__ import annotations

import msgspec

from analytics.anomaly import RuleConfig, score
from analytics.events import FlagAcknowledged, FlagDismissed, flags_to_events, inbox
from analytics.flatten import flatten
from domain.events import kind_of
from tests.unit.analytics.test_anomaly_rules import ZONE, Journal


def test_flag_actions_fold_into_the_inbox() -> None:
    j = Journal()
    j.sell("K", 10.0, [("TV", "each", 1, 900000)], pay="card")
    j.refund("K", 11.0, 900000, "cash")
    j.sell("L", 10.5, [("TV", "each", 1, 900000)], pay="card")
    j.refund("L", 11.5, 900000, "cash")
    fr = flatten(j.events, "S1", ZONE)
    evs = {e.order_id: e for e in flags_to_events(score(fr, RuleConfig(rules=("refund_to_cash",))))}
    assert set(evs) == {"K", "L"}
    for ev in evs.values():
        j.emit("order.flagged", msgspec.to_builtins(ev), 12.0, "system", "")
    ack = FlagAcknowledged(evs["K"].flag_id, "K")
    dis = FlagDismissed(evs["K"].flag_id, "K", "the customer's card was cancelled")
    assert kind_of(ack) == "flag.acknowledged" and kind_of(dis) == "flag.dismissed"
    j.emit("flag.acknowledged", {"flag_id": ack.flag_id, "order_id": "K"}, 12.5, "m1", "")
    j.emit("flag.dismissed", {"flag_id": dis.flag_id, "order_id": "K", "note": dis.note}, 13, "m1")
    rows = flatten(j.events, "S1", ZONE)["flags"].to_dicts()
    by_order = {f["order_id"]: f for f in inbox(rows)}
    assert by_order["L"]["state"] == "open" and by_order["L"]["rule"] == "refund_to_cash"
    k = by_order["K"]
    assert k["state"] == "dismissed" and k["by"] == "m1"
    assert k["note"] == "the customer's card was cancelled"
    assert k["evidence"]["cash_refunded"] == 900000 and k["staff"] == "a1"
