"""Customer pole display: a 2 x 20 VFD (ESC/POS display command set) over serial or TCP, and a fake.

``make_display(settings)``::

    {"kind": "tcp", "host": "192.168.1.60", "port": 9101}
    {"kind": "serial", "device": "/dev/ttyUSB1", "baudrate": 9600}    # needs pyserial
    {"kind": "fake"}
    {"kind": "none"}

Common keys: ``columns`` (20), ``encoding`` (``cp858``; unprintable characters become ``?``).
A VFD shows Latin text only: ``can_draw(text)`` says whether the display's encoding has every
character, and ``latin(text)`` transliterates to plain ASCII (accents dropped); the till's customer
display (``kiosk/customer_display.py``) uses them to fall back to English or the SKU.
``BackgroundDisplay`` wraps any display so the Tk thread never waits on it: only the latest frame is
kept, older frames not yet sent are dropped, and ``on_state(ok, detail)`` hears when the display
stops answering or answers again (on the display's thread).
"""

from __future__ import annotations

import logging
import socket
import threading
import unicodedata
from collections.abc import Callable
from typing import Any, Protocol

from domain.money import format_money

__all__ = [
    "CustomerDisplay",
    "VfdDisplay",
    "TcpTransport",
    "SerialTransport",
    "FakeDisplay",
    "NullDisplay",
    "BackgroundDisplay",
    "make_display",
    "fit_line",
    "latin",
]

log = logging.getLogger(__name__)

CLEAR = b"\x0c"  # clear screen, cursor home
INIT = b"\x1b@"
OVERWRITE = b"\x1f\x01"  # overwrite mode
LINE2 = b"\x1f\x24\x01\x02"  # US $ x y: cursor to column 1, row 2


def fit_line(text: str, columns: int = 20, align: str = "left") -> str:
    """Strip marks, cut or pad to ``columns`` characters."""
    text = "".join(
        c
        for c in unicodedata.normalize("NFKC", text)
        if unicodedata.category(c) not in ("Mn", "Me", "Cf")
    )
    text = text[:columns]
    return text.rjust(columns) if align == "right" else text.ljust(columns)


def latin(text: str) -> str:
    """Plain ASCII for a display that has no other letters: accents dropped, others left out."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(decomposed.encode("ascii", "ignore").decode("ascii").split())


def two_columns(left: str, right: str, columns: int = 20) -> str:
    right = right[:columns]
    left = left[: max(0, columns - len(right) - 1)]
    return left + " " * (columns - len(left) - len(right)) + right


class CustomerDisplay(Protocol):
    columns: int

    def can_draw(self, text: str) -> bool: ...

    def show(self, line1: str, line2: str = "") -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class _Helpers:
    columns = 20
    encoding = "cp858"

    def can_draw(self, text: str) -> bool:
        """Whether every character of ``text`` exists in the display's character set."""
        try:
            fit_line(text, 10_000).encode(self.encoding)
        except (UnicodeError, LookupError):
            return False
        return True

    def show(self, line1: str, line2: str = "") -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def show_item(
        self, name: str, amount: int, currency: str, total: int | None = None, locale: str = "en"
    ) -> None:
        """Line 1: the item and its price; line 2: the running total."""
        self.show(
            two_columns(name, format_money(amount, currency, locale), self.columns),
            two_columns("TOTAL", format_money(total, currency, locale), self.columns)
            if total is not None
            else "",
        )

    def show_total(
        self, total: int, currency: str, change: int | None = None, locale: str = "en"
    ) -> None:
        self.show(
            two_columns("TOTAL", format_money(total, currency, locale), self.columns),
            two_columns("CHANGE", format_money(change, currency, locale), self.columns)
            if change is not None
            else "",
        )

    def welcome(self, line1: str = "Welcome", line2: str = "") -> None:
        self.show(line1, line2)


class TcpTransport:
    def __init__(self, host: str, port: int, timeout: float = 2.0) -> None:
        self.host, self.port, self.timeout = host, int(port), timeout
        self._sock: socket.socket | None = None

    def write(self, data: bytes) -> None:
        for attempt in (1, 2):  # one reconnect if the display was restarted
            try:
                if self._sock is None:
                    self._sock = socket.create_connection((self.host, self.port), self.timeout)
                self._sock.sendall(data)
                return
            except OSError:
                self.close()
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


class SerialTransport:
    def __init__(self, device: str, baudrate: int = 9600, timeout: float = 1.0) -> None:
        import serial  # pyserial; only needed for a serial display

        self._port = serial.Serial(
            device, baudrate=baudrate, timeout=timeout, write_timeout=timeout
        )

    def write(self, data: bytes) -> None:
        self._port.write(data)

    def close(self) -> None:
        self._port.close()


class VfdDisplay(_Helpers):
    """A 2-line VFD speaking the ESC/POS customer-display command set."""

    def __init__(self, transport: Any, columns: int = 20, encoding: str = "cp858") -> None:
        self.transport = transport
        self.columns = columns
        self.encoding = encoding
        self._init = False

    def frame(self, line1: str, line2: str = "") -> bytes:
        enc = lambda s: fit_line(s, self.columns).encode(self.encoding, errors="replace")  # noqa: E731
        head = INIT + OVERWRITE if not self._init else b""
        return head + CLEAR + enc(line1) + LINE2 + enc(line2)

    def show(self, line1: str, line2: str = "") -> None:
        self.transport.write(self.frame(line1, line2))
        self._init = True

    def clear(self) -> None:
        self.transport.write(CLEAR)

    def close(self) -> None:
        self.transport.close()


class FakeDisplay(_Helpers):
    """Remembers what it was asked to show (for tests and tills without a display)."""

    def __init__(self, columns: int = 20, encoding: str = "cp858") -> None:
        self.columns = columns
        self.encoding = encoding
        self.lines: tuple[str, str] = ("", "")
        self.history: list[tuple[str, str]] = []

    def show(self, line1: str, line2: str = "") -> None:
        self.lines = (
            fit_line(line1, self.columns).rstrip(),
            fit_line(line2, self.columns).rstrip(),
        )
        self.history.append(self.lines)

    def clear(self) -> None:
        self.show("", "")

    def close(self) -> None:
        pass


class NullDisplay(FakeDisplay):
    def show(self, line1: str, line2: str = "") -> None:
        pass


class BackgroundDisplay(_Helpers):
    """Sends frames from a thread; ``show`` returns at once and only the newest frame counts."""

    def __init__(self, inner: Any, on_state: Callable[[bool, str], None] | None = None) -> None:
        self.inner = inner
        self.columns = getattr(inner, "columns", 20)
        self.encoding = getattr(inner, "encoding", "cp858")
        self.on_state = on_state
        self.ok: bool | None = None  # None until the first frame was tried
        self._cv = threading.Condition()
        self._frame: tuple[str, str] | None = None
        self._closed = False
        self.errors = 0
        self._t = threading.Thread(target=self._run, name="kassa-display", daemon=True)
        self._t.start()

    def show(self, line1: str, line2: str = "") -> None:
        with self._cv:
            self._frame = (line1, line2)
            self._cv.notify()

    def clear(self) -> None:
        self.show("", "")

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._frame is None and not self._closed:
                    self._cv.wait()
                frame, self._frame = self._frame, None
                if frame is None:  # closed, nothing left to show
                    return
            try:
                self.inner.show(*frame)
            except Exception as exc:  # a display that is off must not bother the sale
                self.errors += 1
                log.debug("customer display: %s", exc)
                self._state(False, str(exc) or type(exc).__name__)
            else:
                self._state(True, "")

    def _state(self, ok: bool, detail: str) -> None:
        if ok == self.ok:
            return
        self.ok = ok
        if self.on_state is not None:
            try:
                self.on_state(ok, detail)
            except Exception:
                log.exception("customer display state callback")

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until the latest frame went out (tests)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cv:
                if self._frame is None:
                    break
            time.sleep(0.01)
        time.sleep(0.05)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._t.join(2.0)
        try:
            self.inner.close()
        except Exception:
            pass


def make_display(
    settings: dict[str, Any] | None,
    background: bool = True,
    on_state: Callable[[bool, str], None] | None = None,
) -> CustomerDisplay:
    s = dict(settings or {"kind": "none"})
    kind = str(s.get("kind", "none")).lower()
    cols = int(s.get("columns", 20))
    if kind == "fake":
        return FakeDisplay(cols, s.get("encoding", "cp858"))
    if kind == "none":
        return NullDisplay(cols)
    if kind == "tcp":
        disp: Any = VfdDisplay(
            TcpTransport(str(s["host"]), int(s.get("port", 9101)), float(s.get("timeout", 2.0))),
            cols,
            s.get("encoding", "cp858"),
        )
    elif kind == "serial":
        disp = VfdDisplay(
            SerialTransport(str(s["device"]), int(s.get("baudrate", 9600))),
            cols,
            s.get("encoding", "cp858"),
        )
    else:
        raise ValueError(f"unknown display kind {kind!r}")
    return BackgroundDisplay(disp, on_state) if background else disp
