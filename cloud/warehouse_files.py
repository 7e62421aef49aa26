"""The warehouse's Parquet files: their names (``seq-<first>-<last>.parquet``, ``FILE_RE``) and
durable, private writes (temp file, 0600, fsync, rename, fsync of the folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from cloud.hqauth import PRIVATE_FILE

__all__ = ["FILE_RE", "_fname", "_write_parquet", "_fsync_dir"]

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
