"""``kassa hw ...`` (or ``python -m hw ...``): the printer, the cash drawer and the pole display.

kassa hw preview --lang th --paper 58 --out th.png [--order order.json] [--refund] [--copy]
kassa hw test-print --printer '{"kind": "network", "host": "192.168.1.50"}' --lang zh [--kick]
kassa hw status --printer '{"kind": "network", "host": "192.168.1.50"}'
kassa hw drawer --printer '{"kind": "network", "host": "192.168.1.50"}' [--pin 5]
kassa hw display --display '{"kind": "tcp", "host": "192.168.1.60"}' "Welcome" "kassa"
kassa hw printers                   # receipt printers and serial ports attached to this PC
kassa hw jobs --data DIR            # the till's print queue
kassa hw retry --data DIR           # make every waiting receipt due now

A mistake in what was typed (settings that are not JSON, an unknown kind, a missing key, a file
that is not there) is one line on stderr and exit status 2; a printer or display that cannot be
reached is one line and exit status 1. Nothing is printed as a traceback.
"""

from __future__ import annotations

import argparse
import glob
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LANGS = ("en", "zh", "th", "ar")  # the languages a receipt is printed in

__all__ = ["register", "main"]

Action = Callable[[argparse.Namespace], int]

PRINTER_HELP = 'printer settings as JSON, e.g. \'{"kind": "network", "host": "192.168.1.50"}\''
DISPLAY_HELP = 'display settings as JSON, e.g. \'{"kind": "tcp", "host": "192.168.1.60"}\''


class BadInput(Exception):
    """What was typed cannot be used (exit status 2)."""


class Unreachable(Exception):
    """The device did not answer or refused the job (exit status 1)."""


def _guard(action: Action) -> Action:
    """Run ``action``; say what went wrong in one line instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        from hw.printer import PrinterError

        try:
            return action(args)
        except BadInput as exc:
            print(f"kassa hw: {exc}", file=sys.stderr)
            return 2
        except (Unreachable, PrinterError, OSError) as exc:
            text = f"{exc.code}: {exc.message}" if isinstance(exc, PrinterError) else str(exc)
            print(f"kassa hw: {' '.join(text.split())}", file=sys.stderr)
            return 1

    return run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hw",
        help="receipt printer, cash drawer and pole display tools",
        description="Receipt printer, cash drawer and pole display tools; "
        "'kassa hw ACTION --help' for each. Settings are JSON as in the till's settings.",
    )
    hsub = p.add_subparsers(dest="hw_cmd", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    def action(name: str, fn: Action, help: str) -> argparse.ArgumentParser:
        a = hsub.add_parser(name, help=help, description=help)
        a.set_defaults(func=_guard(fn))
        return a

    pv = action("preview", _preview, "save a receipt preview as PNG")
    pv.add_argument("--order", type=Path, help="an order JSON (OrderCompleted); default: a demo")
    pv.add_argument("--lang", default="en", choices=LANGS, help="the receipt's language")
    pv.add_argument("--paper", type=int, default=80, choices=(58, 80))
    pv.add_argument("--refund", action="store_true", help="the refund receipt of the order")
    pv.add_argument("--copy", action="store_true", help="as a reprint (marked COPY)")
    pv.add_argument("--out", type=Path, required=True)

    tp = action("test-print", _test_print, "print a demo receipt (no drawer kick)")
    tp.add_argument("--printer", required=True, help=PRINTER_HELP)
    tp.add_argument("--lang", default="en", choices=LANGS, help="the receipt's language")
    tp.add_argument("--kick", action="store_true", help="also open the cash drawer")

    st = action("status", _status, "ask the printer for its state")
    st.add_argument("--printer", required=True, help=PRINTER_HELP)

    dr = action("drawer", _drawer, "open the cash drawer wired to the printer")
    dr.add_argument("--printer", required=True, help=PRINTER_HELP)
    dr.add_argument("--pin", type=int, choices=(2, 5), help="drawer pin (default: the printer's)")

    ds = action("display", _display, "show two lines on the customer pole display")
    ds.add_argument("--display", required=True, help=DISPLAY_HELP)
    ds.add_argument("line1", help="first line (cut to the display's width)")
    ds.add_argument("line2", nargs="?", default="", help="second line")

    action("printers", _printers, "list receipt printers and serial ports attached to this PC")

    jb = action("jobs", _jobs, "list the print queue of a till")
    jb.add_argument("--data", type=Path, required=True, help="the till's data folder")
    jb.add_argument("--limit", type=int, default=20)

    rt = action("retry", _retry, "make every waiting receipt due now")
    rt.add_argument("--data", type=Path, required=True, help="the till's data folder")


# ---------------------------------------------------------------- input


def _settings(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{option} is not JSON ({exc.msg}): {text!r}") from None
    if not isinstance(value, dict) or "kind" not in value:
        raise BadInput(f'{option} must be a JSON object with a "kind", e.g. {{"kind": "network"}}')
    return value


def _printer(args: argparse.Namespace) -> Any:
    from hw.printer import PrinterError, make_printer

    settings = _settings(args.printer, "--printer")
    try:
        return make_printer(settings)
    except KeyError as exc:
        raise BadInput(f"--printer of kind {settings['kind']!r} needs {exc}") from None
    except (ValueError, TypeError) as exc:
        raise BadInput(f"--printer: {exc}") from None
    except PrinterError as exc:  # printer.bad_settings (an unknown kind)
        raise BadInput(f"--printer: {exc.message}") from None


def _order_and_store(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    from hw.sample import demo_order, demo_store

    path: Path | None = getattr(args, "order", None)
    if path is None:
        order = demo_order(args.lang)
    else:
        try:
            order = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise BadInput(f"--order: no file {path}") from None
        except ValueError as exc:
            raise BadInput(f"--order: {path} is not JSON ({exc})") from None
        if not isinstance(order, dict) or not isinstance(order.get("lines"), list):
            raise BadInput(f"--order: {path} is not an order (an OrderCompleted as JSON)")
    order.setdefault("ts", int(time.time() * 1_000_000))
    return order, demo_store(args.lang)


def _receipt(args: argparse.Namespace) -> Any:
    from domain.errors import KassaError
    from hw.receipt import build_receipt, build_refund_receipt
    from hw.sample import demo_refund

    order, store = _order_and_store(args)
    copy = bool(getattr(args, "copy", False))
    try:
        if getattr(args, "refund", False):
            return build_refund_receipt(
                demo_refund(order), store, args.lang, original=order, copy=copy
            )
        return build_receipt(order, store, args.lang, copy=copy, till="T1", staff="demo")
    except (KassaError, KeyError, TypeError) as exc:
        raise BadInput(f"--order: cannot build a receipt from it ({exc})") from None


# ---------------------------------------------------------------- actions


def _preview(args: argparse.Namespace) -> int:
    from hw.render import save_preview

    print(save_preview(_receipt(args), args.out, args.paper))
    return 0


def _test_print(args: argparse.Namespace) -> int:
    from hw.encode import encode_receipt

    printer = _printer(args)
    st = printer.print_bytes(encode_receipt(_receipt(args), printer.options, kick=args.kick))
    print(f"printed ({st.state})")
    return 0


def _status(args: argparse.Namespace) -> int:
    st = _printer(args).probe()
    print(f"{st.state} {st.detail}".strip())
    return 0 if st.printable else 1


def _drawer(args: argparse.Namespace) -> int:
    from hw.encode import drawer_kick_bytes

    printer = _printer(args)
    printer.print_bytes(drawer_kick_bytes(args.pin or printer.options.drawer_pin))
    print("drawer opened")
    return 0


def _display(args: argparse.Namespace) -> int:
    from hw.display import make_display

    settings = _settings(args.display, "--display")
    try:
        disp = make_display(settings, background=False)
    except KeyError as exc:
        raise BadInput(f"--display of kind {settings['kind']!r} needs {exc}") from None
    except (ValueError, TypeError, ImportError) as exc:
        raise BadInput(f"--display: {exc}") from None
    try:
        disp.show(args.line1, args.line2)
    except OSError as exc:
        raise Unreachable(f"display not reached: {exc}") from None
    finally:
        disp.close()
    print("shown")
    return 0


def _printers(args: argparse.Namespace) -> int:
    """Printer device files, serial ports and USB printers (printer class 7, with pyusb)."""
    found = [{"kind": "file", "path": p} for p in sorted(glob.glob("/dev/usb/lp*"))]
    for pattern in ("/dev/ttyUSB*", "/dev/ttyACM*"):
        found += [{"kind": "serial", "device": p} for p in sorted(glob.glob(pattern))]
    try:
        import usb.core  # type: ignore[import-not-found]  # pyusb, optional

        for dev in usb.core.find(find_all=True) or ():
            if any(i.bInterfaceClass == 7 for cfg in dev for i in cfg):
                found.append(
                    {
                        "kind": "usb",
                        "vendor": f"{dev.idVendor:#06x}",
                        "product": f"{dev.idProduct:#06x}",
                    }
                )
    except Exception:  # no pyusb, no libusb or no permission: list what the files show
        pass
    for settings in found:
        print(json.dumps(settings))
    if not found:
        print("no printer found on this PC (a network printer is not listed: give its address)")
    return 0


def _db(data: Path) -> sqlite3.Connection:
    path = Path(data) / "print-queue.sqlite"
    if not path.exists():
        raise BadInput(f"no print queue at {path} (--data is the till's data folder)")
    return sqlite3.connect(path, timeout=5)


def _jobs(args: argparse.Namespace) -> int:
    with _db(args.data) as db:
        rows = db.execute(
            "SELECT id, kind, number, state, attempts, last_error FROM jobs "
            "ORDER BY id DESC LIMIT ?",
            (args.limit,),
        ).fetchall()
    for r in rows:
        print(f"{r[0]:>6} {r[1]:<8} {r[2]:<16} {r[3]:<9} tries={r[4]} {r[5]}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    with _db(args.data) as db:
        n = db.execute(
            "UPDATE jobs SET next_at=?, state='pending' WHERE state IN ('pending','failed')",
            (time.time(),),
        ).rowcount
    print(f"{n} job(s) due now")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m")  # usage reads "python -m hw ACTION"
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register(sub)
    args = parser.parse_args(["hw", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)
