"""``kassa store licence ...``: the licence of one store, from its data folder.

    kassa store licence install FILE --data DIR [--key HQ_PUBLIC_KEY_FILE] [--store S001]
    kassa store licence status --data DIR [--json]
    kassa store licence check --data DIR --cloud URL    one online check now
    kassa store licence activate --data DIR [--cloud URL] [--wait SECONDS]
    kassa store licence activate --data DIR --request-file OUT     (USB route: HQ approves it)
    kassa store licence activate --data DIR --answer-file IN       (HQ's answer from the USB)

HQ's public key is kept in ``DIR/licence/hq_public.key``; the first install takes it from ``--key``
(a file holding the 64 hex digits from ``kassa admin licence key``) or ``$KASSA_HQ_PUBLIC_KEY``.
The store id comes from ``--store``, else ``DIR/store.json``. These commands work on the files; with
the store server running, the server's licence keeper must ``reload()`` to see an install. Events
made here wait in ``DIR/licence/pending_events.jsonl`` until the server journals them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from actors.store_file import load_public_key, public_key_path

__all__ = ["register_store", "public_key_path", "load_public_key", "store_id_of"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("licence", help="install and inspect this store's licence")
    lsub = p.add_subparsers(dest="licence_cmd", metavar="ACTION")

    i = lsub.add_parser("install", help="verify a licence file from HQ and install it")
    i.add_argument("file", type=Path)
    i.add_argument("--data", type=Path, default=Path("kassa-data"), help="store data folder")
    i.add_argument("--key", type=Path, help="HQ's public key file (needed on first install)")
    i.add_argument("--store", help="this store's id (default: from DATA/store.json)")
    i.set_defaults(func=_install)

    s = lsub.add_parser("status", help="may the day open? grace days left, last check")
    s.add_argument("--data", type=Path, default=Path("kassa-data"))
    s.add_argument("--store", help="this store's id (default: from DATA/store.json)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_status)

    c = lsub.add_parser("check", help="check the licence with the cloud now")
    c.add_argument("--data", type=Path, default=Path("kassa-data"))
    c.add_argument("--cloud", required=True, help="cloud base URL")
    c.add_argument("--store", help="this store's id (default: from DATA/store.json)")
    c.set_defaults(func=_check)

    a = lsub.add_parser(
        "activate", help="ask HQ to approve the licence on this PC; show the install id"
    )
    a.add_argument("--data", type=Path, default=Path("kassa-data"))
    a.add_argument("--cloud", help="cloud base URL (default: DATA/store.json's cloud_url)")
    a.add_argument("--store", help="this store's id (default: from DATA/store.json)")
    a.add_argument("--wait", type=float, default=0.0, help="keep asking this many seconds")
    a.add_argument("--request-file", type=Path, help="write the request for HQ to this file")
    a.add_argument("--answer-file", type=Path, help="install HQ's answer from this file")
    a.set_defaults(func=_activate)


def store_id_of(data: Path, given: str | None = None) -> str | None:
    if given:
        return given
    cfg = Path(data) / "store.json"
    if cfg.exists():
        try:
            sid = json.loads(cfg.read_bytes()).get("store_id")
            if isinstance(sid, str) and sid:
                return sid
        except ValueError:
            pass
    return None


def _keeper(data: Path, store: str | None, key: str, transport=None):
    from actors.licence import LicenceKeeper
    from domain.ports import SystemClock

    sid = store_id_of(data, store)
    if sid is None:
        raise SystemExit("error: unknown store id: pass --store or create DATA/store.json")
    return LicenceKeeper(data, sid, key, transport, SystemClock(), None)


def _fmt(us: int | None) -> str:
    from admin.cli import fmt_time

    return fmt_time(us) if us else "never"


def _print_status(st: dict) -> None:
    print(f"store      {st['store_id']}")
    if st["licence_id"]:
        print(
            f"licence    {st['licence_id']}: {_fmt(st['valid_from'])} .. "
            f"{_fmt(st['valid_until'])}"
            f", {st['tills']} till(s), grace {st['grace_days']} days, features "
            f"{','.join(st['features']) or '-'}"
        )
    print(f"last check {_fmt(st['last_ok'])} (cloud time of the last successful check)")
    if st.get("last_error"):
        print(f"last error {st['last_error']['code']}: {st['last_error']['message']}")
    if st.get("install_id"):
        print(f"install    {st['install_id']}: activation {st.get('activation') or '-'}")
    verdict = "MAY OPEN" if st["ok"] else "MAY NOT OPEN"
    print(f"day        {verdict}: {st['code']}: {st['message']}")
    if st["ok"]:
        print(
            f"grace      {st['grace_days_left']} day(s) left"
            f"{'  (WARNING: ' + st['warn_code'] + ')' if st['warn'] else ''}"
        )


def _install(args: argparse.Namespace) -> int:
    from domain.errors import KassaError
    from domain.licence import public_key_from

    key = load_public_key(args.data)
    if args.key:
        given = args.key.read_text().strip()
        try:
            public_key_from(given)
        except KassaError as exc:
            print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
        if key and key != given:
            print(
                "error: licence.key_mismatch: this store already trusts another HQ key "
                f"({public_key_path(args.data)}); remove it deliberately to change HQ",
                file=sys.stderr,
            )
            return 1
        if not public_key_path(args.data).exists():
            from actors.files import atomic_write

            atomic_write(public_key_path(args.data), (given + "\n").encode())
        key = given
    if not key:
        print(
            "error: licence.no_key: HQ's public key is not known to this store; pass --key FILE "
            "(from `kassa admin licence key`)",
            file=sys.stderr,
        )
        return 1
    keeper = _keeper(args.data, args.store, key)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        st = asyncio.run(keeper.install(data))
    except KassaError as exc:
        print(f"REFUSED {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(f"installed licence {st['licence_id']}")
    _print_status(st)
    return 0


def _status(args: argparse.Namespace) -> int:
    key = load_public_key(args.data)
    if not key:
        print("no licence: HQ's public key is not installed on this store")
        return 1
    st = _keeper(args.data, args.store, key).status()
    if args.json:
        print(json.dumps(st, indent=1))
    else:
        _print_status(st)
    return 0 if st["ok"] else 1


def _check(args: argparse.Namespace) -> int:
    from actors.licence import HttpTransport

    key = load_public_key(args.data)
    if not key:
        print("error: licence.no_key: install a licence first", file=sys.stderr)
        return 1
    keeper = _keeper(args.data, args.store, key, HttpTransport(args.cloud))
    res = asyncio.run(keeper.check_once())
    print(f"{res['code']}: {res.get('message', '')}")
    if "clock_skew_s" in res and abs(res["clock_skew_s"]) > 60:
        print(f"note: this PC's clock is {res['clock_skew_s']:+.0f} s off HQ's time")
    _print_status(keeper.status())
    return 0 if res["ok"] else 1


def _activate(args: argparse.Namespace) -> int:
    """Ask HQ (or write/read the USB files); print the install id and the activation state."""
    import time

    from actors.licence import HttpTransport
    from domain.errors import KassaError

    key = load_public_key(args.data)
    if not key:
        print("error: licence.no_key: install a licence first", file=sys.stderr)
        return 1
    cloud = args.cloud or _cloud_url(args.data)
    secret = None
    try:
        secret = bytes.fromhex((args.data / "cloud_secret").read_text().strip())
    except (OSError, ValueError):
        pass
    transport = HttpTransport(cloud, secret=secret) if cloud else None
    keeper = _keeper(args.data, args.store, key, transport)
    if args.request_file:
        if keeper.licence is None:
            print("error: licence.missing: install the licence first", file=sys.stderr)
            return 1
        args.request_file.write_text(json.dumps(keeper.activation_request(), indent=1) + "\n")
        print(f"request for HQ -> {args.request_file} (kassa admin licence approve --request-file)")
        print(f"install    {keeper.install_id}")
        return 0
    if args.answer_file:
        try:
            asyncio.run(keeper.accept_activation(json.loads(args.answer_file.read_text())))
        except (KassaError, OSError, ValueError) as exc:
            print(f"REFUSED {getattr(exc, 'code', 'activation.bad_signature')}: {exc}")
            return 1
        _print_status(keeper.status())
        return 0
    deadline = time.monotonic() + max(0.0, args.wait)
    while True:
        res = asyncio.run(keeper.activate_once())
        if res["ok"] or time.monotonic() >= deadline:
            break
        time.sleep(min(5.0, max(0.5, deadline - time.monotonic())))
    print(f"{res['code']}: install {res['install_id']}, activation {res['activation']}")
    if res["code"] == "activation.pending":
        print(f"ask HQ to approve request {res.get('activation_request') or '?'}")
    _print_status(keeper.status())
    return 0 if res["ok"] else 1


def _cloud_url(data: Path) -> str:
    try:
        url = json.loads((Path(data) / "store.json").read_bytes()).get("cloud_url")
    except (OSError, ValueError, AttributeError):
        return ""
    return url if isinstance(url, str) else ""
