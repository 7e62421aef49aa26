"""``kassa admin user|product|profile|audit ...``: HQ's master data and users, on ``--hq DIR``.

    kassa admin user add --role admin|catalogue|finance|support NAME   (password: stdin or asked)
    kassa admin user list | set NAME [--role R] [--active yes|no] [--password]
    kassa admin product list [--q TEXT] [--category PATH] [--limit N] [--json]
    kassa admin product show SKU [--history]
    kassa admin product import FILE.csv|FILE.xlsx [--dry-run]
    kassa admin product export FILE.csv|FILE.xlsx
    kassa admin product set SKU name_en=Cola price=1500 barcodes="8850999220017;..." ...
    kassa admin product delete SKU
    kassa admin product price SKU PRICE [--group G|*] [--from "YYYY-MM-DD HH:MM"]   (UTC)
    kassa admin product prices [--sku SKU] | price-delete ID
    kassa admin profile list | show STORE | set STORE name=.. zone=.. currency=.. group=.. \\
                        tills=.. open=08:00 close=22:00 tax=std:700,zero:0 locale=th_TH
    kassa admin profile fields [FIELD ...]        (set or show the fields a store may override)
    kassa admin profile subscribe|unsubscribe STORE FEED
    kassa admin audit [--who NAME] [--what PREFIX] [--since "YYYY-MM-DD HH:MM"]

These work on HQ's files directly (the cloud serving the same folder sees each change at once);
each change is audited as ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["register"]

US = 1_000_000


def _hq(args: argparse.Namespace) -> Path:
    from admin.cli import _hq_default

    return Path(args.hq) if args.hq else _hq_default()


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (a container)
        return "cli"


def _when(text: str) -> int:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()) * US
        except ValueError:
            pass
    raise argparse.ArgumentTypeError("a UTC time is YYYY-MM-DD HH:MM")


def _fmt(us: int) -> str:
    return datetime.fromtimestamp(us / US, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise SystemExit(f"error: {item!r} is not FIELD=VALUE")
        out[key.strip().lower()] = value.strip()
    return out


def _master(args: argparse.Namespace) -> Any:
    from cloud.master import MasterData

    return MasterData(_hq(args))


def _users(args: argparse.Namespace) -> Any:
    from cloud.hqusers import HqUsers

    return HqUsers(_hq(args), audit=_master(args).audit)


def _password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def _out(data: Any) -> None:
    print(json.dumps(data, indent=1, ensure_ascii=False))


# ---------------------------------------------------------------- users


def _user_add(args: argparse.Namespace) -> int:
    user = _users(args).add(args.name, args.role, _password(), _who())
    print(f"HQ user {user['user']} ({user['role']}) added")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    for u in _users(args).users():
        print(f"{u['user']:<24} {u['role']:<10} {'active' if u['active'] else 'inactive'}")
    return 0


def _user_set(args: argparse.Namespace) -> int:
    active = None if args.active is None else args.active == "yes"
    password = _password() if args.password else None
    u = _users(args).change(args.name, _who(), role=args.role, active=active, password=password)
    print(f"HQ user {u['user']}: {u['role']}, {'active' if u['active'] else 'inactive'}")
    return 0


# ---------------------------------------------------------------- products


def _product_list(args: argparse.Namespace) -> int:
    rows, total = _master(args).products(args.q, args.category, 0, args.limit)
    if args.json:
        _out({"products": rows, "total": total})
        return 0
    for p in rows:
        name = p["names"].get("en") or next(iter(p["names"].values()), "")
        print(f"{p['sku']:<20} {p['price']:>10} {p['category'][:24]:<24} {name}")
    print(f"{len(rows)} of {total} products")
    return 0


def _product_show(args: argparse.Namespace) -> int:
    md = _master(args)
    p = md.product(args.sku)
    if p is None:
        print(f"error: master.not_found: no product {args.sku}", file=sys.stderr)
        return 1
    _out({**p, "history": md.history(args.sku)} if args.history else p)
    return 0


def _report(exc: Any) -> int:
    print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
    for r in exc.details.get("rows", []):
        print(f"  row {r['row']}: {r['code']}: {r['message']}", file=sys.stderr)
    return 1


def _fmt_of(path: Path) -> str:
    return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"


def _product_import(args: argparse.Namespace) -> int:
    from cloud.master_io import import_file

    res = import_file(
        _master(args), args.file.read_bytes(), _fmt_of(args.file), _who(), args.dry_run
    )
    what = "would change" if args.dry_run else "changed"
    print(
        f"{args.file}: {what} {res['count']} product(s) ({res['added']} new, {res['unchanged']} "
        f"unchanged); version {res['version']}"
    )
    return 0


def _product_export(args: argparse.Namespace) -> int:
    from cloud.master_io import to_csv, to_xlsx

    rows, total = _master(args).products(limit=1 << 30)
    data = to_xlsx(rows) if _fmt_of(args.file) == "xlsx" else to_csv(rows)
    args.file.write_bytes(data)
    print(f"{total} products -> {args.file}")
    return 0


def _product_set(args: argparse.Namespace) -> int:
    """FIELD=VALUE pairs over the product's current values, read as a product file's row."""
    from cloud.master_io import export_rows, rows_from_table

    md = _master(args)
    old = md.product(args.sku)
    row = export_rows([old])[1][0] if old else {"sku": args.sku}
    row = {k: str(v) for k, v in row.items()}
    row.update(_pairs(args.fields))
    rows, bad = rows_from_table([row])
    if bad:
        print(f"error: {bad[0]['code']}: {bad[0]['message']}", file=sys.stderr)
        return 1
    rows[0].pop("row")
    version = md.put_product(rows[0], _who())
    print(f"{args.sku} saved; version {version}")
    return 0


def _product_delete(args: argparse.Namespace) -> int:
    print(f"{args.sku} deleted; version {_master(args).delete_product(args.sku, _who())}")
    return 0


def _price(args: argparse.Namespace) -> int:
    md = _master(args)
    at = args.start if args.start is not None else md.clock.now_us()
    change = {"sku": args.sku, "group": args.group, "price": args.price, "from_us": at}
    pid, version = md.add_price(change, _who())
    print(f"price {pid}: {args.sku} {args.price} for group {args.group} from {_fmt(at)}")
    return 0


def _prices(args: argparse.Namespace) -> int:
    for p in _master(args).prices(args.sku or ""):
        print(
            f"{p['id']:>6} {p['sku']:<20} {p['group']:<12} {p['price']:>10} "
            f"{_fmt(p['from_us'])}  by {p['created_by']}"
        )
    return 0


def _price_delete(args: argparse.Namespace) -> int:
    print(f"price {args.id} deleted; version {_master(args).delete_price(args.id, _who())}")
    return 0


# ---------------------------------------------------------------- profiles, audit


def _profile_list(args: argparse.Namespace) -> int:
    for p in _master(args).store_profiles():
        print(f"{p['id']:<10} {p['group']:<12} {p['currency']} {p['zone']:<20} {p['name']}")
    return 0


def _profile_show(args: argparse.Namespace) -> int:
    p = _master(args).store_profile(args.store)
    if p is None:
        print(f"error: master.store_not_found: no profile for {args.store}", file=sys.stderr)
        return 1
    _out(p)
    return 0


def _profile_set(args: argparse.Namespace) -> int:
    md = _master(args)
    p: dict[str, Any] = md.store_profile(args.store) or {"id": args.store}
    for key, value in _pairs(args.fields).items():
        if key in ("open", "close"):
            p.setdefault("opening_hours", {"open": "08:00", "close": "22:00"})[key] = value
        elif key == "tills":
            p[key] = int(value) if value.isdigit() else value
        elif key == "tax":
            classes = (part.partition(":") for part in value.split(",") if part)
            p["tax_classes"] = {c: int(r) if r.isdigit() else r for c, _, r in classes}
        else:
            p[key] = value
    print(f"profile {args.store} saved; version {md.put_store_profile(p, _who())}")
    return 0


def _profile_fields(args: argparse.Namespace) -> int:
    md = _master(args)
    if args.fields:
        md.put_store_fields(args.fields, _who())
    print(" ".join(md.store_fields()))
    return 0


def _subscribe(args: argparse.Namespace) -> int:
    md = _master(args)
    if args.profile_cmd == "subscribe":
        md.subscribe(args.store, args.feed, _who())
    else:
        md.unsubscribe(args.store, args.feed, _who())
    print(f"feed {args.feed}: {', '.join(md.subscribers(args.feed)) or 'no stores'}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    for a in _master(args).audit_log(args.since or 0, args.who or "", args.what or "", args.limit):
        detail = json.dumps(a["detail"], ensure_ascii=False)
        print(f"{_fmt(a['at_us'])} v{a['version']:<6} {a['who']:<16} {a['what']:<18} {detail}")
    return 0


# ---------------------------------------------------------------- parsers


def _wrap(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from domain.errors import KassaError

        try:
            return int(fn(args))
        except KassaError as exc:
            return _report(exc)

    return run


def _cmd(sub: Any, name: str, fn: Any, help: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help)
    p.add_argument("--hq", type=Path, default=None, help="HQ data folder")
    p.set_defaults(func=_wrap(fn))
    return p


def register(asub: argparse._SubParsersAction) -> None:
    from cloud.hqauth import ROLES

    u = asub.add_parser("user", help="HQ's users: add, list, change").add_subparsers(
        dest="user_cmd", metavar="ACTION"
    )
    p = _cmd(u, "add", _user_add, "add an HQ user (password from stdin, or asked)")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("name")
    _cmd(u, "list", _user_list, "list HQ's users")
    p = _cmd(u, "set", _user_set, "change a user's role, active flag or password")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--active", choices=("yes", "no"))
    p.add_argument("--password", action="store_true", help="set a new password (stdin/asked)")

    pr = asub.add_parser("product", help="HQ's products and prices").add_subparsers(
        dest="product_cmd", metavar="ACTION"
    )
    p = _cmd(pr, "list", _product_list, "list or search products")
    p.add_argument("--q", default="", help="SKU, barcode, name in any language, brand, tag")
    p.add_argument("--category", default="")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p = _cmd(pr, "show", _product_show, "show one product")
    p.add_argument("sku")
    p.add_argument("--history", action="store_true", help="with every version")
    p = _cmd(pr, "import", _product_import, "import a CSV or XLSX file (all or nothing)")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true", help="check only; change nothing")
    p = _cmd(pr, "export", _product_export, "export every product to CSV or XLSX")
    p.add_argument("file", type=Path)
    p = _cmd(pr, "set", _product_set, "add or change a product: FIELD=VALUE ...")
    p.add_argument("sku")
    p.add_argument("fields", nargs="+", help="e.g. name_en=Cola price=1500 category=Drinks")
    p = _cmd(pr, "delete", _product_delete, "delete a product")
    p.add_argument("sku")
    p = _cmd(pr, "price", _price, "schedule a price (minor units) for a store group")
    p.add_argument("sku")
    p.add_argument("price", type=int, help="minor units: 1250 for 12.50")
    p.add_argument("--group", default="*", help="store group (default *: every group)")
    p.add_argument("--from", dest="start", type=_when, help="UTC start (default: now)")
    p = _cmd(pr, "prices", _prices, "list scheduled prices")
    p.add_argument("--sku")
    p = _cmd(pr, "price-delete", _price_delete, "delete a scheduled price")
    p.add_argument("id", type=int)

    pf = asub.add_parser("profile", help="store profiles, store fields, feed subscriptions")
    ps = pf.add_subparsers(dest="profile_cmd", metavar="ACTION")
    _cmd(ps, "list", _profile_list, "list store profiles")
    p = _cmd(ps, "show", _profile_show, "show a store's profile")
    p.add_argument("store")
    p = _cmd(ps, "set", _profile_set, "create or change a store's profile: FIELD=VALUE ...")
    p.add_argument("store")
    p.add_argument("fields", nargs="+", help="name= zone= currency= group= tills= open= close=")
    p = _cmd(ps, "fields", _profile_fields, "show or set the fields a store may override")
    p.add_argument("fields", nargs="*", help="favourite low_stock image price")
    for name in ("subscribe", "unsubscribe"):
        p = _cmd(ps, name, _subscribe, f"{name} a store to a product feed")
        p.add_argument("store")
        p.add_argument("feed")

    p = _cmd(asub, "audit", _audit, "HQ's audit: who changed what, when")
    p.add_argument("--who")
    p.add_argument("--what", help="a prefix: product, price, user, profile, ...")
    p.add_argument("--since", type=_when, help="UTC, YYYY-MM-DD HH:MM")
    p.add_argument("--limit", type=int, default=200)
