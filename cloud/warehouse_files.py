"""The warehouse's Parquet files: their names (``seq-<first>-<last>.parquet``, ``FILE_RE``) and
durable, private writes (temp file, 0600, fsync, rename, fsync of the folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from analytics.schema import SCHEMAS, schema_digest
from cloud.hqauth import PRIVATE_FILE

__all__ = ["FILE_RE", "SCHEMA_MARK", "_fname", "_write_parquet", "_fsync_dir", "upgrade_files"]

SCHEMA_MARK = ".schema"  # the digest (analytics.schema.schema_digest) every file is written under

FILE_RE = re.compile(r"^seq-(\d{12})-(\d{12})\.parquet$")


def _fname(first: int, last: int) -> str:
    return f"seq-{first:012d}-{last:012d}.parquet"


def _write_parquet(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    df.write_parquet(tmp, compression="zstd", statistics=True)
    os.chmod(tmp, PRIVATE_FILE)  # sales and members' wallet movements
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def upgrade_files(root: Path) -> int:
    """Rewrite the Parquet files written before a column was added to the shared schema, so every
    file has every column (DuckDB reads a folder by its first file's columns). A column a file
    lacks is "" for text (never null) and null for numbers: it was not recorded then. Runs once
    per schema: ``root/.schema`` holds the digest it finished under. Returns the files rewritten."""
    mark, want = root / SCHEMA_MARK, schema_digest()
    if mark.exists() and mark.read_text().strip() == want:
        return 0
    n = 0
    for table, schema in SCHEMAS.items():
        for path in sorted((root / table).rglob("seq-*.parquet")):
            have = pl.read_parquet_schema(path)
            if list(have) == list(schema):
                continue
            df = pl.read_parquet(path, hive_partitioning=False)
            add = [
                pl.lit("" if dt == pl.String else None, dtype=dt).alias(c)
                for c, dt in schema.items()
                if c not in have
            ]
            df = df.with_columns(add).select(list(schema))
            _write_parquet(df, path)
            n += 1
    tmp = mark.with_name(mark.name + ".tmp")
    tmp.write_text(want + "\n")
    os.chmod(tmp, PRIVATE_FILE)
    os.replace(tmp, mark)
    return n
