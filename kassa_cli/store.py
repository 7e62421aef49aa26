"""``kassa store ...``: run and look after a store server."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path

from kassa_cli import serve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="the store server")
    ssub = p.add_subparsers(dest="store_cmd", metavar="ACTION")
    s = ssub.add_parser("serve", help="start Ray, the actors and the LAN gateway")
    serve.add_arguments(s)  # kassa_cli.main hands `store serve` to kassa_cli.serve directly
    s.set_defaults(func=serve.run)
    st = ssub.add_parser("status", help="show a running store's state: journal, uploads, licence")
    st.add_argument("--data", type=Path, default=Path("kassa-data"))
    st.add_argument("--url", default=None, help="the gateway (default: from DATA/server.json)")
    st.set_defaults(func=_status)
    rb = ssub.add_parser(
        "rebuild-analytics",
        help="rebuild the DuckDB analytics copy from the journal (server stopped)",
    )
    rb.add_argument("--data", type=Path, default=Path("kassa-data"))
    rb.set_defaults(func=_rebuild_analytics)
    ln = ssub.add_parser("link", help="point the store at HQ's cloud (uploads, licence checks)")
    ln.add_argument("--data", type=Path, default=Path("kassa-data"))
    ln.add_argument("--cloud", required=True, help="HQ cloud URL, e.g. https://hq.example:8700")
    ln.add_argument(
        "--secret",
        required=True,
        help="the store's upload secret (printed by `kassa cloud store add`)",
    )
    ln.set_defaults(func=_link)
    _register_tls(ssub)
    from kassa_cli import store_reconcile

    store_reconcile.register(ssub)  # reconcile, suppliers-report
    for name, what in (
        ("unlock", "unlock a staff account (lock-out or failures), on the store PC"),
        ("set-pin", "set a staff member's PIN, on the store PC (also after a lost pin_key)"),
    ):
        rc = ssub.add_parser(name, help=what + "; the server may run or be stopped")
        rc.add_argument("--data", type=Path, default=Path("kassa-data"))
        rc.add_argument("staff", help="the staff id, e.g. admin")
        if name == "unlock":
            rc.add_argument("--reason", default="", help="journaled with the unlock")
        else:
            rc.add_argument(
                "--pin-stdin",
                action="store_true",
                help="read the new PIN from the first line of standard input",
            )
        rc.set_defaults(func=_recover, op=name.replace("-", "_"))
    try:
        from kassa_cli.licence import register_store
    except ModuleNotFoundError:
        pass
    else:
        register_store(ssub)
    from kassa_cli import catalogue, setup, store_backup, store_payments, store_service

    catalogue.register_store(ssub)
    setup.register_store(ssub)
    store_payments.register_store(ssub)
    store_backup.register(ssub)
    store_service.register_store(ssub)  # install / uninstall (a systemd service)
    from kassa_cli import store_metrics

    store_metrics.register_store(ssub)
    from kassa_cli import store_upgrade

    store_upgrade.register_store(ssub)


def _status(args: argparse.Namespace) -> int:
    import json
    import urllib.request

    url = args.url
    if url is None:
        try:
            info = json.loads((args.data / "server.json").read_text())
        except FileNotFoundError:
            print(f"no running store found in {args.data} (start it: kassa store serve)")
            return 2
        host = "127.0.0.1" if info["host"] in ("0.0.0.0", "::", "") else info["host"]
        url = f"{info.get('scheme', 'http')}://{host}:{info['port']}"
    ctx = None
    if url.startswith("https:"):  # the store's own CA, from its data folder
        from actors.tls import TlsFiles, client_context

        if not TlsFiles.of(args.data).ca_cert.exists():
            print(f"{url} is HTTPS but {args.data} holds no store CA (kassa store tls enable)")
            return 2
        ctx = client_context(args.data)
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=10, context=ctx) as r:
            h = json.loads(r.read())
    except OSError as exc:
        print(f"store at {url} does not answer: {exc}")
        return 1
    up = h.get("upload", {})
    lic = h.get("licence", {})
    print(f"store {h['store']} ({h.get('name', '')}) at {url}")
    if ctx is not None:
        from actors.tls import describe

        t = describe(args.data)
        print(f"  TLS              CA {t['ca_fingerprint']}, certificate until {t['until'][:10]}")
    print(
        f"  journal seq      {h['seq']}   orders {h['orders']}   open baskets {h['open_baskets']}"
    )
    j = h.get("journal") or {}
    if j:
        problems = (
            [f"seq {j['first_broken']}: {j.get('reason')}"] if j.get("first_broken") else []
        ) + list(j.get("integrity") or [])[:2]
        verdict = "ok" if j.get("ok") else f"BROKEN: {'; '.join(problems)} (kassa journal verify)"
        print(f"  journal check    {verdict}   full check {j.get('full_check')}")
    if up.get("configured"):
        age = up.get("oldest_unsent_age_s")
        print(
            f"  upload backlog   {up.get('backlog_events', 0)} events"
            + (f", oldest unsent {age:.0f} s old" if age else "")
        )
        rate, eta = up.get("rate_events_s"), up.get("eta_s")
        if rate:
            line = up.get("line_kbit_s")
            print(
                f"  sending          {rate:.0f} events/s"
                + (f" over {line} kbit/s" if line else "")
                + (f", about {_fmt_s(eta)} left" if eta else "")
            )
        fl = up.get("in_flight")
        if fl:
            print(
                f"  in flight        seq {fl['first']}-{fl['last']} ({fl['events']} events, "
                f"{fl.get('sent_bytes', 0) / 1000:.1f} of {fl['bytes'] / 1000:.1f} KB sent)"
            )
        if up.get("yielding"):
            print("  line             yielding to a licence check or download")
        print(
            f"  bytes sent       {up.get('wire_bytes_up', 0) / 1e6:.2f} MB up, "
            f"{up.get('wire_bytes_down', 0) / 1e6:.2f} MB down (failed attempts included)"
        )
        last = up.get("last_success_us")
        kind = f" ({up['last_error_kind']})" if up.get("last_error_kind") else ""
        print(
            f"  last upload      {_fmt_us(last) if last else 'never'}"
            + (f"   last error{kind}: {up['last_error']}" if up.get("last_error") else "")
        )
    else:
        print("  upload           not linked to a cloud (kassa store link)")
    print(
        f"  licence          {lic.get('code')}: {lic.get('message')}"
        f" (grace days left: {lic.get('grace_days_left')})"
    )
    if h.get("catalogue"):
        from kassa_cli.catalogue import describe as catalogue_lines

        print("\n".join(catalogue_lines(h["catalogue"])))
    print(f"  disk free        {h['disk_free_bytes'] / 1e9:.1f} GB")
    from actors.backup_schedule import status_lines

    print("\n".join(status_lines(args.data)))
    return 0


def _fmt_s(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 5400 else f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def _fmt_us(us: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _rebuild_analytics(args: argparse.Namespace) -> int:
    from actors.journal import Journal
    from actors.server import load_config
    from analytics.store import StoreAnalytics

    cfg = load_config(args.data)
    journal = Journal(args.data / "journal.sqlite")
    try:
        with StoreAnalytics(
            str(args.data / "analytics.duckdb"), cfg.zone, store_id=cfg.store_id
        ) as store:
            n = store.rebuild(journal.scan())
    except Exception as exc:  # DuckDB refuses a file another process (the server) holds
        if "lock" in str(exc).lower():
            print("the analytics file is in use: stop the store server first")
            return 1
        raise
    finally:
        journal.close()
    print(f"analytics rebuilt from the journal: {n} events")
    return 0


def _recover(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from actors.recovery import recover
    from domain.errors import KassaError

    pin = ""
    if args.op == "set_pin":
        if args.pin_stdin or not sys.stdin.isatty():
            pin = sys.stdin.readline().rstrip("\r\n")
        else:
            pin = getpass.getpass(f"new PIN for {args.staff}: ")
            if getpass.getpass("again: ") != pin:
                print("the two PINs differ; nothing changed", file=sys.stderr)
                return 2
    try:
        out = recover(args.data, args.op, args.staff, pin, getattr(args, "reason", ""))
    except KassaError as exc:
        print(f"refused: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the data folder belongs to another account
        print(f"cannot reach the store's data folder: {exc}", file=sys.stderr)
        return 1
    done = "unlocked" if args.op == "unlock" else "has a new PIN"
    print(f"{args.staff} {done} (journal seq {out['seq']}, server {out['server']})")
    return 0


def _link(args: argparse.Namespace) -> int:
    from actors.files import atomic_write
    from actors.server import load_config, update_store_json

    cfg = load_config(args.data)
    try:
        bytes.fromhex(args.secret)
    except ValueError:
        print("the secret is the hex string printed by `kassa cloud store add`")
        return 2
    doc = update_store_json(args.data, cloud_url=args.cloud.rstrip("/"))  # keeps auth, tls
    atomic_write(args.data / "cloud_secret", args.secret.encode(), mode=0o600)  # owner only
    print(f"store {cfg.store_id} now uploads to {doc['cloud_url']} (restart the server)")
    return 0


def _register_tls(ssub: argparse._SubParsersAction) -> None:
    t = ssub.add_parser("tls", help="HTTPS on the shop LAN: the store's own CA, pinned by tills")
    tsub = t.add_subparsers(dest="tls_cmd", metavar="ACTION", required=True)
    en = tsub.add_parser(
        "enable",
        help="make the store's CA (once) and a server certificate; "
        "the next start serves HTTPS only",
    )
    en.add_argument("--data", type=Path, default=Path("kassa-data"))
    en.add_argument(
        "--name",
        action="append",
        default=None,
        metavar="HOST",
        help="a name tills use for the store PC (repeat; default: this PC's name)",
    )
    en.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="ADDR",
        help="an address tills use for the store PC, e.g. 192.168.1.10 (repeat)",
    )
    en.add_argument(
        "--new-ca", action="store_true", help="replace the CA too: every till must pair again"
    )
    en.set_defaults(func=_tls_enable)
    dis = tsub.add_parser("disable", help="serve plain HTTP from the next start (keeps the CA)")
    dis.add_argument("--data", type=Path, default=Path("kassa-data"))
    dis.set_defaults(func=_tls_disable)
    fp = tsub.add_parser("fingerprint", help="the CA fingerprint a till shows when it pairs")
    fp.add_argument("--data", type=Path, default=Path("kassa-data"))
    fp.set_defaults(func=_tls_fingerprint)


def _tls_enable(args: argparse.Namespace) -> int:
    from actors import tls

    try:
        info = tls.enable(args.data, args.name, args.ip, new_ca=args.new_ca)
    except ValueError as exc:
        print(f"cannot make the certificate: {exc}")
        return 2
    print("TLS enabled: the store serves HTTPS only from its next start (restart it).")
    print(f"  certificate for  {', '.join(info['names'])} (until {info['until'][:10]})")
    print(f"  CA fingerprint   {info['ca_fingerprint']}")
    if info["new_ca"]:
        print(
            "  a new CA: each till pairs at its next connection and shows this fingerprint;"
            " compare them. Tills paired with an older CA must forget it"
            " (kassa till --forget-store-key)."
        )
    else:
        print("  same CA as before: paired tills stay paired.")
    return 0


def _tls_disable(args: argparse.Namespace) -> int:
    from actors import tls

    if tls.disable(args.data):
        print(
            "TLS disabled: the store serves plain HTTP from its next start (restart it). "
            "Paired tills refuse plain HTTP until told to forget the store's key "
            "(kassa till --forget-store-key)."
        )
    else:
        print("TLS was not enabled.")
    return 0


def _tls_fingerprint(args: argparse.Namespace) -> int:
    from actors import tls

    if not tls.TlsFiles.of(args.data).ca_cert.exists():
        print(f"no CA in {args.data} (kassa store tls enable)")
        return 2
    info = tls.describe(args.data)
    print(info["ca_fingerprint"])
    print(
        f"  TLS {'on' if info['enabled'] else 'off'}; CA {info['ca_file']} until "
        f"{info['ca_until'][:10]}; server certificate for {', '.join(info.get('names', []))}"
        f" until {info.get('until', '?')[:10]}"
    )
    return 0
