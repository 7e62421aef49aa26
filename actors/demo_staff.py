"""The demo shop's staff (``kassa demo``): accounts with known PINs, and T1's day opened."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from actors.staff import load_pin_key, sealed_pin

DEMO_STAFF = (
    ("c1", "Cashier One", "cashier", "en", "1111"),
    ("c2", "收银员二", "cashier", "zh_CN", "2222"),
    ("c3", "แคชเชียร์สาม", "cashier", "th", "3333"),
    ("a1", "After-sales Amal", "aftersales", "ar", "4444"),
    ("m1", "Manager Mia", "manager", "en", "9999"),
    ("admin", "Administrator", "admin", "en", "0000"),
)


async def seed_demo_staff(
    handles: Any, open_till: str | None = "T1", float_: int = 200_000
) -> dict:
    """Create the demo staff accounts (fixed command ids: a second run changes nothing) and open
    ``open_till``'s business day when the licence allows it. Used by ``kassa demo``."""
    import asyncio
    import uuid

    from actors.ledger import Request, command_hash
    from domain.day import DayOpened, business_day_of
    from domain.staff import StaffCreated

    ns = uuid.UUID("0d4f6a1e-2b7c-4c55-8e3a-9a1f5b6c7d80")
    state = await handles.ledger.staff_state()
    loop = asyncio.get_running_loop()
    key = load_pin_key(Path(handles.data_dir))
    made = 0
    for staff, name, role, lang, pin in DEMO_STAFF:
        if staff in state["accounts"]:
            continue
        pin_hash = await loop.run_in_executor(None, sealed_pin, key, staff, pin)
        await handles.ledger.submit(
            Request(
                str(uuid.uuid5(ns, f"staff:{staff}")),
                command_hash("demo.staff", staff),
                StaffCreated(staff, name, role, lang, pin_hash),
                "demo",
                "",
                "127.0.0.1",
            )
        )
        made += 1
    opened = False
    if open_till and not state["days"].get(open_till, {}).get("open"):
        lic = await handles.licence.may_open_day()
        if lic.get("ok"):
            day = business_day_of(time.time_ns() // 1000, handles.config.zone)
            try:
                await handles.ledger.submit(
                    Request(
                        str(uuid.uuid5(ns, f"day:{open_till}:{day}")),
                        command_hash("demo.day", day),
                        DayOpened(open_till, day, float_),
                        "m1",
                        open_till,
                        "127.0.0.1",
                    )
                )
                opened = True
            except Exception as exc:
                import logging

                logging.getLogger(__name__).warning("demo: day not opened: %s", exc)
    return {"staff_created": made, "day_opened": opened}
