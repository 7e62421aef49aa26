"""One product at HQ: its names in every language, brand, specification, category, tags, tax class,
unit, price and barcodes. Barcodes are checked (``domain.catalogue.validate_barcode``) and the
price read exactly (``parse_price``) before anything is sent; each mistake is shown next to its
field. Saved with ``PUT /v1/hq/products/{sku}``; fields this form does not know ride along as
they came from HQ."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import ttkbootstrap as ttk

from admin.hqclient import path_of
from admin.screens.base import Screen
from domain.catalogue import validate_barcode
from domain.errors import KassaError
from domain.money import precision
from kiosk.errors import error_text
from kiosk.i18n import LANG_NAMES, LANGS, N_, T, _, shown
from kiosk.rtl_entry import RtlEntry

__all__ = ["ProductEditScreen", "parse_price", "check_form"]

# HQ's product form (cloud.master_rules.FIELDS): what is sent back; HQ's own keys (source,
# version, updated_us, ...) stay out
FORM = (
    "sku", "names", "price", "brand", "spec", "category", "tags", "tax_class", "unit", "plu",
    "barcodes", "image", "sellable", "favourite", "low_stock", "merge",
)  # fmt: skip
TEXT_FIELDS = (
    ("brand", N_("Brand")),
    ("spec", N_("Specification")),
    ("category", N_("Category")),
    ("tax_class", N_("Tax class")),
    ("plu", N_("PLU")),
)
UNITS = {"each": N_("by the piece"), "kg": N_("by weight (kg)")}  # a product's unit, in words


def parse_price(text: str, currency: str) -> int:
    """``"12.50"`` → 1250 in minor units (exact; at most the currency's decimals; not negative)."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(text) from None
    digits = precision(currency)
    minor = value.scaleb(digits)
    if not value.is_finite() or value < 0 or minor != minor.to_integral_value():
        raise ValueError(text)
    if minor >= 10**12:
        raise ValueError(text)
    return int(minor)


def price_text(minor: Any, currency: str) -> str:
    if minor is None or minor == "":
        return ""
    return str(Decimal(int(minor)).scaleb(-precision(currency)))


def check_form(values: dict[str, Any], currency: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The product dict to send and the mistakes per field (untranslated keys → translated text)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    sku = str(values.get("sku") or "").strip()
    if not sku:
        errors["sku"] = _("A product needs a SKU.")
    out["sku"] = sku
    names = {k: v.strip() for k, v in (values.get("names") or {}).items() if v.strip()}
    if not names:
        errors["names"] = _("Give the product a name in at least one language.")
    out["names"] = names
    try:
        out["price"] = parse_price(str(values.get("price") or ""), currency)
    except ValueError:
        errors["price"] = _("A price like 12.50, not negative.")
    codes = [c for c in str(values.get("barcodes") or "").replace(",", " ").split() if c]
    bad = []
    for code in codes:
        try:
            validate_barcode(code)
        except KassaError:
            bad.append(code)
    if bad:
        errors["barcodes"] = _("Not a valid EAN/UPC barcode: {codes}").format(codes=", ".join(bad))
    out["barcodes"] = codes
    tags = [t.strip() for t in str(values.get("tags") or "").split(",") if t.strip()]
    out["tags"] = tags
    for key, _title in TEXT_FIELDS:
        out[key] = str(values.get(key) or "").strip()
    out["tax_class"] = out["tax_class"] or "std"
    out["unit"] = values.get("unit") or "each"
    out["sellable"] = bool(values.get("sellable", True))
    return out, errors


class ProductEditScreen(Screen):
    def __init__(
        self, parent: Any, app: Any, sku: str = "", back: tuple[str, int] = ("", 0)
    ) -> None:
        super().__init__(parent, app, N_("Product") if sku else N_("New product"))
        self.sku, self.back_to = sku, back
        self.product: dict[str, Any] = {}
        bar = self.toolbar()  # above the form: always in view, even at 1024x768
        self.save_button = self.action(bar, N_("Save"), "products.edit", self.save, "success")
        ttk.Button(
            bar,
            text=T("Back to products"),
            bootstyle="secondary",
            takefocus=False,
            command=self.leave,
        ).pack(side=app.side("left"), padx=6)
        self.form_error = ttk.Label(bar, text="", bootstyle="danger")
        self.form_error.pack(side=app.side("left"), padx=6)
        # two columns: what identifies and prices the product (with its mistakes under each
        # field), and the rest
        cols = ttk.Frame(self)
        cols.pack(fill="both", expand=True)
        form, more = ttk.Frame(cols), ttk.Frame(cols)
        form.pack(side=app.side("left"), fill="both", expand=True, padx=(0, 12))
        more.pack(side=app.side("left"), fill="both", expand=True)
        form.columnconfigure(self.entry_col, weight=1)
        more.columnconfigure(self.entry_col, weight=1)
        self.entries: dict[str, Any] = {}
        self.errors: dict[str, ttk.Label] = {}
        self.entries["sku"] = self.field(form, N_("SKU"), 0, 20)
        self._error_at(form, "sku", 1)
        row = 2
        for lang in LANGS:
            self.label(form, shown(_("Name ({language})").format(language=LANG_NAMES[lang])), row)
            e = RtlEntry(form, width=24)
            e.grid(row=row, column=self.entry_col, sticky="we", pady=2)
            self.entries[f"name_{lang}"] = e
            row += 1
        self._error_at(form, "names", row)
        self.entries["price"] = self.field(form, N_("Price"), row + 1, 12)
        self._error_at(form, "price", row + 2)
        self.entries["barcodes"] = self.field(form, N_("Barcodes"), row + 3, 20)
        self._error_at(form, "barcodes", row + 4)
        row = 0
        for key, title in TEXT_FIELDS:
            self.entries[key] = self.field(more, title, row, 20)
            row += 1
        self.entries["tags"] = self.field(more, N_("Tags (comma separated)"), row, 20)
        row += 1
        self.label(more, T("Unit"), row)
        self.unit = ttk.Combobox(
            more, values=[T(w) for w in UNITS.values()], state="readonly", width=14
        )
        each = UNITS["each"]
        self.unit.set(T(each))
        self.unit.grid(row=row, column=self.entry_col, sticky=app.text_anchor, pady=2)
        self.sellable = ttk.BooleanVar(value=True)
        ttk.Checkbutton(more, text=T("Sellable"), variable=self.sellable, takefocus=False).grid(
            row=row + 1, column=self.entry_col, sticky=app.text_anchor, pady=4
        )
        if sku:
            self.entries["sku"].insert(0, sku)
            self.entries["sku"].configure(state="readonly")
            self.app.call(
                lambda: self.app.api.get(path_of("/v1/hq/products/{sku}", sku=sku)),
                self.fill,
                label="product",
            )

    def _error_at(self, form: Any, key: str, row: int) -> None:
        """A field's mistake, in the row under it (taking no room while there is none)."""
        label = ttk.Label(form, text="", bootstyle="danger", wraplength=360)
        label.grid(row=row, column=self.entry_col, sticky=self.app.text_anchor)
        label.grid_remove()
        self.errors[key] = label

    def fill(self, product: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        product = product.get("product", product) if isinstance(product, dict) else {}
        self.product = dict(product)
        names = product.get("names") or {}
        for lang in LANGS:
            e = self.entries[f"name_{lang}"]
            e.delete(0, "end")
            e.insert(0, names.get(lang, ""))
        self._set("price", price_text(product.get("price"), self.app.currency))
        self._set("barcodes", " ".join(product.get("barcodes") or []))
        for key, _title in TEXT_FIELDS:
            self._set(key, str(product.get(key) or ""))
        self._set("tags", ", ".join(product.get("tags") or []))
        unit = UNITS.get(str(product.get("unit") or ""), UNITS["each"])
        self.unit.set(T(unit))
        self.sellable.set(bool(product.get("sellable", True)))

    def _set(self, key: str, text: str) -> None:
        e = self.entries[key]
        e.delete(0, "end")
        e.insert(0, text)

    def values(self) -> dict[str, Any]:
        v: dict[str, Any] = {k: e.get() for k, e in self.entries.items()}
        v["names"] = {lang: v.pop(f"name_{lang}") for lang in LANGS}
        shown_units = {T(w): key for key, w in UNITS.items()}
        v["unit"] = shown_units.get(self.unit.get(), "each")
        v["sellable"] = self.sellable.get()
        return v

    def save(self) -> None:
        product, errors = check_form(self.values(), self.app.currency)
        for key, label in self.errors.items():
            label.configure(text=shown(errors.get(key, "")))
            if key in errors:
                label.grid()
            else:
                label.grid_remove()
        if errors:
            self.form_error.configure(text=T("Correct the fields marked in red."))
            self.app.last_error = " ".join(errors.values())
            return
        self.form_error.configure(text="")
        body = {k: v for k, v in {**self.product, **product}.items() if k in FORM}
        self.app.call(
            lambda: self.app.api.put(path_of("/v1/hq/products/{sku}", sku=body["sku"]), body),
            self.saved,
            self.refused,
            label="save product",
        )

    def saved(self, res: Any) -> None:
        version = res.get("version", "") if isinstance(res, dict) else ""
        if self.winfo_exists():
            self.leave()  # opening the list clears the status line: say it after
        self.say(_("Saved at HQ (version {version}).").format(version=version))

    def refused(self, exc: BaseException) -> None:
        text = error_text(exc)
        for row in (getattr(exc, "details", {}) or {}).get("rows") or []:
            text += f" {row.get('message', '')}"
        self.app.notify(text)
        if self.winfo_exists():
            self.form_error.configure(text=shown(text))

    def leave(self) -> None:
        q, offset = self.back_to
        self.app.open("products", q=q, offset=offset)
