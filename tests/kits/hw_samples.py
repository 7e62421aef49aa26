"""Sample orders shaped exactly like ``msgspec.to_builtins(OrderCompleted)`` (checked by
msgspec)."""

from __future__ import annotations

import msgspec

from domain.events import OrderCompleted, OrderRefunded
from domain.store import StoreConfig

NAMES = {
    "milk": {
        "en": "Fresh milk 1L",
        "zh": "鲜牛奶 1升",
        "th": "นมสด 1 ลิตร",
        "ar": "حليب طازج ١ لتر",
    },
    "apples": {"en": "Apples", "zh": "红富士苹果", "th": "แอปเปิ้ล", "ar": "تفاح"},
    "rice": {
        "en": "Jasmine rice 5kg",
        "zh": "泰国香米 5公斤",
        "th": "ข้าวหอมมะลิ 5 กก.",
        "ar": "أرز الياسمين ٥ كغ",
    },
}

STORES = {
    "en": StoreConfig(
        name="kassa demo shop", address="12 Market Street\nSpringfield", currency="THB", locale="en"
    ),
    "zh": StoreConfig(
        name="卡萨便利店",
        address="上海市南京路 100 号",
        currency="CNY",
        locale="zh_CN",
        zone="Asia/Shanghai",
        cash_increment=10,
    ),
    "th": StoreConfig(
        name="ร้านคัสซ่า สาขาสุขุมวิท", address="99 ถนนสุขุมวิท กรุงเทพฯ", currency="THB", locale="th_TH"
    ),
    "ar": StoreConfig(
        name="متجر كاسا",
        address="شارع الملك فهد، الرياض",
        currency="SAR",
        locale="ar",
        zone="Asia/Riyadh",
        tax_classes={"std": 1500, "zero": 0},
        cash_increment=1,
    ),
}


def _line(
    i: int, key: str, unit: str, qty: int, unit_price: int, base: int, discount: int, rate_bp: int
) -> dict:
    amount = base - discount
    net = (amount * 10000 * 2 + (10000 + rate_bp)) // (2 * (10000 + rate_bp))
    return {
        "line_id": f"L{i}",
        "sku": key.upper(),
        "names": NAMES[key],
        "category": "food",
        "unit": unit,
        "qty": qty,
        "unit_price": unit_price,
        "base": base,
        "discount": discount,
        "amount": amount,
        "tax": amount - net,
        "total": amount,
        "tax_class": "std",
        "rate_bp": rate_bp,
    }


def sale(lang: str = "en", *, cash: bool = True, member: str = "") -> dict:
    store = STORES[lang]
    rate = store.tax_classes["std"]
    lines = [
        _line(1, "milk", "each", 2, 4500, 9000, 500, rate),
        _line(2, "apples", "kg", 1234, 8000, 9872, 0, rate),
        _line(3, "rice", "each", 1, 21500, 21500, 0, rate),
    ]
    total = sum(ln["total"] for ln in lines)
    payments = []
    if member:
        payments.append(
            {
                "kind": "wallet",
                "amount": 5000,
                "tendered": 0,
                "change": 0,
                "reference": "",
                "last4": "",
                "member": member,
            }
        )
    rest = total - sum(p["amount"] for p in payments)
    if cash:
        due = rest + 3  # a cash-rounding of +3
        payments.append(
            {
                "kind": "cash",
                "amount": due,
                "tendered": 50000,
                "change": 50000 - due,
                "reference": "",
                "last4": "",
                "member": "",
            }
        )
        rounding, change = 3, 50000 - due
    else:
        payments.append(
            {
                "kind": "card",
                "amount": rest,
                "tendered": 0,
                "change": 0,
                "reference": "A1B2C3",
                "last4": "4242",
                "member": "",
            }
        )
        rounding, change = 0, 0
    order = {
        "order_id": f"00000000-0000-0000-0000-00000000000{len(lang)}",
        "number": "T1-000042",
        "currency": store.currency,
        "prices_include_tax": True,
        "lines": lines,
        "subtotal": sum(ln["base"] for ln in lines),
        "discount": 500,
        "tax": sum(ln["tax"] for ln in lines),
        "total": total,
        "rounding": rounding,
        "payments": payments,
        "change": change,
        "member": member,
    }
    return msgspec.to_builtins(msgspec.convert(order, OrderCompleted))


def refund(order: dict) -> dict:
    ln = order["lines"][0]
    r = {
        "refund_id": "R-000007",
        "order_id": order["order_id"],
        "currency": order["currency"],
        "lines": [
            {"line_id": ln["line_id"], "sku": ln["sku"], "qty": 1, "amount": 4250, "tax": 278}
        ],
        "tenders": [
            {
                "kind": "cash",
                "amount": 4250,
                "tendered": 0,
                "change": 0,
                "reference": "",
                "last4": "",
                "member": "",
            }
        ],
        "amount": 4250,
        "reason": "damaged",
    }
    return msgspec.to_builtins(msgspec.convert(r, OrderRefunded))
