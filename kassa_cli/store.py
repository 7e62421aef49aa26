"""``kassa store ...``: run and look after a store server."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="the store server")
    ssub = p.add_subparsers(dest="store_cmd", metavar="ACTION")
    s = ssub.add_parser("serve", help="start Ray, the actors and the LAN gateway")
    s.add_argument("--data", type=Path, default=Path("kassa-data"), help="data folder")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: the LAN)")
    s.add_argument("--port", type=int, default=8600)
    s.set_defaults(func=_serve)
    st = ssub.add_parser("status", help="show a running store's state: journal, uploads, licence")
    st.add_argument("--data", type=Path, default=Path("kassa-data"))
    st.add_argument("--url", default=None, help="the gateway (default: from DATA/server.json)")
    st.set_defaults(func=_status)
    rb = ssub.add_parser("rebuild-analytics",
                         help="rebuild the DuckDB analytics copy from the journal (server stopped)")
    rb.add_argument("--data", type=Path, default=Path("kassa-data"))
    rb.set_defaults(func=_rebuild_analytics)
    ln = ssub.add_parser("link", help="point the store at HQ's cloud (uploads, licence checks)")
    ln.add_argument("--data", type=Path, default=Path("kassa-data"))
    ln.add_argument("--cloud", required=True, help="HQ cloud URL, e.g. https://hq.example:8700")
    ln.add_argument("--secret", required=True,
                    help="the store's upload secret (printed by `kassa cloud store add`)")
    ln.set_defaults(func=_link)
    try:
        from kassa_cli.licence import register_store
    except ModuleNotFoundError:
        pass
    else:
        register_store(ssub)


def _serve(args: argparse.Namespace) -> int:
    from actors.server import serve
    return serve(args.data, args.host, args.port)


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
        url = f"http://{info['host']}:{info['port']}"
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=10) as r:
            h = json.loads(r.read())
    except OSError as exc:
        print(f"store at {url} does not answer: {exc}")
        return 1
    up = h.get("upload", {})
    lic = h.get("licence", {})
    print(f"store {h['store']} ({h.get('name', '')}) at {url}")
    print(f"  journal seq      {h['seq']}   orders {h['orders']}   open baskets {h['open_baskets']}")
    if up.get("configured"):
        age = up.get("oldest_unsent_age_s")
        print(f"  upload backlog   {up.get('backlog_events', 0)} events"
              + (f", oldest unsent {age:.0f} s old" if age else ""))
        rate, eta = up.get("rate_events_s"), up.get("eta_s")
        if rate:
            line = up.get("line_kbit_s")
            print(f"  sending          {rate:.0f} events/s"
                  + (f" over {line} kbit/s" if line else "")
                  + (f", about {_fmt_s(eta)} left" if eta else ""))
        fl = up.get("in_flight")
        if fl:
            print(f"  in flight        seq {fl['first']}-{fl['last']} ({fl['events']} events, "
                  f"{fl.get('sent_bytes', 0) / 1000:.1f} of {fl['bytes'] / 1000:.1f} KB sent)")
        if up.get("yielding"):
            print("  line             yielding to a licence check or download")
        print(f"  bytes sent       {up.get('wire_bytes_up', 0) / 1e6:.2f} MB up, "
              f"{up.get('wire_bytes_down', 0) / 1e6:.2f} MB down (failed attempts included)")
        last = up.get("last_success_us")
        kind = f" ({up['last_error_kind']})" if up.get("last_error_kind") else ""
        print(f"  last upload      {_fmt_us(last) if last else 'never'}"
              + (f"   last error{kind}: {up['last_error']}" if up.get("last_error") else ""))
    else:
        print("  upload           not linked to a cloud (kassa store link)")
    print(f"  licence          {lic.get('code')}: {lic.get('message')}"
          f" (grace days left: {lic.get('grace_days_left')})")
    print(f"  disk free        {h['disk_free_bytes'] / 1e9:.1f} GB")
    return 0


def _fmt_s(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 5400 else f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def _fmt_us(us: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _rebuild_analytics(args: argparse.Namespace) -> int:
    from actors.journal import Journal
    from actors.server import load_config
    from analytics.store import StoreAnalytics

    cfg = load_config(args.data)
    journal = Journal(args.data / "journal.sqlite")
    try:
        with StoreAnalytics(str(args.data / "analytics.duckdb"), cfg.zone,
                            store_id=cfg.store_id) as store:
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


def _link(args: argparse.Namespace) -> int:
    import orjson

    from actors.files import atomic_write
    from actors.server import load_config

    cfg = load_config(args.data)
    try:
        bytes.fromhex(args.secret)
    except ValueError:
        print("the secret is the hex string printed by `kassa cloud store add`")
        return 2
    doc = cfg.to_dict()
    doc["cloud_url"] = args.cloud.rstrip("/")
    atomic_write(args.data / "store.json", orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    atomic_write(args.data / "cloud_secret", args.secret.encode())
    print(f"store {cfg.store_id} now uploads to {doc['cloud_url']} (restart the server)")
    return 0
