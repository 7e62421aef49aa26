"""``kassa admin user|product|profile|audit`` on an HQ folder, in-process: the first admin is made
with the password from stdin (never argv), a bad import reports every row and changes nothing."""

from __future__ import annotations

import io
import sys

from cloud.hqusers import HqUsers
from cloud.master import MasterData
from kassa_cli.main import main


def kassa(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_first_admin_products_prices_profiles_and_audit(tmp_path, monkeypatch, capsys):
    hq = str(tmp_path / "hq")
    rc, out, _ = kassa(
        monkeypatch,
        capsys,
        "admin",
        "user",
        "add",
        "--role",
        "admin",
        "alice",
        "--hq",
        hq,
        stdin="alice-password-1\n",
    )
    assert rc == 0 and "alice (admin)" in out
    users = HqUsers(tmp_path / "hq")
    assert users.login("alice", "alice-password-1", "cli")["role"] == "admin"
    users.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name_en,price\nA1,Cola,1500\nA2,Water,7.50\nA3,,100\n")
    rc, _, err = kassa(monkeypatch, capsys, "admin", "product", "import", str(bad), "--hq", hq)
    assert rc == 1 and "row 3: product.bad_price" in err and "row 4: product.no_name" in err
    rc, out, _ = kassa(
        monkeypatch,
        capsys,
        "admin",
        "product",
        "set",
        "A1",
        "name_en=Cola",
        "name_zh=可乐",
        "price=1500",
        "category=Drinks/Soft drinks",
        "--hq",
        hq,
    )
    assert rc == 0 and "version 1" in out
    rc, out, _ = kassa(
        monkeypatch,
        capsys,
        "admin",
        "product",
        "price",
        "A1",
        "1200",
        "--group",
        "city",
        "--from",
        "2026-12-01 08:00",
        "--hq",
        hq,
    )
    assert rc == 0
    rc, out, _ = kassa(
        monkeypatch,
        capsys,
        "admin",
        "profile",
        "set",
        "S001",
        "name=Silom",
        "group=city",
        "zone=Asia/Bangkok",
        "--hq",
        hq,
    )
    assert rc == 0
    md = MasterData(tmp_path / "hq")
    at = 1_796_112_000_000_000  # 2026-12-01 08:00 UTC
    assert md.products_for_store("S001", at)[0]["price"] == 1200
    assert md.products_for_store("S001", at - 1)[0]["price"] == 1500
    md.close()
    rc, out, _ = kassa(monkeypatch, capsys, "admin", "audit", "--hq", hq)
    assert [line.split()[5] for line in out.splitlines()] == [
        "user.add",
        "products.upsert",
        "price.add",
        "profile.put",
    ]
