"""``kassa store catalogue ...``: HQ's catalogue at this store, with the server running or stopped.

kassa store catalogue import FILE --data DIR    load a signed bundle from a USB stick
kassa store catalogue pull --data DIR           ask HQ now
kassa store catalogue status --data DIR [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register_store", "refusal"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("catalogue", help="HQ's catalogue: load a USB bundle, pull now, status")
    csub = p.add_subparsers(dest="catalogue_cmd", metavar="ACTION", required=True)
    i = csub.add_parser(
        "import", help="verify a signed catalogue bundle from HQ and apply it (server may run)"
    )
    i.add_argument("file", type=Path)
    i.add_argument("--data", type=Path, default=Path("kassa-data"), help="store data folder")
    i.set_defaults(func=_import)
    pl = csub.add_parser("pull", help="ask HQ's cloud for its newest catalogue now")
    pl.add_argument("--data", type=Path, default=Path("kassa-data"))
    pl.set_defaults(func=_pull)
    s = csub.add_parser("status", help="HQ's catalogue version here, last pull, last error")
    s.add_argument("--data", type=Path, default=Path("kassa-data"))
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_status)


def refusal(exc: Any) -> str:
    """The registered words for a refusal, with what exactly was wrong."""
    from domain.error_codes import lookup

    try:
        text = lookup(exc.code).text
    except KeyError:
        text = ""
    return f"REFUSED {exc.code}: {text}" + (f" ({exc.message})" if exc.message else "")


def _run(args: argparse.Namespace, op: str, data: bytes = b"") -> int:
    from actors.catalogue_sync_local import run_on_store
    from domain.errors import KassaError

    if not (args.data / "store.json").exists():
        print(f"no store in {args.data} (kassa store setup, or kassa store serve)", file=sys.stderr)
        return 2
    try:
        out = run_on_store(args.data, op, data)
    except KassaError as exc:
        print(refusal(exc), file=sys.stderr)
        print("nothing was changed", file=sys.stderr)
        return 1
    if out.get("applied"):
        print(
            f"catalogue version {out['version']} applied ({out.get('count')} products, "
            f"{out.get('local', 0)} of the store's own kept; server {out['server']})"
        )
    elif op == "pull" and not out.get("newest", True):
        print("HQ has published no catalogue for this store yet")
    else:
        print(f"the store already runs catalogue version {out.get('version')}")
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    return _run(args, "import", data)


def _pull(args: argparse.Namespace) -> int:
    return _run(args, "pull")


def _status(args: argparse.Namespace) -> int:
    from actors.catalogue_sync_local import read_status

    st = read_status(args.data)
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    for line in describe(st):
        print(line)
    return 0


def describe(st: dict[str, Any]) -> list[str]:
    """Lines for people: version, source, last pull, error (also in ``kassa store status``)."""
    from kassa_cli.store import _fmt_us

    v = st.get("version")
    lines = [
        f"HQ catalogue     {'version ' + str(v) if v is not None else 'none yet'}"
        + (f" (from {st['source']}, {_fmt_us(st['applied_us'])})" if st.get("applied_us") else "")
    ]
    last = st.get("last_pull_us")
    ok = st.get("last_ok_us")
    lines.append(
        f"  last pull      {_fmt_us(last) if last else 'never'}"
        + (f", last success {_fmt_us(ok)}" if ok else "")
    )
    if st.get("error"):
        lines.append(
            f"  pull error     {st['error']['code']}: {st['error']['message']}"
            f" ({st.get('failures', 0)} failure(s); retrying)"
        )
    if st.get("scheduled_prices"):
        lines.append(
            f"  scheduled      {st['scheduled_prices']} price change(s), next at "
            f"{_fmt_us(st['next_price_us'])}"
        )
    return lines
