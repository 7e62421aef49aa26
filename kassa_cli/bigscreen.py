"""``kassa bigscreen``: the sales big screen (大屏), and its display credential.

    kassa bigscreen --server URL --enrol "Big screen" --manager m1   # once: asks m1's PIN
    kassa bigscreen --server URL [--lang zh] [--windowed]            # then, on the wall's PC

The credential is a staff account of role ``display`` (the sales feed and the big-screen summary,
nothing else) with a long random PIN, kept in a file only its owner may read (0600). A manager
revokes it by locking the account (staff tab, or ``POST /v1/staff/{id}/lock``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

__all__ = ["register", "enrol", "demo_credential", "DEFAULT_CREDENTIAL"]

DEFAULT_CREDENTIAL = Path.home() / ".kassa" / "bigscreen" / "credential.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bigscreen", help="open the sales big screen (大屏), or enrol its credential"
    )
    p.add_argument("--server", default="http://127.0.0.1:8600", help="the store gateway's URL")
    p.add_argument(
        "--credential",
        type=Path,
        default=DEFAULT_CREDENTIAL,
        help=f"the display credential file (default {DEFAULT_CREDENTIAL})",
    )
    p.add_argument(
        "--lang", default=None, help="show one language (en, zh, th, ar) instead of cycling"
    )
    p.add_argument("--cycle", type=float, default=20.0, help="seconds per language when cycling")
    p.add_argument("--windowed", action="store_true", help="a window, not the full screen")
    p.add_argument("--geometry", default=None, help="window size and place, e.g. 960x700+960+0")
    p.add_argument(
        "--store-ca", type=Path, default=None, metavar="PEM", help="pin this store CA (https://)"
    )
    p.add_argument(
        "--enrol",
        metavar="NAME",
        default=None,
        help="create a display account called NAME (a manager signs in) and save its credential",
    )
    p.add_argument("--manager", default="m1", help="the manager who enrols the screen")
    p.set_defaults(func=_main)


def _client(server: str, till: str, store_ca: Path | None, credential: Path) -> Any:
    from kiosk.client import StoreClient

    c = StoreClient(server, till, timeout=30.0, pin_file=credential.with_name("store-ca.json"))
    if store_ca is not None:
        c.pin.set(store_ca.read_text())
    return c


def enrol(
    server: str,
    name: str,
    manager: str,
    manager_pin: str,
    path: Path,
    till: str = "BIGSCREEN",
    store_ca: Path | None = None,
) -> Any:
    """Create a display account for ``name`` (signed in as ``manager``) and save its credential
    at ``path`` (0600). Answers the credential."""
    from kiosk.bigscreen_feed import Credential, save_credential
    from kiosk.client import Session

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:20] or "screen"
    staff = f"bs-{slug}-{secrets.token_hex(3)}"
    c = _client(server, "BSENROL", store_ca, path)
    out = c.post(
        "/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": manager, "pin": manager_pin, "till": "BSENROL"},
    )
    c.session = Session(manager, token=out["token"])
    pin = secrets.token_urlsafe(36)
    c.post(
        "/v1/staff",
        {
            "id": str(uuid.uuid4()),
            "staff": staff,
            "name": name[:100],
            "role": "display",
            "language": "en",
            "pin": pin,
        },
    )
    c.request("DELETE", "/v1/sessions/current")
    cred = Credential(staff, pin, till)
    save_credential(path, cred)
    return cred


async def demo_credential(handles: Any, data: Path) -> Path:
    """The demo shop's display account (``bigscreen``) and its credential file in ``data``:
    created once, its PIN set afresh when the file is gone."""
    import asyncio

    from actors.ledger import Request, command_hash
    from actors.staff import load_pin_key, sealed_pin
    from domain.staff import StaffCreated, StaffPinChanged
    from kiosk.bigscreen_feed import Credential, load_credential, save_credential

    path = data / "bigscreen-credential.json"
    state = await handles.ledger.staff_state()
    if path.exists() and "bigscreen" in state["accounts"]:
        load_credential(path)
        return path
    pin = secrets.token_urlsafe(36)
    loop = asyncio.get_running_loop()
    sealed = await loop.run_in_executor(
        None, sealed_pin, load_pin_key(Path(handles.data_dir)), "bigscreen", pin
    )
    body: Any = (
        StaffPinChanged("bigscreen", sealed)
        if "bigscreen" in state["accounts"]
        else StaffCreated("bigscreen", "Big screen", "display", "en", sealed)
    )
    await handles.ledger.submit(
        Request(
            str(uuid.uuid4()),
            command_hash("demo.bigscreen", "bigscreen"),
            body,
            "demo",
            "",
            "127.0.0.1",
        )
    )
    return save_credential(path, Credential("bigscreen", pin, "BIGSCREEN"))


def _main(args: argparse.Namespace) -> int:
    from kiosk.api_errors import ApiError

    if args.enrol:
        pin = os.environ.get("KASSA_MANAGER_PIN") or getpass.getpass(f"{args.manager}'s PIN: ")
        try:
            cred = enrol(
                args.server, args.enrol, args.manager, pin, args.credential, store_ca=args.store_ca
            )
        except ApiError as exc:
            print(f"not enrolled: {exc.code} {exc.message}", file=sys.stderr)
            return 1
        print(f"display account {cred.staff} created; credential saved in {args.credential}")
        print(f"revoke it by locking {cred.staff} (manager counter: Staff)")
        return 0
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        print("kassa bigscreen needs a display (set DISPLAY)", file=sys.stderr)
        return 2
    from kiosk.bigscreen_feed import load_credential

    try:
        cred = load_credential(args.credential)
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"no display credential in {args.credential} ({exc}); enrol one with "
            f"kassa bigscreen --server {args.server} --enrol NAME --manager STAFF",
            file=sys.stderr,
        )
        return 2
    from kiosk.bigscreen import BigScreen

    pin_file = args.credential.with_name("store-ca.json")
    if args.store_ca is not None:
        from kiosk.client import StorePin

        StorePin(pin_file).set(args.store_ca.read_text())
    app = BigScreen(
        args.server,
        cred,
        lang=args.lang,
        fullscreen=not args.windowed,
        cycle_s=args.cycle,
        pin_file=pin_file,
        geometry=args.geometry,
    )
    app.mainloop()
    return 0
