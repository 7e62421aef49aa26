"""A store's data folder made without a server, for the backup tests: a journal of ``events``
events and the files a backup holds or leaves out."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import orjson

from actors.journal import Journal, Pending
from actors.store_file import load_config


def make_store(data: Path, events: int = 50) -> Journal:
    load_config(data)
    j = Journal(data / "journal.sqlite")
    for i in range(events):
        body = orjson.dumps({"n": i})
        j.append(
            [
                Pending(
                    str(uuid.uuid4()),
                    b"c",
                    time.time_ns() // 1000,
                    "x.y",
                    1,
                    "s",
                    "T1",
                    "",
                    "",
                    body,
                )
            ]
        )
    (data / "pin_key").write_bytes(os.urandom(32))
    (data / "cloud_secret").write_text("ab" * 32)
    (data / "licence").mkdir()
    (data / "licence" / "licence.json").write_text('{"id": 1}')
    (data / "catalogue.json").write_text('{"version": "v1", "products": []}')
    (data / "tills.json").write_text('["T1"]')
    (data / "analytics.duckdb").write_bytes(b"rebuildable")
    (data / "server.json").write_text("{}")
    (data / "journal_check.json").write_text("{}")
    (data / "snapshots").mkdir()
    (data / "snapshots" / "book-10.snap").write_bytes(b"s")
    return j
