"""HQ's master data over HTTP (routes come in the next commit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["mount"]


def mount(app: web.Application, master: Any, data: Path, clock: Any) -> None:
    """Mount the master-data and HQ-user routes."""
