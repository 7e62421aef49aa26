"""The store's settings file, ``<data>/store.json``: read (created with defaults on first use)
and changed in place, keeping keys StoreConfig does not know (``auth``, ``tls``); and where HQ's
public licence key is found."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from actors.files import atomic_write
from domain.store import StoreConfig

__all__ = ["load_config", "update_store_json", "public_key_path", "load_public_key"]


def load_config(data_dir: Path, **overrides) -> StoreConfig:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "store.json"
    if path.exists():
        cfg = StoreConfig.from_dict(orjson.loads(path.read_bytes()))
    else:
        cfg = StoreConfig.from_dict(overrides) if overrides else StoreConfig()
        atomic_write(path, orjson.dumps(cfg.to_dict(), option=orjson.OPT_INDENT_2))
    placement = os.environ.get("KASSA_TILL_PLACEMENT")  # for one run, without editing the file
    if placement:
        cfg = StoreConfig.from_dict({**cfg.to_dict(), "till_placement": placement})
    return cfg


def update_store_json(data_dir: Path, **changes: Any) -> dict:
    """Change some top-level settings of store.json (None removes one), keeping every other key
    as it is — including those StoreConfig does not know (``auth``, ``tls``)."""
    path = Path(data_dir) / "store.json"
    doc = orjson.loads(path.read_bytes())
    for k, v in changes.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    atomic_write(path, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return doc


def public_key_path(data: Path) -> Path:
    return Path(data) / "licence" / "hq_public.key"


def load_public_key(data: Path) -> str | None:
    p = public_key_path(data)
    if p.exists():
        return p.read_text().strip()
    return os.environ.get("KASSA_HQ_PUBLIC_KEY") or None
