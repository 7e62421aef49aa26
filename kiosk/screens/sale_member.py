"""The sale's member on the sale screen (``MemberOnSale``, a part of ``kiosk.screens.sale``).

A member card scanned on the sale screen (a code that is no product) or a member found on the pay
screen (Wallet or Points) names the sale: the till sends ``{"op": "member", "args": {member, tier,
discount_bp}}`` with the tier the store's look-up answered, and the basket is priced with the
tier's discount from then on (the ledger refuses a discount that is not the member's tier:
``domain.member_discount``). The member's name, tier and the discount are shown under the totals,
and the customer display shows the discount as a line of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from urllib.parse import quote

from kiosk import i18n
from kiosk.i18n import _, shown
from kiosk.screens.sale_actions import BasketActions
from kiosk.screens.sale_coupon import coupon_scan
from kiosk.widgets import FitLabel

__all__ = ["MemberOnSale", "member_line"]


def member_line(name: str, tier: str, bp: int, discount: int, currency: str) -> str:
    """ "Member: Ann · Gold 5% off −5.00" (no tier: the name alone)."""
    text = _("Member: {name}").format(name=name)
    if tier:
        text += " · " + tier
    if bp:
        pct = i18n.number(Decimal(bp).scaleb(-2))
        text += " · " + _("{percent}% off").format(percent=pct)
        text += " · " + _("saves {amount}").format(amount=i18n.money(discount, currency))
    return text


class MemberOnSale(BasketActions):
    member_label: FitLabel
    member_names: dict[str, str]
    scan_failed: Callable[[str, BaseException], None]

    def try_member(self, code: str, exc: BaseException) -> bool:
        """A scan that is no product may be a member's card: name the sale, else say the scan
        was refused (``exc``)."""
        if getattr(exc, "code", "") != "product.not_found":
            return False
        api = self.app.api

        def fetch() -> tuple[dict, dict]:
            m = api.member(code)
            return m, api.get(f"/v1/members/{quote(str(m['member']), safe='')}/loyalty")

        def ok(res: tuple[dict, dict]) -> None:
            if self.winfo_exists():
                self.name_sale(*res)

        def no_member(_e: BaseException) -> None:  # then maybe a coupon's code; else refused
            if self.winfo_exists() and not coupon_scan(self, code, exc):
                self.scan_failed(code, exc)

        self.app.worker.read(fetch, ok, no_member, "member")
        return True

    def name_sale(self, member: dict, loyalty: dict | None = None) -> None:
        """Name the open sale's member with their tier's discount (the loyalty look-up is made
        first when the caller has none)."""
        mid = str(member.get("member") or "")
        if not mid:
            return
        self.member_names[mid] = str(member.get("name") or mid)
        if loyalty is None:
            path = f"/v1/members/{quote(mid, safe='')}/loyalty"

            def ok(lo: dict) -> None:
                if self.winfo_exists():
                    self.name_sale(member, lo)

            self.app.worker.read(lambda: self.app.api.get(path), ok, self.app.fail, "loyalty")
            return
        tier = loyalty.get("tier") or {}
        args = {"member": mid, "tier": tier.get("name", ""), "discount_bp": 0}
        args["discount_bp"] = int(tier.get("discount_bp") or 0)
        now = self.view.get("member") or {}
        if all(now.get(k) == v for k, v in args.items()):
            self.show_member()
            return  # named already, with this discount
        self.command("member", args)

    def render(self) -> None:
        super().render()
        self.show_member()

    def show_member(self) -> None:
        label = getattr(self, "member_label", None)
        if label is None:
            return
        m = self.view.get("member") or {}
        mid = str(m.get("member") or "")
        text = ""
        if mid:
            name = self.member_names.get(mid, mid)
            bp, disc = int(m.get("discount_bp") or 0), int(self.view.get("member_discount") or 0)
            text = member_line(name, str(m.get("tier") or ""), bp, disc, self.app.currency)
        label.configure(text=shown(text))
