"""Thai PromptPay QR: the EMVCo merchant-presented payload, built locally.

A payload is a run of tag-length-value fields (two-digit tag, two-digit length, value):

* ``00`` payload format "01"; ``01`` point of initiation: "11" static (no amount), "12" dynamic;
* ``29`` PromptPay credit transfer: sub-tag ``00`` the AID ``A000000677010111``, then the
  receiver: ``01`` a mobile number (13 characters: "0066" and the number without its leading 0),
  ``02`` a national or tax id (13 digits) or ``03`` an e-wallet id (15 digits);
* ``58`` country "TH"; ``53`` currency "764" (THB); ``54`` the amount in baht with 2 decimals;
* ``62`` (optional) additional data: ``05`` a reference label;
* ``63`` the CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of everything before it,
  "6304" included, as 4 upper-case hex digits.

The field order follows the payloads banks' apps and the public examples show (00, 01, 29, 58,
53, 54, 63); ``tests/unit/test_promptpay.py`` checks published example payloads.
"""

from __future__ import annotations

import re

from domain.errors import InvalidInput

__all__ = [
    "AID",
    "crc16_ccitt",
    "tlv",
    "parse_tlv",
    "receiver",
    "payload",
    "check_payload",
    "baht",
]

AID = "A000000677010111"
CURRENCY_THB = "764"
_MAX_SATANG = 9_999_999_999_99  # 13 characters at most in tag 54


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not 0 < len(value) <= 99:
        raise InvalidInput("payment.bad_setup", f"field {tag} cannot hold {len(value)} characters")
    return f"{tag}{len(value):02d}{value}"


def parse_tlv(text: str) -> list[tuple[str, str]]:
    """The fields of a payload (or of a template's value), in order."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        tag, size = text[i : i + 2], text[i + 2 : i + 4]
        if len(tag) != 2 or not size.isdigit() or i + 4 + int(size) > len(text):
            raise InvalidInput("payment.bad_setup", "not a tag-length-value payload")
        out.append((tag, text[i + 4 : i + 4 + int(size)]))
        i += 4 + int(size)
    return out


def receiver(merchant: str, id_type: str = "auto") -> tuple[str, str]:
    """The PromptPay sub-tag and value for a phone number, a tax / national id or an e-wallet id
    (``id_type``: "phone", "tax_id", "ewallet" or "auto": told by the number of digits)."""
    digits = re.sub(r"[\s\-+]", "", merchant)
    if not digits.isdigit():
        raise InvalidInput("payment.bad_setup", "a PromptPay id is digits")
    kind = id_type
    if kind == "auto":
        kind = {13: "tax_id", 15: "ewallet"}.get(len(digits), "phone")
    if kind == "phone":
        if len(digits) == 10 and digits.startswith("0"):
            return "01", "0066" + digits[1:]
        if len(digits) == 11 and digits.startswith("66"):
            return "01", "00" + digits
        raise InvalidInput("payment.bad_setup", "a PromptPay phone number is 0 and 9 digits")
    if kind == "tax_id" and len(digits) == 13:
        return "02", digits
    if kind == "ewallet" and len(digits) == 15:
        return "03", digits
    raise InvalidInput("payment.bad_setup", f"not a PromptPay {kind}")


def baht(satang: int) -> str:
    """An amount in satang as tag 54 writes it: baht with 2 decimals."""
    if not 0 < satang <= _MAX_SATANG:
        raise InvalidInput("payment.bad_amount", "a PromptPay amount is above zero")
    return f"{satang // 100}.{satang % 100:02d}"


def payload(merchant: str, amount: int | None = None, id_type: str = "auto", ref: str = "") -> str:
    """The payload for ``merchant`` (phone, tax id or e-wallet id); with ``amount`` (satang) a
    dynamic QR for exactly that amount, without it a static one; ``ref``: a reference label."""
    sub, value = receiver(merchant, id_type)
    out = tlv("00", "01")
    out += tlv("01", "12" if amount is not None else "11")
    out += tlv("29", tlv("00", AID) + tlv(sub, value))
    out += tlv("58", "TH") + tlv("53", CURRENCY_THB)
    if amount is not None:
        out += tlv("54", baht(amount))
    if ref:
        clean = re.sub(r"[^0-9A-Za-z]", "", ref)[:25]
        if clean:
            out += tlv("62", tlv("05", clean))
    out += "6304"
    return out + f"{crc16_ccitt(out.encode('ascii')):04X}"


def check_payload(text: str) -> dict[str, str]:
    """The top-level fields of a payload whose CRC is right (else ``payment.bad_setup``)."""
    if len(text) < 8 or text[-8:-4] != "6304":
        raise InvalidInput("payment.bad_setup", "a payload ends with its CRC (tag 63)")
    if f"{crc16_ccitt(text[:-4].encode('ascii')):04X}" != text[-4:].upper():
        raise InvalidInput("payment.bad_setup", "the payload's CRC is wrong")
    return dict(parse_tlv(text))
