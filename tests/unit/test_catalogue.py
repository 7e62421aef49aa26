"""Products and barcodes: EAN-13/EAN-8/UPC-A, embedded price/weight codes, search, look-ups."""

from __future__ import annotations

import pytest

from domain.catalogue import (
    CatalogueIndex,
    EmbeddedRules,
    Product,
    decode_scan,
    product_against,
    product_from_dict,
    validate_barcode,
)
from domain.errors import InvalidInput, NotFound
from tests.unit.conftest import BREAD_EAN8, MILK_EAN, SOAP_UPC, ean


def _wrong_check(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "code",
    ["4006381333931", "73513537", "036000291452", "9780306406157", MILK_EAN, BREAD_EAN8, SOAP_UPC],
)
def test_valid_barcodes_pass(code):
    assert validate_barcode(code) == code
    assert validate_barcode(f" {code} ") == code


@pytest.mark.parametrize(
    "code",
    [
        "4006381333932",
        "73513538",
        "036000291453",
        _wrong_check(MILK_EAN),
        _wrong_check(BREAD_EAN8),
        _wrong_check(SOAP_UPC),
    ],
)
def test_wrong_check_digit_is_refused(code):
    with pytest.raises(InvalidInput) as exc:
        validate_barcode(code)
    assert exc.value.code == "product.bad_barcode"


@pytest.mark.parametrize(
    "code", ["", "1234567", "12345678901", "12345678901234", "40063813339a1", "ABCDEFGH"]
)
def test_wrong_length_or_letters_are_refused(code):
    with pytest.raises(InvalidInput):
        validate_barcode(code)


def test_product_refuses_invalid_barcode_and_bad_fields():
    with pytest.raises(InvalidInput) as exc:
        Product("X", {"en": "x"}, 100, barcodes=("4006381333932",))
    assert exc.value.code == "product.bad_barcode"
    with pytest.raises(InvalidInput) as exc:
        Product("X", {"en": "x"}, 1.5)  # type: ignore[arg-type]
    assert exc.value.code == "product.bad_price"
    with pytest.raises(InvalidInput):
        Product("X", {"en": "x"}, -1)
    with pytest.raises(InvalidInput) as exc:
        Product("X", {"en": " "}, 1)
    assert exc.value.code == "product.no_name"
    with pytest.raises(InvalidInput):
        Product("", {"en": "x"}, 1)
    with pytest.raises(InvalidInput):
        Product("X", {"en": "x"}, 1, unit="litre")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Product("X", {"en": "x"}, 1, plu="12")


def test_product_round_trips_through_dict():
    p = Product(
        "APPLE",
        {"en": "Apples", "zh": "苹果"},
        8000,
        unit="kg",
        plu="00042",
        barcodes=(MILK_EAN,),
        low_stock=3,
    )
    assert product_from_dict(p.to_dict()) == p


def test_a_product_updated_against_the_held_one_is_checked_where_it_changed():
    """An import of a catalogue the store holds: an unchanged row is the held product itself,
    a repriced row is checked (a negative price is still refused), and a changed barcode is
    checked for its check digit."""
    held_p = Product("MILK", {"en": "Milk"}, 5000, barcodes=(MILK_EAN,))
    held = {"MILK": held_p}
    row = held_p.to_dict()
    assert product_against(row, held) is held_p
    assert product_against({**row, "price": 5200}, held) == Product(
        "MILK", {"en": "Milk"}, 5200, barcodes=(MILK_EAN,)
    )
    with pytest.raises(InvalidInput) as e:
        product_against({**row, "price": -1}, held)
    assert e.value.code == "product.bad_price"
    with pytest.raises(InvalidInput) as e:
        product_against({**row, "names": {"en": " "}}, held)
    assert e.value.code == "product.no_name"
    wrong = MILK_EAN[:-1] + str((int(MILK_EAN[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as e:
        product_against({**row, "barcodes": [wrong]}, held)
    assert e.value.code == "product.bad_barcode"
    assert product_against({**row, "sku": "NEW", "barcodes": [SOAP_UPC]}, held).sku == "NEW"


def test_product_name_falls_back_by_language():
    p = Product("M", {"en": "Milk", "zh": "牛奶", "th_TH": "นม"}, 1)
    assert p.name("zh_CN") == "牛奶"
    assert p.name("th") == "นม"
    assert p.name("de") == "Milk"


def test_price_embedded_barcode_decodes_item_and_price():
    code = ean("200004201250")  # 20 | 00042 | 01250
    s = decode_scan(code)
    assert (s.kind, s.plu, s.price, s.weight_g) == ("price", "00042", 1250, None)


def test_weight_embedded_barcode_decodes_item_and_grams():
    code = ean("230004201234")  # 23 | 00042 | 01234 g
    s = decode_scan(code)
    assert (s.kind, s.plu, s.weight_g, s.price) == ("weight", "00042", 1234, None)


def test_embedded_barcode_with_bad_check_digit_is_refused():
    with pytest.raises(InvalidInput):
        decode_scan(_wrong_check(ean("230004201234")))


def test_embedded_weight_of_zero_is_refused():
    with pytest.raises(InvalidInput) as exc:
        decode_scan(ean("230004200000"))
    assert exc.value.code == "scan.zero_weight"


def test_embedded_prefixes_are_configurable():
    rules = EmbeddedRules(price_prefixes=("29",), weight_prefixes=("28",))
    assert decode_scan(ean("290004200990"), rules).price == 990
    assert decode_scan(ean("280004200500"), rules).weight_g == 500
    # under these rules a 20-prefix code is a plain in-store barcode
    assert decode_scan(ean("200004201250"), rules).kind == "barcode"


def test_other_codes_decode_as_barcode_or_sku():
    assert decode_scan(MILK_EAN).kind == "barcode"
    assert decode_scan("MILK-1L").kind == "sku"
    assert decode_scan("12345").kind == "sku"
    with pytest.raises(InvalidInput):
        decode_scan("  ")


def test_resolve_embedded_codes_to_the_product(catalogue):
    assert catalogue.resolve(decode_scan(ean("230004201234"))).sku == "APPLE"
    assert catalogue.resolve(decode_scan(ean("200007712345"))).sku == "CHEESE"
    with pytest.raises(NotFound) as exc:
        catalogue.resolve(decode_scan(ean("230009901234")))
    assert exc.value.code == "product.not_found"


def test_lookup_by_ean13_ean8_and_sku(catalogue):
    assert catalogue.resolve(decode_scan(MILK_EAN)).sku == "MILK-1L"
    assert catalogue.resolve(decode_scan(BREAD_EAN8)).sku == "BREAD"
    assert catalogue.resolve(decode_scan("WATER")).sku == "WATER"
    with pytest.raises(NotFound):
        catalogue.resolve(decode_scan("NOPE"))
    with pytest.raises(NotFound):
        catalogue.resolve(decode_scan("4006381333931"))


def test_upc_a_is_found_whether_read_as_upc_a_or_as_ean13(catalogue):
    # SOAP is stored by its 12-digit UPC-A; a scanner in EAN-13 mode sends a leading 0
    assert catalogue.resolve(decode_scan(SOAP_UPC)).sku == "SOAP"
    assert catalogue.resolve(decode_scan("0" + SOAP_UPC)).sku == "SOAP"
    # and a product stored by its EAN-13 form is found from the 12-digit UPC-A read
    idx = CatalogueIndex([Product("GUM", {"en": "Gum"}, 100, barcodes=("0" + SOAP_UPC,))])
    assert idx.resolve(decode_scan(SOAP_UPC)).sku == "GUM"


@pytest.mark.parametrize(
    "query, sku",
    [
        ("milk", "MILK-1L"),
        ("FRESH MILK", "MILK-1L"),
        ("牛奶", "MILK-1L"),
        ("นมสด", "MILK-1L"),
        ("面包", "BREAD"),
        ("ขนมปัง", "BREAD"),
        ("苹果", "APPLE"),
        ("bread white", "BREAD"),
        ("MILK-1L", "MILK-1L"),
        ("soap", "SOAP"),
        (SOAP_UPC, "SOAP"),
        ("ｍｉｌｋ", "MILK-1L"),  # full-width Latin typed on a CJK keyboard
    ],
)
def test_search_by_name_in_any_language_or_sku(catalogue, query, sku):
    found = [p.sku for p in catalogue.search(query)]
    assert sku in found
    assert found[0] == sku


def test_search_does_not_match_everything(catalogue):
    assert [p.sku for p in catalogue.search("牛奶")] == ["MILK-1L"]
    assert catalogue.search("zzz") == []
    assert catalogue.search("   ") == []
    assert "OLD" in [p.sku for p in catalogue.search("discontinued")]
    assert catalogue.search("discontinued", sellable_only=True) == []
    assert len(catalogue.search("e", limit=2)) == 2


def test_put_replaces_a_product_and_its_codes(catalogue):
    new_code = ean("885000000099")
    catalogue.put(
        Product("MILK-1L", {"en": "Oat drink", "zh": "燕麦奶"}, 5000, barcodes=(new_code,))
    )
    assert catalogue.resolve(decode_scan(new_code)).price == 5000
    with pytest.raises(NotFound):
        catalogue.resolve(decode_scan(MILK_EAN))
    assert catalogue.search("牛奶") == []
    assert [p.sku for p in catalogue.search("燕麦")] == ["MILK-1L"]
    assert len(catalogue) == 7
