"""Receipt printers behind one small interface, with python-escpos doing the talking.

``make_printer(settings)`` picks the implementation from the till's settings::

    {"kind": "network", "host": "192.168.1.50", "port": 9100}          # raw TCP (JetDirect)
    {"kind": "usb", "vendor": "0x04b8", "product": "0x0202"}           # needs pyusb
    {"kind": "serial", "device": "/dev/ttyUSB0", "baudrate": 38400}    # needs pyserial
    {"kind": "file", "path": "/dev/usb/lp0"}                           # a device or a plain file
    {"kind": "dummy"}                                                  # keeps jobs in memory

Common keys: ``paper`` (58 | 80), ``profile`` (python-escpos profile name), ``cjk`` (the printer has
a GB18030 font; default true), ``codepage`` (``"cp858:19"``; null for ASCII only), ``qr_native``,
``drawer_pin`` (2 | 5), ``status`` (ask the printer for DLE EOT status; default true for network,
serial and USB), ``timeout`` (seconds for connect and send, default 5).

A ``Printer`` has two operations: ``probe()`` (never raises; answers a ``Status``) and
``print_bytes(data)`` (raises ``PrinterError`` with a stable code when the job did not go out).
Where the printer answers real-time status (``DLE EOT n``), a job is not sent to a printer that
reports itself offline, out of paper or with its cover open.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.errors import Unavailable
from hw.encode import EncodeOptions

__all__ = [
    "Status",
    "PrinterError",
    "Printer",
    "EscposPrinter",
    "NetworkPrinter",
    "UsbPrinter",
    "SerialPrinter",
    "FilePrinter",
    "DummyPrinter",
    "make_printer",
    "parse_status",
    "OK",
    "OFFLINE",
    "PAPER_OUT",
    "PAPER_LOW",
    "COVER_OPEN",
    "ERROR",
    "UNKNOWN",
]

log = logging.getLogger(__name__)

OK = "ok"
OFFLINE = "offline"
PAPER_OUT = "paper_out"
PAPER_LOW = "paper_low"  # still prints
COVER_OPEN = "cover_open"
ERROR = "error"
UNKNOWN = "unknown"  # reachable, but it does not answer status queries: assume it prints

PRINTABLE = {OK, PAPER_LOW, UNKNOWN}

DLE_EOT = b"\x10\x04"


class PrinterError(Unavailable):
    """The job did not reach the printer. ``code``: ``printer.offline``, ``printer.paper_out``,
    ``printer.cover_open``, ``printer.error``, ``printer.driver_missing``."""

    default_code = "printer.offline"


@dataclass(frozen=True)
class Status:
    state: str  # ok | offline | paper_out | paper_low | cover_open | error | unknown
    detail: str = ""
    at: float = field(default_factory=time.time)

    @property
    def printable(self) -> bool:
        return self.state in PRINTABLE

    @property
    def code(self) -> str:
        return f"printer.{self.state}"


def parse_status(online: bytes | None, offline_cause: bytes | None, paper: bytes | None) -> Status:
    """Interpret the answers to ``DLE EOT 1``, ``DLE EOT 2`` and ``DLE EOT 4`` (Epson ESC/POS)."""
    if not online:
        return Status(UNKNOWN, "no status answer")
    b = online[0]
    paper_b = paper[0] if paper else None
    if paper_b is not None and paper_b & 0x60 == 0x60:
        return Status(PAPER_OUT, "roll paper end")
    if b & 0x08:  # offline
        cause = offline_cause[0] if offline_cause else 0
        if cause & 0x04:
            return Status(COVER_OPEN, "cover open")
        if cause & 0x20:
            return Status(PAPER_OUT, "paper end")
        if cause & 0x40:
            return Status(ERROR, "printer error")
        return Status(OFFLINE, "printer reports offline")
    if paper_b is not None and paper_b & 0x0C == 0x0C:
        return Status(PAPER_LOW, "roll paper near end")
    return Status(OK)


class Printer(Protocol):
    kind: str
    options: EncodeOptions

    def probe(self) -> Status:
        """Current state; never raises, never blocks longer than the configured timeout."""

    def print_bytes(self, data: bytes) -> Status:
        """Send one job; raise ``PrinterError`` if it did not go out."""

    def describe(self) -> str: ...


class EscposPrinter:
    """A printer reached through a python-escpos device class; one connection per job."""

    kind = "escpos"

    def __init__(
        self,
        factory: Callable[[], Any],
        options: EncodeOptions | None = None,
        *,
        status: bool = True,
        status_timeout: float = 1.0,
        name: str = "",
    ) -> None:
        self._factory = factory
        self.options = options or EncodeOptions()
        self.status_query = status
        self.status_timeout = status_timeout
        self.name = name or self.kind
        self._answers: bool | None = None  # does it answer DLE EOT? (None: not known yet)
        self._lock = threading.Lock()  # one job or probe at a time per printer

    def describe(self) -> str:
        return self.name

    # -- device plumbing (overridable)
    def _open(self) -> Any:
        dev = self._factory()
        try:
            dev.open()
        except Exception as exc:
            raise self._error(exc) from exc
        return dev

    @staticmethod
    def _close(dev: Any) -> None:
        try:
            dev.close()
        except Exception:  # pragma: no cover - closing a dead connection
            pass

    def _error(self, exc: BaseException) -> PrinterError:
        if isinstance(exc, PrinterError):
            return exc
        if isinstance(exc, (ImportError, ModuleNotFoundError)):
            return PrinterError("printer.driver_missing", f"{self.name}: {exc}")
        return PrinterError("printer.offline", f"{self.name}: {exc.__class__.__name__}: {exc}")

    def _set_read_timeout(self, dev: Any, seconds: float) -> None:
        sock = getattr(dev, "device", None)
        if isinstance(sock, socket.socket):
            sock.settimeout(seconds)

    def _query(self, dev: Any) -> Status:
        if not self.status_query or self._answers is False:
            return Status(UNKNOWN, "status not queried")
        answers: list[bytes | None] = []
        self._set_read_timeout(dev, self.status_timeout)
        for n in (1, 2, 4):
            try:
                dev._raw(DLE_EOT + bytes([n]))
                got = dev._read()
                answers.append(bytes(got[-1:]) if got else None)
            except (TimeoutError, NotImplementedError):
                answers.append(None)
                if n == 1:
                    break  # it does not answer: do not wait three times
            except Exception as exc:
                raise self._error(exc) from exc
        while len(answers) < 3:
            answers.append(None)
        if self._answers is None:
            self._answers = answers[0] is not None
            if not self._answers:
                log.info("%s does not answer DLE EOT status; not asking again", self.name)
        return parse_status(*answers)

    # -- the interface
    def probe(self) -> Status:
        with self._lock:
            try:
                dev = self._open()
            except PrinterError as exc:
                state = OFFLINE if exc.code == "printer.offline" else ERROR
                return Status(state, exc.message)
            try:
                st = self._query(dev)
                # it took the connection but does not tell more: as good as it gets
                return Status(OK, "reachable; no status") if st.state == UNKNOWN else st
            except PrinterError as exc:
                return Status(OFFLINE, exc.message)
            finally:
                self._close(dev)

    def print_bytes(self, data: bytes) -> Status:
        with self._lock:
            dev = self._open()
            try:
                st = self._query(dev)
                if not st.printable:
                    raise PrinterError(st.code, f"{self.name}: {st.detail or st.state}")
                try:
                    dev._raw(data)
                    flush = getattr(dev, "flush", None)
                    if callable(flush):
                        flush()
                except Exception as exc:
                    raise self._error(exc) from exc
                return st
            finally:
                self._close(dev)


class NetworkPrinter(EscposPrinter):
    """Raw TCP, port 9100 (``escpos.printer.Network``)."""

    kind = "network"

    def __init__(
        self,
        host: str,
        port: int = 9100,
        options: EncodeOptions | None = None,
        *,
        timeout: float = 5.0,
        status: bool = True,
        status_timeout: float = 1.0,
    ) -> None:
        from escpos.printer import Network

        self.host, self.port, self.timeout = host, int(port), float(timeout)
        super().__init__(
            lambda: Network(host=self.host, port=self.port, timeout=self.timeout),
            options,
            status=status,
            status_timeout=status_timeout,
            name=f"network {host}:{port}",
        )


class UsbPrinter(EscposPrinter):
    """USB (``escpos.printer.Usb``; needs pyusb and access to the device)."""

    kind = "usb"

    def __init__(
        self,
        vendor: int | str,
        product: int | str,
        options: EncodeOptions | None = None,
        *,
        interface: int = 0,
        in_ep: int | None = None,
        out_ep: int | None = None,
        timeout: float = 5.0,
        status: bool = True,
    ) -> None:
        def as_int(v: int | str) -> int:
            return int(v, 0) if isinstance(v, str) else int(v)

        vid, pid = as_int(vendor), as_int(product)
        kwargs: dict[str, Any] = {"interface": interface, "timeout": int(timeout * 1000)}
        if in_ep is not None:
            kwargs["in_ep"] = as_int(in_ep)
        if out_ep is not None:
            kwargs["out_ep"] = as_int(out_ep)

        def factory() -> Any:
            from escpos.printer import Usb

            return Usb(vid, pid, **kwargs)

        super().__init__(factory, options, status=status, name=f"usb {vid:04x}:{pid:04x}")


class SerialPrinter(EscposPrinter):
    """RS-232 (``escpos.printer.Serial``; needs pyserial)."""

    kind = "serial"

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        options: EncodeOptions | None = None,
        *,
        timeout: float = 1.0,
        status: bool = True,
        **serial: Any,
    ) -> None:
        def factory() -> Any:
            from escpos.printer import Serial

            return Serial(devfile=device, baudrate=int(baudrate), timeout=timeout, **serial)

        super().__init__(factory, options, status=status, name=f"serial {device}")


class FilePrinter(EscposPrinter):
    """A device file such as ``/dev/usb/lp0`` (``escpos.printer.File``), or a plain file that
    receives the last job (handy to inspect bytes). No status."""

    kind = "file"

    def __init__(self, path: str, options: EncodeOptions | None = None) -> None:
        def factory() -> Any:
            from escpos.printer import File

            return File(devfile=path, auto_flush=True)

        super().__init__(factory, options, status=False, name=f"file {path}")


class DummyPrinter:
    """In memory: keeps every job's bytes; ``state`` can be set to simulate trouble."""

    kind = "dummy"

    def __init__(self, options: EncodeOptions | None = None) -> None:
        self.options = options or EncodeOptions()
        self.jobs: list[bytes] = []
        self.state = OK

    def describe(self) -> str:
        return "dummy"

    def probe(self) -> Status:
        return Status(self.state)

    def print_bytes(self, data: bytes) -> Status:
        st = self.probe()
        if not st.printable:
            raise PrinterError(st.code, f"dummy printer is {st.state}")
        self.jobs.append(bytes(data))
        return st


def make_printer(settings: dict[str, Any] | None) -> Printer:
    """Build the printer the till's settings describe (see the module docstring)."""
    s = dict(settings or {"kind": "dummy"})
    kind = str(s.get("kind", "dummy")).lower()
    opts = EncodeOptions.from_settings(s)
    timeout = float(s.get("timeout", 5.0))
    status = bool(s.get("status", True))
    if kind == "network":
        return NetworkPrinter(
            str(s["host"]),
            int(s.get("port", 9100)),
            opts,
            timeout=timeout,
            status=status,
            status_timeout=float(s.get("status_timeout", 1.0)),
        )
    if kind == "usb":
        return UsbPrinter(
            s["vendor"],
            s["product"],
            opts,
            interface=int(s.get("interface", 0)),
            in_ep=s.get("in_ep"),
            out_ep=s.get("out_ep"),
            timeout=timeout,
            status=status,
        )
    if kind == "serial":
        extra = {k: s[k] for k in ("bytesize", "parity", "stopbits", "dsrdtr") if k in s}
        return SerialPrinter(
            str(s["device"]),
            int(s.get("baudrate", 9600)),
            opts,
            timeout=float(s.get("timeout", 1.0)),
            status=status,
            **extra,
        )
    if kind == "file":
        return FilePrinter(str(s["path"]), opts)
    if kind == "dummy":
        return DummyPrinter(opts)
    raise PrinterError("printer.bad_settings", f"unknown printer kind {kind!r}")
