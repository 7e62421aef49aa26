"""``kassa store payments simulate``: play a payment provider's callback on the store PC.

    kassa store payments simulate --key KEY --result success|fail|late [--provider promptpay]

sends ``POST /v1/payments/callback/<provider>`` to the running store, signed with the provider's
secret in ``DATA/payments/<provider>.secret`` (as the real provider would sign it). ``late``
waits until the till has given up (the store's ``payments.timeout_s`` and a second, or
``--after``) and then reports a success: a late payment, which the store records without counting
it twice.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["register_store"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("payments", help="payments through providers (QR, card terminals)")
    psub = p.add_subparsers(dest="payments_cmd", metavar="ACTION")
    s = psub.add_parser("simulate", help="send a provider's signed callback to the running store")
    s.add_argument("--data", type=Path, default=Path("kassa-data"))
    s.add_argument("--url", default=None, help="the gateway (default: from DATA/server.json)")
    s.add_argument("--provider", default="promptpay")
    s.add_argument("--key", required=True, help="the payment's key (shown on the till)")
    s.add_argument("--result", required=True, choices=("success", "fail", "late"))
    s.add_argument("--reference", default="", help="the provider's reference (default: made up)")
    s.add_argument("--after", type=float, default=None, help="late: seconds to wait first")
    s.set_defaults(func=_simulate)


def _url(data: Path, url: str | None) -> str:
    if url:
        return url.rstrip("/")
    info = json.loads((data / "server.json").read_text())
    host = "127.0.0.1" if info["host"] in ("0.0.0.0", "::", "") else info["host"]
    return f"{info.get('scheme', 'http')}://{host}:{info['port']}"


def _simulate(args: argparse.Namespace) -> int:
    from actors.payments.callback import SIG_HEADER, TS_HEADER, provider_secret, sign
    from actors.payments.registry import DEFAULT_TIMEOUT_S
    from actors.store_file import load_config

    try:
        url = _url(args.data, args.url)
    except FileNotFoundError:
        print(f"no running store found in {args.data} (start it: kassa store serve)")
        return 2
    if args.result == "late":
        wait = args.after
        if wait is None:
            cfg = load_config(args.data).payments
            wait = float(cfg.get("timeout_s") or DEFAULT_TIMEOUT_S) + 1
        time.sleep(wait)
    result = "fail" if args.result == "fail" else "success"
    reference = args.reference or f"SIM-{args.key[:8].upper()}"
    body = json.dumps({"key": args.key, "result": result, "reference": reference}).encode()
    ts = int(time.time())
    req = urllib.request.Request(
        f"{url}/v1/payments/callback/{args.provider}",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TS_HEADER: str(ts),
            SIG_HEADER: sign(provider_secret(args.data, args.provider), ts, body),
        },
    )
    ctx = None
    if url.startswith("https:"):  # the store's own CA, from its data folder
        from actors.tls import client_context

        ctx = client_context(args.data)
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            print(r.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(f"refused ({exc.code}): {exc.read().decode()[:500]}")
        return 1
    except OSError as exc:
        print(f"store at {url} does not answer: {exc}")
        return 1
