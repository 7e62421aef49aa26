"""A store that flags at once: opening hours that leave out the present minute (in the demo
store's zone, Asia/Bangkok) and anomaly scoring every second (``KASSA_FLAG_EVERY_S``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def closed_now() -> tuple[int, int]:
    """Opening hours (minutes after midnight) that do not include the present minute."""
    now = datetime.now(ZoneInfo("Asia/Bangkok"))
    m = now.hour * 60 + now.minute
    return (13 * 60, 14 * 60) if m < 12 * 60 else (60, 2 * 60)


@contextmanager
def flagging_store(data: Path, products: int = 300, **settings: Any) -> Iterator[Any]:
    """A demo store on ``data`` (its store.json: closed now, plus ``settings``), started and
    stopped around the block."""
    from actors.process import StoreProcess

    data.mkdir(parents=True, exist_ok=True)
    o, c = closed_now()
    (data / "store.json").write_text(json.dumps({"open_minute": o, "close_minute": c, **settings}))
    old = os.environ.get("KASSA_FLAG_EVERY_S")
    os.environ["KASSA_FLAG_EVERY_S"] = "1"
    proc = StoreProcess(data, products=products).start()
    try:
        yield proc
    finally:
        proc.stop()
        if old is None:
            os.environ.pop("KASSA_FLAG_EVERY_S", None)
        else:
            os.environ["KASSA_FLAG_EVERY_S"] = old
