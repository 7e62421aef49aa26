"""The demo's HQ: master data holding the demo shop's products, its profile, a first published
catalogue (which the demo shop then pulls), and an HQ account for the admin app.

The account is ``hq`` with the password ``DEMO_PASSWORD``, printed by ``kassa demo``: the demo
cloud listens on loopback only, and this is a demo. A real HQ adds its first admin with
``kassa admin user add --role admin NAME``.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["prepare_demo_hq", "seed_demo_hq", "DEMO_USER", "DEMO_PASSWORD"]

DEMO_USER = "hq"
DEMO_PASSWORD = "kassa-demo-hq"


def prepare_demo_hq(hq: Path) -> None:
    """What HQ needs before its cloud starts (so it starts without warning of them): its licence
    key and the demo's HQ account."""
    from cloud.hqusers import HqUsers
    from cloud.licence import LicenceAuthority
    from domain.ports import SystemClock

    quiet = logging.getLogger("cloud.licence")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its "created a key" note is for a real HQ
    try:
        LicenceAuthority(hq).ensure_key()
    finally:
        quiet.setLevel(level)
    users = HqUsers(hq, SystemClock())
    try:
        if not users.users():
            users.add(DEMO_USER, "admin", DEMO_PASSWORD, "demo")
    finally:
        users.close()


def seed_demo_hq(hq: Path, store: str, name: str, zone: str, currency: str, products: int) -> str:
    """Seed the demo HQ once (a second run changes nothing); returns what was done, in words."""
    from cloud.hqusers import HqUsers
    from cloud.licence import LicenceAuthority
    from cloud.master import MasterData
    from cloud.publish import Publisher
    from domain.ports import SystemClock
    from kassa_cli.sample import sample_products

    done = []
    clock = SystemClock()
    users = HqUsers(hq, clock)
    try:
        if not users.users():
            users.add(DEMO_USER, "admin", DEMO_PASSWORD, "demo")
        done.append(f"HQ account {DEMO_USER}")
    finally:
        users.close()
    master = MasterData(hq, clock)
    try:
        if master.store_profile(store) is None:
            profile = {"id": store, "name": name, "zone": zone, "currency": currency}
            master.put_store_profile(profile, "demo")
            done.append(f"profile of {store}")
        if not master.products(limit=1)[1]:
            master.upsert_products(sample_products(products), "demo")
            done.append(f"{products} products")
        publisher = Publisher(hq, master, LicenceAuthority(hq), clock)
        try:
            if not publisher.publications(limit=1):
                version = publisher.publish([store], "demo", "the demo shop's catalogue")
                done.append(f"catalogue version {version} published to {store}")
        finally:
            publisher.close()
    finally:
        master.close()
    return ", ".join(done) or "already seeded"
