"""One Ray worker process for several light shells: the stock and wallet read models, the
uploader and the licence keeper (``actors.bootstrap`` calls each as if it were its own actor).

Ray gives every actor a process of its own; each is a Python interpreter importing Ray and
registering with the raylet, about a second of CPU on the store PC's two cores, in the store's
start. These four are small, asynchronous (one event loop serves them all) and rebuild from the
journal and their files when restarted, so they share one process: three fewer at every start,
and about 200 MB less memory. The catalogue (large) and the analytics (DuckDB) keep their own.
"""

from __future__ import annotations

import inspect
from typing import Any

from actors.shells.readmodels import StockActor, WalletActor
from actors.shells.system import LicenceActor, UploaderActor

__all__ = ["HostActor", "PARTS"]

PARTS: dict[str, type] = {
    "stock": StockActor,
    "wallet": WalletActor,
    "uploader": UploaderActor,
    "licence": LicenceActor,
}


class HostActor:
    """The shells named in ``parts`` (name -> its constructor's arguments), in this process."""

    def __init__(self, parts: dict[str, tuple]) -> None:
        self.parts = {name: PARTS[name](*args) for name, args in parts.items()}

    async def call(self, part: str, method: str, *args: Any) -> Any:
        """``method`` of the shell ``part`` (a coroutine is awaited here, on the one loop)."""
        out = getattr(self.parts[part], method)(*args)
        return await out if inspect.isawaitable(out) else out
