"""The prune policy of scheduled backups (``domain.backup_format.keep_names``, applied per folder by
``actors.backup_schedule.prune``) and the backup's file names; the settings' defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from actors.backup_schedule import default_dir, folders, prune, settings
from domain.backup_format import archive_name, keep_names, parse_name

START = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # a Thursday


def every_6h(days: int) -> list[tuple[datetime, str]]:
    out = []
    for i in range(days * 4):
        when = START + timedelta(hours=6 * i)
        out.append((when, archive_name("S001", int(when.timestamp() * 1e6), 100 * i)))
    return out


def test_names_carry_store_time_and_seq():
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    name = archive_name("shop-9", int(when.timestamp() * 1e6), 4242)
    assert name == "kassa-shop-9-20260304T050607Z-4242.kbak"
    assert parse_name(name) == ("shop-9", when, 4242)
    assert parse_name("kassa-S001-20260304T050607Z-1.kbak.partial") is None
    assert parse_name("notes.txt") is None


def test_daily_and_weekly_keep_the_newest_of_each_day_and_week():
    items = every_6h(60)  # 60 days, four backups a day
    keep = keep_names(items, daily=7, weekly=4)
    by_name = dict((n, w) for w, n in items)
    kept = sorted(by_name[n] for n in keep)
    newest = max(w for w, _ in items)
    assert newest in kept
    days = {w.date() for w in kept}
    last7 = {(newest - timedelta(days=d)).date() for d in range(7)}
    assert last7 <= days  # one for each of the last 7 days
    for d in last7:  # and it is that day's newest (18:00 UTC here, 21:00 for the last)
        assert max(w for w in kept if w.date() == d) == max(w for w, _ in items if w.date() == d)
    weeks = {w.isocalendar()[:2] for w in kept}
    assert len(weeks) == 4  # the last four ISO weeks, the oldest by its newest backup
    assert len(keep) <= 7 + 4
    assert all(w > newest - timedelta(days=28) for w in kept)


def test_few_backups_are_all_kept_and_zero_keeps_the_newest():
    items = every_6h(1)[:1]
    assert keep_names(items, 7, 4) == {items[0][1]}
    items = every_6h(3)
    assert keep_names(items, 0, 0) == {max(items)[1]}
    assert keep_names([], 7, 4) == set()


def test_prune_deletes_only_this_stores_backups_the_policy_drops(tmp_path: Path):
    items = every_6h(10)
    for _, n in items:
        (tmp_path / n).write_bytes(b"x")
    other = tmp_path / archive_name("S002", int(START.timestamp() * 1e6), 1)
    other.write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    gone = prune(tmp_path, "S001", daily=2, weekly=1)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert other.name in left and "notes.txt" in left
    assert len([n for n in left if n.startswith("kassa-S001-")]) == 2
    assert len(gone) == len(items) - 2


def test_settings_defaults_and_folders(tmp_path: Path):
    data = tmp_path / "shop" / "data"
    data.mkdir(parents=True)
    (data / "store.json").write_bytes(orjson.dumps({"store_id": "S001"}))
    conf = settings(data)
    assert conf["every_hours"] == 6 and conf["keep"] == {"daily": 7, "weekly": 4}
    assert folders(data, conf) == [(tmp_path / "shop" / "kassa-backups", False)]
    assert default_dir(data) == tmp_path / "shop" / "kassa-backups"
    (data / "store.json").write_bytes(
        orjson.dumps(
            {
                "backup": {
                    "dirs": ["/media/usb0/kassa", "local"],
                    "every_hours": "x",
                    "keep": {"daily": 3},
                }
            }
        )
    )
    conf = settings(data)
    assert conf["every_hours"] == 6 and conf["keep"] == {"daily": 3, "weekly": 4}
    assert folders(data, conf) == [(Path("/media/usb0/kassa"), True), (data / "local", True)]
