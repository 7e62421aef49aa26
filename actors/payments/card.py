"""Card terminals: the driver interface a real terminal's driver implements, and a simulator.

``CardTerminal`` is what the store needs of a terminal: ``charge`` (with the idempotency key: a
terminal asked twice with the same key shows one charge), ``poll`` and ``abort``. ``CardProvider``
adapts any terminal to the provider port. ``SimulatedTerminal`` plays a terminal in tests and
demos: ``approve`` (approved at the first poll), ``decline``, ``timeout`` (never answers) and
``late`` (answers nothing until the till gives up, then approves: a late success), and
``by_amount``, a sandbox's test amounts: the amount's last two digits (minor units) choose —
``51`` declines, ``52`` never answers, ``53`` approves late, any other approves. The terminal
works offline (its own offline mode with its floor limit), so a card tender does not need the
store's internet line.
"""

from __future__ import annotations

import threading
from typing import Protocol

from actors.payments.provider import CANCELLED, FAILED, PENDING, SUCCEEDED, Pending, Status

__all__ = ["CardTerminal", "CardProvider", "SimulatedTerminal", "MODES", "TEST_AMOUNTS"]

MODES = ("approve", "decline", "timeout", "late", "by_amount")
TEST_AMOUNTS = {51: "decline", 52: "timeout", 53: "late"}  # by_amount: amount % 100 -> mode


class CardTerminal(Protocol):
    def charge(self, key: str, amount: int, currency: str) -> str:
        """Start a charge; answers the terminal's reference."""

    def poll(self, key: str) -> Status: ...

    def abort(self, key: str) -> Status: ...


class SimulatedTerminal:
    """A terminal that approves, declines, never answers or approves late (``mode``); every
    charge it took is in ``charges`` (one per key, whatever number of times it is asked)."""

    def __init__(self, mode: str = "approve", last4: str = "4242") -> None:
        self.mode = mode if mode in MODES else "approve"
        self.last4 = last4
        self.charges: dict[str, int] = {}
        self.states: dict[str, Status] = {}
        self.modes: dict[str, str] = {}  # key -> how this charge ends
        self.lock = threading.Lock()

    def charge(self, key: str, amount: int, currency: str) -> str:
        with self.lock:
            if key not in self.charges:
                self.charges[key] = amount
                self.states[key] = Status(PENDING, f"SIM-{key[:8].upper()}")
                mode = self.mode
                if mode == "by_amount":
                    mode = TEST_AMOUNTS.get(amount % 100, "approve")
                self.modes[key] = mode
            return self.states[key].reference

    def poll(self, key: str) -> Status:
        with self.lock:
            st = self.states.get(key)
            if st is None or st.state != PENDING:
                return st or Status(PENDING)
            mode = self.modes.get(key, self.mode)
            if mode == "approve":
                st = Status(SUCCEEDED, st.reference, self.last4)
            elif mode == "decline":
                st = Status(FAILED, st.reference, reason="declined")
            self.states[key] = st
            return st

    def abort(self, key: str) -> Status:
        with self.lock:
            st = self.states.get(key)
            if st is None:
                return Status(CANCELLED)
            if (
                st.state == PENDING and self.modes.get(key, self.mode) == "late"
            ):  # approved as the till gave up
                st = Status(SUCCEEDED, st.reference, self.last4)
                self.states[key] = st
                return Status(CANCELLED, st.reference)  # the till hears "cancelled" in time
            if st.state == PENDING:
                st = Status(CANCELLED, st.reference)
                self.states[key] = st
            return st


class CardProvider:
    kind = "card"
    offline = True  # the terminal's offline mode takes cards below its floor limit

    def __init__(self, terminal: CardTerminal, name: str = "card-sim") -> None:
        self.terminal, self.name = terminal, name

    def start(self, key: str, amount: int, currency: str, ref: str) -> Pending:
        return Pending(key, PENDING, "", self.terminal.charge(key, amount, currency))

    def status(self, key: str) -> Status:
        return self.terminal.poll(key)

    def cancel(self, key: str) -> Status:
        return self.terminal.abort(key)

    def notify(self, key: str, status: Status) -> None:
        """A terminal reports through polling; nothing to note."""
