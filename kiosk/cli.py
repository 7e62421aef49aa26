"""``kassa till --server URL --till ID [--lang en] [--printer JSON] [--customer-display
window[:GEOMETRY]] [--pole-display JSON]``: open a till window."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("till", help="open a till window (sale, after-sales, manager counters)")
    p.add_argument("--server", default="http://127.0.0.1:8600", help="the store gateway's URL")
    p.add_argument("--till", default="T1", help="this till's id")
    p.add_argument(
        "--lang", default="en", help="the language before anyone signs in (en, zh, th, ar)"
    )
    p.add_argument(
        "--printer",
        default='{"kind": "dummy"}',
        help="receipt printer settings as JSON, e.g. "
        '\'{"kind": "network", "host": "192.168.1.50", "port": 9100}\'',
    )
    p.add_argument(
        "--customer-display",
        default=None,
        metavar="window[:GEOMETRY]|off",
        help="a customer-facing window, full screen at GEOMETRY (+X+Y or WxH+X+Y, e.g. "
        "window:1920x1080+1920+0 for a second monitor right of a 1920-wide one); saved in the "
        "till's settings (DATA/till-settings.json)",
    )
    p.add_argument(
        "--pole-display",
        default=None,
        metavar="JSON",
        help="the 2x20 pole display, e.g. "
        '\'{"kind": "tcp", "host": "192.168.1.60", "port": 9101}\' or '
        '\'{"kind": "serial", "device": "/dev/ttyUSB1"}\' or \'{"kind": "none"}\'; saved '
        "in the till's settings",
    )
    p.add_argument(
        "--customer-lang",
        default=None,
        help="the customer displays' language (en, zh, th, ar; default: the store's language); "
        "saved in the till's settings",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="the till's own folder (print queue, problem reports waiting to be sent)",
    )
    p.add_argument(
        "--forget-store-key",
        action="store_true",
        help="forget the store CA this till pinned (after `kassa store tls enable "
        "--new-ca` or `tls disable`); the next https:// connection pairs again",
    )
    p.add_argument(
        "--store-ca",
        type=Path,
        default=None,
        metavar="PEM",
        help="pin this CA file (DATA/tls/ca.pem copied off the store PC) instead of "
        "trusting the first connection",
    )
    p.add_argument(
        "--geometry",
        default=None,
        metavar="WxH[+X+Y]",
        help="the till window's size and place on the screen (default 1200x760); the text and "
        "buttons are sized for the window",
    )
    p.add_argument(
        "--no-demo-staff",
        action="store_true",
        help="never fall back to the demo staff list on a store without sign-in",
    )
    p.set_defaults(func=_till)


def _till(args: argparse.Namespace) -> int:
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        print("kassa till needs a display (set DISPLAY)", file=sys.stderr)
        return 2
    try:
        printer = json.loads(args.printer)
    except ValueError:
        print("--printer must be JSON", file=sys.stderr)
        return 2
    from kiosk import till_settings

    try:
        size, position = parse_geometry(args.geometry)
    except ValueError:
        print("--geometry is WxH or WxH+X+Y, e.g. 1024x768+0+0", file=sys.stderr)
        return 2
    from kiosk.app import STORE_PIN_FILE, TillApp
    from kiosk.client import StorePin

    data = args.data or Path.home() / ".kassa" / f"till-{args.till}"
    try:
        pole = json.loads(args.pole_display) if args.pole_display is not None else None
        if pole is not None and not isinstance(pole, dict):
            raise ValueError("--pole-display must be a JSON object")
        till_settings.parse_window(args.customer_display)
    except ValueError as exc:
        print(f"bad customer display setting: {exc}", file=sys.stderr)
        return 2
    till_settings.save(
        data,
        customer_display=args.customer_display,
        pole_display=pole,
        customer_lang=args.customer_lang,
    )
    pin = StorePin(data / STORE_PIN_FILE)
    if args.forget_store_key:
        pin.forget()
    if args.store_ca is not None:
        pin.set(args.store_ca.read_text())
    app = TillApp(
        args.server,
        args.till,
        lang=args.lang,
        printer=printer,
        data_dir=args.data,
        demo_staff=not args.no_demo_staff,
        size=size,
        position=position,
    )  # the customer displays come from the till's settings, saved above
    app.mainloop()
    return 0


def parse_geometry(text: str | None) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """``"1024x768+0+0"`` → ((1024, 768), (0, 0)); None → the default window."""
    if not text:
        return (1200, 760), None
    m = re.fullmatch(r"(\d{3,5})x(\d{3,5})(?:\+(\d{1,5})\+(\d{1,5}))?", text.strip())
    if m is None:
        raise ValueError(text)
    size = (int(m[1]), int(m[2]))
    return size, ((int(m[3]), int(m[4])) if m[3] is not None else None)
