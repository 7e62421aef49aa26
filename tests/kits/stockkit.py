"""Helpers of the stock screens' till tests: scannable products of the demo store by category,
and the Stock tab opened on a manager's till."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tilldriver import get, idle

__all__ = ["scannable", "stock_section"]


def scannable(url: str, at_least: int = 1) -> tuple[str, list[dict]]:
    """The first category with ``at_least`` products sold by the piece with a barcode."""
    for cat in get(f"{url}/v1/product-grid")["categories"]:
        name = cat["name"] if isinstance(cat, dict) else cat
        rows = get(f"{url}/v1/product-grid?category={quote(name)}")["products"]
        rows = [p for p in rows if p["barcodes"] and p["unit"] == "each"]
        if len(rows) >= at_least:
            return name, rows
    raise AssertionError(f"no category with {at_least} scannable products")


def stock_section(app: Any, section: str) -> Any:
    """The manager counter's Stock tab with its ``section`` ("receive_tab", "count_tab", …)."""
    screen = app.screen
    assert type(screen).__name__ == "ManagerScreen"
    stock = screen.stock
    screen.tabs.select(stock)
    stock.sections.select(getattr(stock, section))
    idle(app)
    return stock
