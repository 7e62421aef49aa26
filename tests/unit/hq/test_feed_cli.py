"""``kassa admin feed``: a feed made, a file from its inbox staged by the cloud's code, reviewed,
approved into master data and published, the credential rotated."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.feed_desk import FeedDesk
from cloud.feed_inbox import scan_inbox
from domain.ports import SystemClock
from kassa_cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_feed_cli_add_staged_approve_rotate(tmp_path: Path, capsys) -> None:
    hq = str(tmp_path / "hq")
    rc, out = _run(capsys, "admin", "feed", "add", "acme", "--stores", "S001", "--hq", hq)
    assert rc == 0 and "credential (shown once" in out
    cred = out.split("its hash): ")[1].split()[0]
    desk = FeedDesk(Path(hq), SystemClock())
    assert desk.store.verify("acme", cred)
    (desk.inbox("acme") / "f.csv").write_bytes(b"sku,name_en,price\nA1,Apple,120\nA2,,5\n")
    assert scan_inbox(desk) == 1
    rc, out = _run(capsys, "admin", "feed", "staged", "acme", "--hq", hq)
    assert rc == 0 and "1 new" in out and "+ A1  120  Apple" in out
    assert "row 3 name_en: feed.missing" in out
    rc, out = _run(capsys, "admin", "feed", "approve", "acme", "--hq", hq)
    assert rc == 0 and "approved 1 product(s)" in out and "for S001" in out, out
    rc, out = _run(capsys, "admin", "feed", "approve", "acme", "--hq", hq)
    assert rc == 1 and "feed.nothing_staged" in out
    rc, out = _run(capsys, "admin", "feed", "list", "--hq", hq)
    assert "acme" in out and "staged 0" in out
    rc, out = _run(capsys, "admin", "feed", "rotate-credential", "acme", "--hq", hq)
    assert rc == 0 and not desk.store.verify("acme", cred)
