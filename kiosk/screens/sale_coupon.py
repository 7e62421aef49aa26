"""A coupon scanned on the sale screen goes to the pay screen's coupon tender.

A coupon's QR holds its code (``hw.coupon_slip``). A code the catalogue does not know
(``product.not_found``, or not a barcode nor a SKU) may be a coupon: the till asks the store
(``GET /v1/coupons/{code}``) on the read lane, and

* a coupon with a basket open: the pay screen opens on its Coupon tender with the code looked
  up, its worth filled in (the cashier then takes the rest in cash or card);
* the pay screen already open: the code goes into its coupon field;
* an empty basket: "scan the items first" beside the scan field;
* no such coupon either: the scan's own refusal ("no product for …"), as before.

The product scan itself is untouched: the coupon look-up starts only after the catalogue said no,
so the hot path (scan → line) costs nothing more.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kiosk.i18n import _, shown

__all__ = ["coupon_scan", "looks_like_coupon", "COUPON_ERRORS"]

COUPON_ERRORS = ("product.not_found", "product.bad_barcode", "scan.bad_code")


def looks_like_coupon(code: str) -> bool:
    code = code.strip()
    return 3 <= len(code) <= 40 and code.isprintable() and " " not in code


def coupon_scan(screen: Any, code: str, exc: BaseException) -> bool:
    """The sale screen's refused scan of ``code``: True when it is being tried as a coupon (the
    refusal is then said only if it is no coupon either)."""
    if getattr(exc, "code", "") not in COUPON_ERRORS or not looks_like_coupon(code):
        return False
    key = code.strip().upper()
    api = screen.app.api

    def ok(c: dict[str, Any]) -> None:
        if screen.winfo_exists():
            to_coupon_tender(screen, c)

    def err(e: BaseException) -> None:
        if screen.winfo_exists():  # no coupon either: the scan's own refusal
            screen.scan_failed(code, exc if getattr(e, "code", "") == "coupon.not_found" else e)

    screen.app.worker.read(lambda: api.get(f"/v1/coupons/{quote(key, safe='')}"), ok, err, "coupon")
    return True


def to_coupon_tender(screen: Any, c: dict[str, Any]) -> None:
    dlg = screen.app.dialog
    if dlg is None:
        if not screen.view.get("lines"):
            text = _("Coupon {code}: scan the items first, then the coupon.")
            screen.scan_error.configure(text=shown(text.format(code=c.get("code", ""))))
            screen.bell()
            return
        screen.scan_error.configure(text="")
        screen.pay()
        dlg = screen.app.dialog
    if dlg is None or not hasattr(dlg, "coupon_code"):
        return  # nothing to pay (a fully discounted basket) or another dialog is open
    dlg.choose("coupon")
    dlg.coupon_code.delete(0, "end")
    dlg.coupon_code.insert(0, str(c.get("code", "")))
    dlg.find_coupon()
