"""A demo order and shop per language, for test prints and previews (``python -m hw``)."""

from __future__ import annotations

from typing import Any

from domain.money import div_round
from domain.store import StoreConfig

__all__ = ["demo_store", "demo_order", "demo_refund"]

_NAMES = [
    (
        {"en": "Fresh milk 1L", "zh": "鲜牛奶 1升", "th": "นมสด 1 ลิตร", "ar": "حليب طازج ١ لتر"},
        "each",
        2,
        4500,
    ),
    ({"en": "Apples", "zh": "红富士苹果", "th": "แอปเปิ้ล", "ar": "تفاح"}, "kg", 1234, 8000),
]

# name, address, tax id, currency, locale, zone
_STORES: dict[str, tuple[str, str, str, str, str, str]] = {
    "en": ("kassa demo shop", "12 Market Street", "0105559000123", "THB", "en", "Asia/Bangkok"),
    "zh": (
        "卡萨便利店",
        "上海市南京路 100 号",
        "91310000MA1K000000",
        "CNY",
        "zh_CN",
        "Asia/Shanghai",
    ),
    "th": ("ร้านคัสซ่า", "99 ถนนสุขุมวิท กรุงเทพฯ", "0105559000123", "THB", "th_TH", "Asia/Bangkok"),
    "ar": ("متجر كاسا", "شارع الملك فهد، الرياض", "300000000000003", "SAR", "ar", "Asia/Riyadh"),
}


def demo_store(lang: str = "en") -> StoreConfig:
    name, address, tax_id, currency, locale, zone = _STORES.get(lang.split("_")[0], _STORES["en"])
    return StoreConfig(
        name=name, address=address, tax_id=tax_id, currency=currency, locale=locale, zone=zone
    )


def demo_order(lang: str = "en", number: str = "DEMO-000001") -> dict[str, Any]:
    store = demo_store(lang)
    rate = 700
    lines: list[dict[str, Any]] = []
    for i, (names, unit, qty, price) in enumerate(_NAMES, 1):
        base = price * qty if unit == "each" else div_round(price * qty, 1000)
        tax = base - div_round(base * 10000, 10000 + rate)
        lines.append(
            {
                "line_id": f"L{i}",
                "sku": f"SKU{i}",
                "names": names,
                "category": "",
                "unit": unit,
                "qty": qty,
                "unit_price": price,
                "base": base,
                "discount": 0,
                "amount": base,
                "tax": tax,
                "total": base,
                "tax_class": "std",
                "rate_bp": rate,
            }
        )
    total = sum(ln["total"] for ln in lines)
    tendered = (total // 10000 + 1) * 10000
    return {
        "order_id": f"demo-{number}",
        "number": number,
        "currency": store.currency,
        "prices_include_tax": True,
        "lines": lines,
        "subtotal": total,
        "discount": 0,
        "tax": sum(ln["tax"] for ln in lines),
        "total": total,
        "rounding": 0,
        "payments": [
            {
                "kind": "cash",
                "amount": total,
                "tendered": tendered,
                "change": tendered - total,
                "reference": "",
                "last4": "",
                "member": "",
            }
        ],
        "change": tendered - total,
        "member": "",
    }


def demo_refund(order: dict[str, Any], number: str = "R-DEMO-000001") -> dict[str, Any]:
    """One piece of the order's first line given back in cash (an ``OrderRefunded`` as a dict)."""
    ln = order["lines"][0]
    amount = div_round(int(ln["total"]), int(ln["qty"])) if ln["unit"] == "each" else ln["total"]
    qty = 1 if ln["unit"] == "each" else ln["qty"]
    tax = div_round(int(ln["tax"]) * amount, max(1, int(ln["total"])))
    cash = {"kind": "cash", "amount": amount, "tendered": 0, "change": 0}
    return {
        "refund_id": f"demo-{number}",
        "number": number,
        "order_id": order["order_id"],
        "currency": order["currency"],
        "lines": [
            {"line_id": ln["line_id"], "sku": ln["sku"], "qty": qty, "amount": amount, "tax": tax}
        ],
        "tenders": [{**cash, "reference": "", "last4": "", "member": ""}],
        "amount": amount,
        "reason": "damaged",
        "ts": order.get("ts", 0),
    }
