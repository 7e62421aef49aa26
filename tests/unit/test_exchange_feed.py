"""The sales feed (``GET /v1/events?scope=sales``, ``actors.http.events.sales_view``) and the big
screen's live figures (``kiosk.bigscreen_model``) count an exchange as it happens — its returned
part as a refund and its sold part as a new order — so the screen agrees with the summary it
reloads later (revenue net of refunds, orders counted once each). Events come from a real ledger
(``Ledger`` without Ray)."""

from __future__ import annotations

from actors.http.events import sales_view
from domain.day import business_day_of
from kiosk.bigscreen_model import Figures
from tests.unit.test_exchange import CHEESE, SOAP, exchange, sell


def figures_after(shop, seq: int) -> tuple[Figures, list[dict]]:
    envs = shop.ledger.read(0, 10_000)
    day = business_day_of(envs[0].ts, "UTC")
    f = Figures()
    zero = {"orders": 0, "revenue": 0}
    f.load({"business_day": day, "as_of_seq": seq, "today": zero, "last_week": zero})
    feed = [v for v in map(sales_view, envs) if v is not None]
    for v in feed:
        f.apply(v)
    return f, feed


def test_an_exchange_with_a_positive_difference_is_counted_live(shop):
    order = sell(shop, {"MILK-1L": 2}, [{"kind": "cash", "amount": 9000}])
    f, _ = figures_after(shop, 0)
    assert (f.revenue, f.orders) == (9000, 1)
    ex = exchange(shop, order, {"MILK-1L": 1}, [CHEESE], [{"kind": "cash", "amount": 50000}])
    f, feed = figures_after(shop, 0)
    last = feed[-1]
    assert last["kind"] == "order.exchanged" and set(last["body"]) == {"returned", "sold"}
    assert "payments" not in str(last) and "staff" not in last  # sales figures only
    assert f.revenue == 9000 - ex.returned.amount + ex.sold.total == 54500
    assert f.orders == 2  # the new sale is an order; the return is not
    assert f.products["CHEESE"].qty == 1 and f.products["CHEESE"].amount == 50000
    assert f.ticker[0].amount == 45500 and sum(f.hours) == f.revenue


def test_an_exchange_with_a_negative_difference_lowers_the_revenue(shop):
    order = sell(shop, {"CHEESE": 1}, [{"kind": "cash", "amount": 50000}])
    exchange(shop, order, {"CHEESE": 1}, [SOAP])
    f, _ = figures_after(shop, 0)
    assert (f.revenue, f.orders) == (2000, 2)
    assert [p.sku for p in f.top_by_amount()] == ["CHEESE", "SOAP"]
    assert f.ticker[0].amount == -48000
