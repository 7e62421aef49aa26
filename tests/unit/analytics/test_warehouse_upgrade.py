"""A warehouse written before a column was added (``orders.tier``, ``orders.member_discount``) still
opens in DuckDB, and HQ upgrades its files once so every file has the shared schema."""

from __future__ import annotations

import polars as pl

from analytics.flatten import SCHEMAS, flatten
from analytics.flatten_rows import _as_dict
from analytics.hq import Warehouse
from cloud.warehouse_files import SCHEMA_MARK, _fname, upgrade_files

NEW = ("tier", "member_discount")


def _write(frames: dict[str, pl.DataFrame], root, first: int, drop: tuple[str, ...] = ()) -> int:
    """Files as HQ's export names them; ``drop``: the orders columns an older kassa had not."""
    n = 0
    for table, df in frames.items():
        if table == "orders":
            df = df.drop(list(drop))
        for (store, day), part in df.group_by(["store_id", "business_day"]):
            d = root / table / f"store={store}" / f"day={day}"
            d.mkdir(parents=True, exist_ok=True)
            part.write_parquet(d / _fname(first, first + 10**6))
            n += 1
    return n


def test_old_files_open_and_are_upgraded_once_then_a_tier_discount_is_counted(history, tmp_path):
    envs = [d for e in history.envelopes if (d := _as_dict(e)) and d["kind"] != "order.exchanged"]
    old = flatten(envs[: len(envs) // 2], "S001", history.shop.zone)
    _write(old, tmp_path, 1, drop=NEW)

    # a copy an analyst took before HQ upgraded it: DuckDB reads it by name, the new columns null
    con = Warehouse(tmp_path).duckdb()
    got = con.execute("SELECT count(*), count(member_discount) FROM orders").fetchone()
    assert got == (old["orders"].height, 0)

    n_old = sum(1 for _ in (tmp_path / "orders").rglob("*.parquet"))
    assert upgrade_files(tmp_path) == n_old  # only the orders files lacked columns
    assert upgrade_files(tmp_path) == 0  # marked: the next start opens no footer
    assert (tmp_path / SCHEMA_MARK).stat().st_mode & 0o777 == 0o600
    for f in (tmp_path / "orders").rglob("*.parquet"):
        assert list(pl.read_parquet_schema(f)) == list(SCHEMAS["orders"])

    # new sales, one of them with a member's Gold discount, land beside the upgraded files
    rest = envs[len(envs) // 2 :]
    sale = next(e for e in rest if e["kind"] == "order.completed")
    sale["body"] = {**sale["body"], "tier": "Gold", "member_discount": 125}
    _write(flatten(rest, "S001", history.shop.zone), tmp_path, 2 * 10**6)
    con = Warehouse(tmp_path).duckdb()
    rows = con.execute(
        "SELECT tier, member_discount FROM orders WHERE order_id = ?", [sale["body"]["order_id"]]
    ).fetchall()
    assert rows == [("Gold", 125)]
    total = con.execute("SELECT sum(member_discount), count(*) FROM orders").fetchone()
    lazy = Warehouse(tmp_path).scan("orders").select(pl.col("member_discount").sum()).collect()
    assert total[0] == lazy.item() == 125  # the old files' unknown discounts are null, not 0
    assert total[1] == old["orders"].height + sum(1 for e in rest if e["kind"] == "order.completed")
