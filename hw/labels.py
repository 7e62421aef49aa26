"""Receipt wording in each shipped language.

The till's gettext catalogues are the home of user-facing text; a receipt, though, is printed in the
*receipt's* language (the cashier's, or the customer's), often from a background thread, so the few
fixed words on paper live here as a small table. ``label(lang, key)`` falls back to English.
A translator callable can be passed to ``build_receipt`` to override these (e.g. a gettext
catalogue).
"""

from __future__ import annotations

__all__ = ["LABELS", "label", "base_lang", "locale_of", "is_rtl"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "order": "Order",
        "till": "Till",
        "staff": "Cashier",
        "date": "Date",
        "subtotal": "Subtotal",
        "discount": "Discount",
        "order_discount": "Order discount",
        "tax": "Tax",
        "tax_incl": "incl. tax",
        "total": "TOTAL",
        "rounding": "Rounding",
        "cash": "Cash",
        "card": "Card",
        "wallet": "Wallet",
        "points": "Points",
        "coupon": "Coupon",
        "qr": "QR (PromptPay)",
        "exchange": "Exchange credit",
        "tendered": "Tendered",
        "change": "Change",
        "member": "Member",
        "member_discount": "Member discount",
        "balance": "Wallet balance",
        "refund": "REFUND",
        "refund_of": "Refund of order",
        "refunded": "Refunded",
        "reason": "Reason",
        "copy": "COPY",
        "thanks": "Thank you!",
        "ref": "Ref",
        "items": "Items",
        "tax_id": "Tax ID",
        "refund_number": "Refund no.",
    },
    "zh": {
        "order": "订单号",
        "till": "收银台",
        "staff": "收银员",
        "date": "日期",
        "subtotal": "小计",
        "discount": "折扣",
        "order_discount": "整单折扣",
        "tax": "税额",
        "tax_incl": "含税",
        "total": "合计",
        "rounding": "舍入",
        "cash": "现金",
        "card": "银行卡",
        "wallet": "会员钱包",
        "points": "积分",
        "coupon": "优惠券",
        "qr": "二维码 (PromptPay)",
        "exchange": "换货抵扣",
        "tendered": "实收",
        "change": "找零",
        "member": "会员",
        "member_discount": "会员折扣",
        "balance": "钱包余额",
        "refund": "退款",
        "refund_of": "原订单",
        "refunded": "退款金额",
        "reason": "原因",
        "copy": "副本",
        "thanks": "谢谢惠顾！",
        "ref": "参考号",
        "items": "件数",
        "tax_id": "税号",
        "refund_number": "退款单号",
    },
    "th": {
        "order": "เลขที่ใบเสร็จ",
        "till": "เครื่อง",
        "staff": "พนักงาน",
        "date": "วันที่",
        "subtotal": "ยอดรวมย่อย",
        "discount": "ส่วนลด",
        "order_discount": "ส่วนลดท้ายบิล",
        "tax": "ภาษีมูลค่าเพิ่ม",
        "tax_incl": "รวมภาษี",
        "total": "ยอดรวมทั้งสิ้น",
        "rounding": "ปัดเศษ",
        "cash": "เงินสด",
        "card": "บัตร",
        "wallet": "กระเป๋าเงินสมาชิก",
        "points": "แต้ม",
        "coupon": "คูปอง",
        "qr": "QR (พร้อมเพย์)",
        "exchange": "เครดิตจากการเปลี่ยนสินค้า",
        "tendered": "รับเงิน",
        "change": "เงินทอน",
        "member": "สมาชิก",
        "member_discount": "ส่วนลดสมาชิก",
        "balance": "ยอดเงินคงเหลือ",
        "refund": "คืนเงิน",
        "refund_of": "ใบเสร็จเดิม",
        "refunded": "ยอดคืนเงิน",
        "reason": "เหตุผล",
        "copy": "สำเนา",
        "thanks": "ขอบคุณที่ใช้บริการ",
        "ref": "อ้างอิง",
        "items": "จำนวนรายการ",
        "tax_id": "เลขประจำตัวผู้เสียภาษี",
        "refund_number": "เลขที่ใบคืนเงิน",
    },
    "ar": {
        "order": "رقم الطلب",
        "till": "نقطة البيع",
        "staff": "أمين الصندوق",
        "date": "التاريخ",
        "subtotal": "المجموع الفرعي",
        "discount": "خصم",
        "order_discount": "خصم الطلب",
        "tax": "الضريبة",
        "tax_incl": "شامل الضريبة",
        "total": "الإجمالي",
        "rounding": "تقريب",
        "cash": "نقدًا",
        "card": "بطاقة",
        "wallet": "المحفظة",
        "points": "النقاط",
        "coupon": "قسيمة",
        "qr": "رمز QR (PromptPay)",
        "exchange": "رصيد الاستبدال",
        "tendered": "المبلغ المدفوع",
        "change": "الباقي",
        "member": "العضو",
        "member_discount": "خصم العضو",
        "balance": "رصيد المحفظة",
        "refund": "استرداد",
        "refund_of": "الطلب الأصلي",
        "refunded": "المبلغ المسترد",
        "reason": "السبب",
        "copy": "نسخة",
        "thanks": "شكرًا لتسوقكم",
        "ref": "مرجع",
        "items": "عدد الأصناف",
        "tax_id": "الرقم الضريبي",
        "refund_number": "رقم الاسترداد",
    },
}

_LOCALES = {"en": "en", "zh": "zh_Hans_CN", "th": "th_TH", "ar": "ar"}
_RTL = {"ar", "he", "fa", "ur"}


def base_lang(lang: str) -> str:
    """``"zh_CN"``, ``"zh-Hans"`` -> ``"zh"``."""
    return (lang or "en").replace("-", "_").split("_")[0].lower()


def locale_of(lang: str) -> str:
    """The Babel locale used for money and numbers on a receipt in ``lang``."""
    lang = (lang or "en").replace("-", "_")
    return _LOCALES.get(lang, lang if "_" in lang else _LOCALES.get(base_lang(lang), lang))


def is_rtl(lang: str) -> bool:
    return base_lang(lang) in _RTL


def label(lang: str, key: str) -> str:
    table = LABELS.get(base_lang(lang)) or LABELS["en"]
    return table.get(key) or LABELS["en"][key]
