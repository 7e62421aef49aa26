"""The till's own settings, kept in its data folder as ``till-settings.json``::

    {
      "customer_display": "window:1920x1080+1920+0",   # or "window", "window:+1920+0", "off"
      "pole_display": {"kind": "tcp", "host": "192.168.1.60", "port": 9101},
      "customer_lang": "th"                              # optional; default: the store's language
    }

``kassa till --customer-display …``, ``--pole-display …`` and ``--customer-lang …`` write what they
are given here, so the next start without them uses the same. A missing or unreadable file means
no customer display. The file holds no secrets and no personal data.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["SETTINGS_FILE", "load", "save", "parse_window", "Geometry"]

SETTINGS_FILE = "till-settings.json"
KEYS = ("customer_display", "pole_display", "customer_lang")
log = logging.getLogger(__name__)

# (width, height, x, y); width and height 0 when only the position was given
Geometry = tuple[int, int, int, int]
_GEOMETRY = re.compile(r"^(?:(\d{2,5})x(\d{2,5}))?([+-]\d{1,5})([+-]\d{1,5})$")


def load(data_dir: str | Path) -> dict[str, Any]:
    """The saved settings (only the known keys); ``{}`` when there are none."""
    path = Path(data_dir) / SETTINGS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # a broken file must not stop the till
        log.warning("ignoring %s: %s", path, exc)
        return {}
    return {k: raw[k] for k in KEYS if isinstance(raw, dict) and k in raw}


def save(data_dir: str | Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` (``None`` values are left out) into the file, atomically."""
    path = Path(data_dir) / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    data = load(data_dir)
    data.update({k: v for k, v in changes.items() if k in KEYS and v is not None})
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return data


def parse_window(spec: str | None) -> tuple[bool, Geometry | None]:
    """``"window"`` → (on, no geometry); ``"window:WxH+X+Y"`` or ``"window:+X+Y"`` → (on, geometry);
    ``"off"``, ``""`` or ``None`` → (off, None). Raises ``ValueError`` on anything else."""
    s = (spec or "").strip()
    if s in ("", "off", "none"):
        return False, None
    kind, _, geo = s.partition(":")
    if kind != "window":
        raise ValueError(f"customer display must be 'window[:GEOMETRY]' or 'off', not {s!r}")
    if not geo:
        return True, None
    m = _GEOMETRY.match(geo)
    if m is None:
        raise ValueError(f"geometry must be +X+Y or WxH+X+Y, not {geo!r}")
    w, h, x, y = m.groups()
    return True, (int(w or 0), int(h or 0), int(x), int(y))
