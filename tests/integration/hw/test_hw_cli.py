"""``python -m hw``: preview, test print and status against the loopback printer."""

from __future__ import annotations

import json

from hw.cli import main


def test_preview_and_test_print(tmp_path, loopback_printer, capsys):
    out = tmp_path / "ar.png"
    assert main(["preview", "--lang", "ar", "--paper", "58", "--out", str(out)]) == 0
    assert out.exists() and out.stat().st_size > 1000
    settings = json.dumps(
        {"kind": "network", "host": "127.0.0.1", "port": loopback_printer.port, "timeout": 2}
    )
    assert main(["status", "--printer", settings]) == 0
    assert main(["test-print", "--printer", settings, "--lang", "zh"]) == 0
    jobs = loopback_printer.wait_jobs(1, timeout=5)
    assert jobs and "鲜牛奶".encode("gb18030") in jobs[-1] and b"\x1bp" not in jobs[-1]
    assert "printed" in capsys.readouterr().out
