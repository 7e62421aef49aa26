"""The PromptPay QR payload (domain.promptpay) against payloads published in the open (EMVCo
merchant-presented QR, PromptPay AID A000000677010111, CRC-16/CCITT-FALSE in tag 63)."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.promptpay import AID, check_payload, crc16_ccitt, parse_tlv, payload

# published examples: receiver, amount (satang, None: static), payload
PUBLISHED = [
    (
        "0812345678",
        None,
        "00020101021129370016A000000677010111011300668123456785802TH530376463045D82",
    ),
    (
        "0812345678",
        10000,
        "00020101021229370016A000000677010111011300668123456785802TH53037645406100.006304BB8A",
    ),
    (
        "0812345678",
        15000,
        "00020101021229370016A000000677010111011300668123456785802TH53037645406150.006304CC46",
    ),
    (
        "1101700207030",
        2050,
        "00020101021229370016A000000677010111021311017002070305802TH5303764540520.506304E68D",
    ),
    (
        "123456789012345",
        None,
        "00020101021129390016A00000067701011103151234567890123455802TH5303764630473AF",
    ),
    (
        "0000000000",
        None,
        "00020101021129370016A000000677010111011300660000000005802TH530376463048956",
    ),
]


def test_crc16_ccitt_false_check_value():
    assert crc16_ccitt(b"123456789") == 0x29B1  # the catalogued check value of CRC-16/CCITT-FALSE


@pytest.mark.parametrize(("merchant", "amount", "expected"), PUBLISHED)
def test_payloads_equal_the_published_examples(merchant, amount, expected):
    assert payload(merchant, amount) == expected


def test_a_dynamic_payload_reads_back_field_by_field():
    text = payload("081-234-5678", 123456, ref="B-77 x")
    fields = check_payload(text)
    assert fields["00"] == "01" and fields["01"] == "12"
    assert dict(parse_tlv(fields["29"])) == {"00": AID, "01": "0066812345678"}
    assert (fields["53"], fields["54"], fields["58"]) == ("764", "1234.56", "TH")
    assert dict(parse_tlv(fields["62"])) == {"05": "B77x"}
    assert text.endswith("6304" + f"{crc16_ccitt(text[:-4].encode()):04X}")


def test_a_changed_payload_fails_its_crc():
    text = payload("0812345678", 10000)
    with pytest.raises(InvalidInput):
        check_payload(text.replace("100.00", "900.00"))


@pytest.mark.parametrize(
    ("merchant", "id_type"),
    [("12345", "auto"), ("08123", "phone"), ("12ab", "auto"), ("1" * 13, "ewallet")],
)
def test_ids_promptpay_does_not_take_are_refused(merchant, id_type):
    with pytest.raises(InvalidInput):
        payload(merchant, 100, id_type)


@pytest.mark.parametrize("amount", [0, -1, 10**13])
def test_amounts_out_of_range_are_refused(amount):
    with pytest.raises(InvalidInput):
        payload("0812345678", amount)
