"""The health alert rules (``domain.alerts``): each fires strictly past its threshold, never at it;
the store.json settings are checked; the p99 estimate over histogram buckets."""

from __future__ import annotations

import pytest

from domain.alerts import MB, Figures, Thresholds, bucket_quantile, evaluate
from domain.errors import InvalidInput
from domain.store import StoreConfig

T = Thresholds(
    disk_free_pct=10.0,
    disk_free_mb=2048,
    upload_lag_h=24.0,
    licence_grace_days=3,
    commit_p99_ms=250.0,
    window_s=300,
    min_commits=20,
)
DISK = 10 * 1024 * MB  # a 10 GiB disk: 2048 MB is 20 % of it, the MB limit comes first


def codes(f: Figures, t: Thresholds = T) -> list[str]:
    return [a.code for a in evaluate(f, t)]


def test_nothing_known_raises_nothing():
    assert evaluate(Figures(), T) == []


def test_disk_free_in_megabytes_exactly_at_the_threshold_is_no_alert():
    small = 20 * 1024 * MB  # 20 GiB: 10 % is 2048 MB exactly
    at = Figures(disk_free_bytes=2048 * MB, disk_total_bytes=DISK)
    assert codes(at) == []
    below = Figures(disk_free_bytes=2048 * MB - 1, disk_total_bytes=DISK)
    alert = evaluate(below, T)[0]
    assert alert.code == "disk.low" and alert.values["limit_mb"] == 2048
    assert alert.values["free_mb"] == pytest.approx(2048.0, abs=0.1)
    # on the 20 GiB disk both limits meet at 2048 MB
    assert codes(Figures(disk_free_bytes=2048 * MB, disk_total_bytes=small)) == []
    assert codes(Figures(disk_free_bytes=2048 * MB - 1, disk_total_bytes=small)) == ["disk.low"]


def test_disk_free_in_percent_exactly_at_the_threshold_is_no_alert():
    total = 100 * 1024 * MB  # 10 % = 10240 MB, above the 2048 MB limit
    at = Figures(disk_free_bytes=total // 10, disk_total_bytes=total)
    assert codes(at) == []
    below = Figures(disk_free_bytes=total // 10 - 1, disk_total_bytes=total)
    (alert,) = evaluate(below, T)
    assert alert.code == "disk.low" and alert.values["free_pct"] == pytest.approx(10.0)
    assert "MB" in alert.message and "%" in alert.message


def test_upload_lag_exactly_at_the_threshold_is_no_alert():
    assert codes(Figures(upload_backlog_events=500, upload_lag_h=24.0)) == []
    (alert,) = evaluate(Figures(upload_backlog_events=500, upload_lag_h=24.01), T)
    assert alert.code == "upload.lagging" and alert.values == {
        "hours": 24.0,
        "events": 500,
        "limit_h": 24.0,
    }
    assert codes(Figures(upload_backlog_events=0, upload_lag_h=None)) == []  # nothing waiting


def test_licence_grace_exactly_at_the_threshold_is_no_alert():
    assert codes(Figures(licence_code="licence.grace", licence_grace_days_left=3)) == []
    (alert,) = evaluate(Figures(licence_code="licence.grace", licence_grace_days_left=2), T)
    assert alert.code == "licence.grace_low" and alert.values == {"days": 2, "limit_days": 3}
    overdue = Figures(licence_code="licence.check_overdue", licence_grace_days_left=0)
    assert codes(overdue) == ["licence.grace_low"]
    # checked online a moment ago: grace days are not running out, whatever the licence allows
    assert codes(Figures(licence_code="licence.ok", licence_grace_days_left=1)) == []


def test_commit_p99_exactly_at_the_threshold_is_no_alert():
    at = Figures(commit_p99_ms=250.0, commits_in_window=20)
    assert codes(at) == []
    (alert,) = evaluate(Figures(commit_p99_ms=250.5, commits_in_window=20), T)
    assert alert.code == "commit.slow" and alert.values["minutes"] == 5.0
    # too few commits in the window to speak of a 99th percentile
    assert codes(Figures(commit_p99_ms=900.0, commits_in_window=19)) == []


def test_every_rule_at_once_in_a_fixed_order():
    f = Figures(
        disk_free_bytes=MB,
        disk_total_bytes=DISK,
        upload_backlog_events=3,
        upload_lag_h=30.0,
        licence_code="licence.grace",
        licence_grace_days_left=1,
        commit_p99_ms=999.0,
        commits_in_window=100,
    )
    assert codes(f) == ["disk.low", "upload.lagging", "licence.grace_low", "commit.slow"]
    assert all(a.to_dict()["message"] for a in evaluate(f, T))


def test_thresholds_from_store_json():
    t = Thresholds.from_dict({"disk_free_mb": 500, "upload_lag_h": 48})
    assert (t.disk_free_mb, t.upload_lag_h, t.disk_free_pct) == (500, 48.0, 10.0)
    assert Thresholds.from_dict(None) == Thresholds()
    for bad in ({"disk_free_mb": -1}, {"nope": 1}, {"upload_lag_h": "1"}, {"disk_free_pct": 101}):
        with pytest.raises(InvalidInput) as err:
            Thresholds.from_dict(bad)
        assert err.value.code == "alerts.bad_setting"
    # store.json refuses a bad setting when it is read, and keeps a good one
    with pytest.raises(InvalidInput):
        StoreConfig.from_dict({"alerts": {"commit_p99_ms": True}})
    cfg = StoreConfig.from_dict({"alerts": {"commit_p99_ms": 100}})
    assert StoreConfig.from_dict(cfg.to_dict()).alerts == {"commit_p99_ms": 100}
    assert StoreConfig.from_dict({}).alerts == {}  # an old store.json loads


def test_bucket_quantile_interpolates_like_prometheus():
    bounds = [0.01, 0.1, 1.0]
    assert bucket_quantile(0.99, bounds, [0, 0, 0, 0]) is None
    # 100 observations all in (0.01, 0.1]: the 99th lies 99 % of the way through that bucket
    assert bucket_quantile(0.99, bounds, [0, 100, 0, 0]) == pytest.approx(0.01 + 0.09 * 0.99)
    assert bucket_quantile(0.5, bounds, [50, 50, 0, 0]) == pytest.approx(0.01)
    # in the first bucket: from 0
    assert bucket_quantile(0.5, bounds, [10, 0, 0, 0]) == pytest.approx(0.005)
    # above every bound: the highest bound
    assert bucket_quantile(0.99, bounds, [0, 0, 1, 99]) == 1.0
    with pytest.raises(ValueError):
        bucket_quantile(0.5, bounds, [1, 2])


def test_the_commit_window_forgets_commits_older_than_the_window(tmp_path, monkeypatch):
    from actors.metrics import FAKE_DISK_ENV, CommitWindow, FakeDisk, RealDisk, disk_probe

    w = CommitWindow(window_s=300)
    for _ in range(99):
        w.add(0.002)
    w.add(3.0)  # one very slow commit
    assert w.recent(now=0.0) == (pytest.approx(2.5), 100)  # the 99th is the 99th fast one
    p99, n = w.recent(now=10.0, keep=False)  # a scrape only looks: nothing new since t=0
    assert (p99, n) == (None, 0)
    for _ in range(30):
        w.add(0.004)
    p99, n = w.recent(now=200.0)
    assert n == 30 and p99 == pytest.approx(2.5 + 2.5 * 0.99)  # ms, inside (2.5, 5] ms
    # past the window the snapshot at t=0 is gone; the one at t=200 is the base
    w.add(0.2)
    p99, n = w.recent(now=400.0)
    assert n == 1 and 100 < p99 <= 250
    # the disk probe: real unless the tests' variable says otherwise
    monkeypatch.delenv(FAKE_DISK_ENV, raising=False)
    assert isinstance(disk_probe(), RealDisk)
    monkeypatch.setenv(FAKE_DISK_ENV, "50")
    fake = disk_probe()
    assert isinstance(fake, FakeDisk)
    total, free = fake.usage(tmp_path)
    assert free == 50 * MB and total == RealDisk().usage(tmp_path)[0]
