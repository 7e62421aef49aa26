"""Signed catalogue bundles for the store-side tests: a test HQ key (a real Ed25519 key, so the
files are really signed), products, and full / delta / setup bundles packed with
``domain.catalogue_bundle.pack`` exactly as HQ packs them."""

from __future__ import annotations

import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.catalogue_bundle import pack
from domain.licence import public_key_text

__all__ = ["TestHQ", "product", "tamper", "ean"]


def ean(n: int) -> str:
    """A valid EAN-13 barcode (prefix 885, the shop's own range)."""
    from domain.catalogue import ean_check_digit

    body = f"885{n:09d}"
    return body + str(ean_check_digit(body))


def product(sku: str, price: int, barcode: str = "", **extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "sku": sku,
        "names": {"en": f"Product {sku}", "th": f"สินค้า {sku}"},
        "price": price,
        "tax_class": "std",
        "category": "HQ",
        "barcodes": [barcode] if barcode else [],
        "brand": "HQ brand",  # HQ's extra keys ride along; the store ignores them
    }
    p.update(extra)
    return p


class TestHQ:
    """HQ's signing key and what it would publish."""

    __test__ = False

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()

    @property
    def public(self) -> str:
        return public_key_text(self.key)

    def bundle(
        self,
        store: str,
        version: int,
        products: list[dict[str, Any]],
        *,
        base: int | None = None,
        removed: list[str] | None = None,
        prices: list[dict[str, Any]] | None = None,
        store_fields: list[str] | None = None,
        kind: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        payload: dict[str, Any] = {
            "products": products,
            "prices": prices or [],
            "store_fields": store_fields or ["favourite", "low_stock", "image"],
            "profile": None,
        }
        if removed is not None:
            payload["removed"] = removed
        payload.update(extra or {})
        return pack(
            self.key,
            kind=kind or ("delta" if base is not None else "full"),  # type: ignore[arg-type]
            store=store,
            version=version,
            base=base,
            payload=payload,
            created_us=time.time_ns() // 1000,
        )


def tamper(data: bytes) -> bytes:
    """The bundle with one byte of its compressed products changed (the signature stays)."""
    pos = len(data) - 20
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]
