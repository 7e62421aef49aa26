"""The gateway's payment desk: drives a tender through its provider and journals each step.

Every step is an event the ledger's book checks where commits are serialised
(``domain.tender_flow``): the desk asks, the book decides. ``payment.started`` is journaled
before the provider is asked, so no money can move without a record; the provider is asked with
the tender's key, so a retried request never charges twice. A pending tender is looked at again on
each poll of the till: the provider's answer is journaled, and one pending longer than
``timeout_s`` is cancelled at the provider and journaled ``timed_out``. A tender that timed out or
was cancelled is still asked about: a success that comes late is journaled (the book makes it a
``payment.late_success`` when its basket was settled another way). The till stops asking once it
gives up, so the desk asks on its own too (``sweep``, every ``payments.sweep_s`` seconds): every
payment started here that has not settled, until ``WATCH_AFTER_S`` past its timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from actors.http.common import derived_id
from actors.payments.provider import CANCELLED, FAILED, SUCCEEDED, Provider, Status
from actors.payments.registry import DEFAULT_SWEEP_S, DEFAULT_TIMEOUT_S, providers_from
from domain.errors import Conflict, KassaError, NotFound, Unavailable
from domain.events import kind_of
from domain.payment_events import (
    PaymentCancelled,
    PaymentFailed,
    PaymentStarted,
    PaymentSucceeded,
    PaymentTimedOut,
)
from domain.tender_flow import PENDING

__all__ = ["PaymentDesk", "Submit", "AFTER_END"]

log = logging.getLogger(__name__)

# submit(cid, op, args, body, till) -> the ledger's answer
Submit = Callable[[str, str, Any, Any, str], Awaitable[Any]]
AFTER_END = ("timed_out", "cancelled", "failed")  # states a late success may still follow
WATCH_AFTER_S = 900  # a payment that has not settled is asked about until this long past timeout


class PaymentDesk:
    def __init__(
        self,
        cfg: dict[str, Any],
        data_dir: Path,
        read: Callable[[list[str]], Awaitable[list[dict]]],
        submit: Submit,
        clock: Callable[[], float] = time.time,
        providers: dict[str, Provider] | None = None,
    ) -> None:
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.read = read
        self.submit = submit
        self.clock = clock
        self.providers = providers if providers is not None else providers_from(cfg)
        self.timeout_s = int(cfg.get("timeout_s") or DEFAULT_TIMEOUT_S)
        self.sweep_s = float(cfg.get("sweep_s") or DEFAULT_SWEEP_S)
        self.watch: dict[str, float] = {}  # key -> started (clock): asked again until settled
        self.qr: dict[str, str] = {}  # key -> payload shown (kept while the gateway runs)
        self.locks: dict[str, asyncio.Lock] = {}

    def provider(self, kind: str) -> Provider:
        p = self.providers.get(kind)
        if p is None:
            raise Unavailable("payment.no_provider", f"no {kind} provider here", kind=kind)
        return p

    def by_name(self, name: str) -> Provider:
        for p in self.providers.values():
            if p.name == name:
                return p
        raise NotFound("payment.unknown_provider", "no such payment provider", provider=name[:40])

    def offered(self) -> dict[str, dict[str, Any]]:
        """What the till shows: each kind's provider and whether it works offline."""
        return {k: {"provider": p.name, "offline": p.offline} for k, p in self.providers.items()}

    async def state(self, key: str) -> dict:
        found = await self.read([key])
        if not found:
            raise NotFound("payment.unknown_tender", "no such payment", key=key)
        return found[0]

    def _view(self, st: dict) -> dict:
        out = {**st, "qr": self.qr.get(st["key"], ""), "timeout_s": self.timeout_s}
        out["offline"] = (
            self.providers[st["kind"]].offline if st["kind"] in self.providers else False
        )
        return out

    async def _ask(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A provider call, off the event loop (a real one talks to a bank or a terminal)."""
        try:
            return await asyncio.to_thread(fn, *args)
        except KassaError:
            raise
        except Exception as exc:
            log.warning("payment provider failed: %s", exc)
            raise Unavailable("payment.provider_unavailable", str(exc)[:200]) from exc

    # ------------------------------------------------------------ steps
    async def start(
        self, till: str, key: str, kind: str, amount: int, basket: str, currency: str
    ) -> dict:
        """Journal ``payment.started`` under the till's request id (= the key), then ask the
        provider. The same request again answers the same payment."""
        provider = self.provider(kind)
        self.watch.setdefault(key, self.clock())
        found = await self.read([key])
        if found:
            st = found[0]
            if (st["till"], st["kind"], st["amount"]) != (till, kind, amount):
                raise Conflict("command.id_reused", "this id was used for another payment")
        else:
            body = PaymentStarted(key, basket, kind, provider.name, amount, currency)
            args = {"till": till, "kind": kind, "amount": amount, "basket": basket}
            await self.submit(key, "payment.start", args, body, till)
            st = await self.state(key)
        if st["state"] == PENDING:
            try:
                pending = await self._ask(provider.start, key, amount, currency, st["ref"])
            except Unavailable as exc:
                await self._end(st, PaymentFailed(key, exc.message[:200]))
                return self._view(await self.state(key))
            if pending.qr:
                self.qr[key] = pending.qr
        return self._view(st)

    async def poll(self, key: str) -> dict:
        """Where the payment stands, after asking its provider (and timing it out)."""
        st = await self.state(key)
        if st["state"] not in (PENDING, *AFTER_END) or st["kind"] not in self.providers:
            return self._view(st)
        provider = self.providers[st["kind"]]
        async with self.locks.setdefault(key, asyncio.Lock()):
            answer: Status = await self._ask(provider.status, key)
            if answer.state == SUCCEEDED:
                via = "terminal" if st["kind"] == "card" else "provider"
                await self._succeed(st, answer, via)
            elif st["state"] == PENDING and answer.state in (FAILED, CANCELLED):
                end = PaymentFailed if answer.state == FAILED else PaymentCancelled
                await self._end(st, end(key, answer.reason or answer.state))
            elif st["state"] == PENDING and self._expired(st):
                answer = await self._ask(provider.cancel, key)
                if answer.state == SUCCEEDED:
                    await self._succeed(st, answer, "terminal")
                else:
                    await self._end(st, PaymentTimedOut(key, self.timeout_s))
        return self._view(await self.state(key))

    async def sweep(self) -> None:
        """Ask about every payment started here that has not settled (its till may have given up
        or gone): a timeout is journaled, and a late success too, never lost."""
        now = self.clock()
        for key, since in list(self.watch.items()):
            if now - since > self.timeout_s + WATCH_AFTER_S:
                self.watch.pop(key, None)
                continue
            try:
                st = await self.poll(key)
            except KassaError as exc:  # not journaled (yet), or the provider is away: next time
                log.info("payment %s: sweep: %s", key, exc.code)
                continue
            if st["state"] not in (PENDING, *AFTER_END):
                self.watch.pop(key, None)

    async def sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep()
            except Exception:  # the next round tries again; the gateway goes on
                log.exception("payment sweep")

    def _expired(self, st: dict) -> bool:
        return self.clock() - st["started_us"] / 1e6 > self.timeout_s

    async def cancel(self, key: str, reason: str = "") -> dict:
        st = await self.state(key)
        if st["state"] != PENDING:
            return self._view(st)
        provider = self.provider(st["kind"])
        async with self.locks.setdefault(key, asyncio.Lock()):
            answer = await self._ask(provider.cancel, key)
            if answer.state == SUCCEEDED:  # paid while the cashier gave up: the money counts
                await self._succeed(st, answer, "provider")
            else:
                await self._end(st, PaymentCancelled(key, reason[:200] or "cashier"))
        return self._view(await self.state(key))

    async def confirm(self, key: str, reference: str, via: str, last4: str = "") -> dict:
        """The money arrived (the cashier saw it, or the provider's signed callback says so)."""
        st = await self.state(key)
        status = Status(SUCCEEDED, reference, last4)
        provider = self.providers.get(st["kind"])
        if provider is not None:
            provider.notify(key, status)
        async with self.locks.setdefault(key, asyncio.Lock()):
            await self._succeed(await self.state(key), status, via)
        return self._view(await self.state(key))

    async def fail(self, key: str, reason: str) -> dict:
        st = await self.state(key)
        provider = self.providers.get(st["kind"])
        if provider is not None:
            provider.notify(key, Status(FAILED, reason=reason))
        await self._end(st, PaymentFailed(key, reason[:200]))
        return self._view(await self.state(key))

    # ------------------------------------------------------------ journaling
    async def _succeed(self, st: dict, answer: Status, via: str) -> None:
        if st["state"] not in (PENDING, *AFTER_END):
            return  # succeeded (or flagged late) already: nothing more to record
        body = PaymentSucceeded(st["key"], answer.reference[:64], answer.last4[:4], via)
        await self._journal(st, body)

    async def _end(self, st: dict, body: Any) -> None:
        if st["state"] != PENDING:
            return
        await self._journal(st, body)

    async def _journal(self, st: dict, body: Any) -> None:
        kind = kind_of(body)
        try:
            await self.submit(derived_id(st["key"], kind), kind, [st["key"]], body, st["till"])
        except Conflict as exc:  # another poll or the callback got there first
            log.info("payment %s: %s", st["key"], exc.code)
