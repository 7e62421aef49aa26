"""The light shells share one Ray worker process (actors.shells.host): the server's clients call
each as if it were an actor of its own, and the host answers for the part named."""

from __future__ import annotations

import asyncio
from typing import Any

from actors.bootstrap import _Hosted
from actors.client import StockClient, UploaderClient
from actors.shells.host import PARTS, HostActor


class _Ref:
    """What ``.remote()`` returns: awaitable, like Ray's object refs."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self):  # type: ignore[no-untyped-def]
        if asyncio.iscoroutine(self.value):
            return self.value.__await__()
        return iter(())  # pragma: no cover - every value here is a coroutine


class _Method:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def remote(self, *args: Any) -> _Ref:
        return _Ref(self.fn(*args))


class _HostHandle:
    """A Ray handle of a HostActor, without Ray: ``call.remote`` and ``__ray_ready__.remote``."""

    def __init__(self, host: HostActor) -> None:
        self.call = _Method(host.call)
        self.readied = 0

        async def ready() -> bool:
            self.readied += 1
            return True

        self.__ray_ready__ = _Method(ready)


class _Shell:
    def __init__(self, name: str) -> None:
        self.name = name

    async def level(self, sku: str) -> int:
        return len(sku)

    def status(self) -> dict:  # a plain method is answered too
        return {"who": self.name}


def test_each_hosted_shell_answers_through_the_one_host(monkeypatch) -> None:
    monkeypatch.setitem(PARTS, "stock", _Shell)
    monkeypatch.setitem(PARTS, "uploader", _Shell)
    host = HostActor({"stock": ("s",), "uploader": ("u",)})
    handle = _HostHandle(host)
    stock, uploader = (
        StockClient(_Hosted(handle, "stock")),
        UploaderClient(_Hosted(handle, "uploader")),
    )

    async def go() -> tuple:
        await stock.up()  # the host process answers for its parts
        return await stock.level("ABCD"), await uploader.status()

    assert asyncio.run(go()) == (4, {"who": "u"})
    assert handle.readied == 1


def test_the_host_hosts_the_four_light_shells_and_not_the_heavy_ones() -> None:
    assert set(PARTS) == {"stock", "wallet", "uploader", "licence"}
