"""The error hierarchy: stable codes that survive pickling (Ray) and JSON (HTTP)."""

from __future__ import annotations

import pickle

import pytest

from domain.catalogue import CatalogueIndex, decode_scan
from domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KassaError,
    NotFound,
    Unauthorized,
    Unavailable,
    error_from_dict,
)


@pytest.mark.parametrize(
    "cls, status",
    [
        (InvalidInput, 400),
        (NotFound, 404),
        (Conflict, 409),
        (Unauthorized, 401),
        (Forbidden, 403),
        (Unavailable, 503),
    ],
)
def test_every_error_is_a_kassa_error_with_an_http_status(cls, status):
    err = cls("area.reason", "msg", n=1)
    assert isinstance(err, KassaError)
    assert err.http_status == status
    assert err.code == "area.reason"


def test_error_survives_pickling_and_json_with_details():
    err = Conflict("wallet.insufficient_funds", "too low", member="M1", balance=5)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is Conflict
    assert (back.code, back.message, back.details) == (err.code, err.message, err.details)
    again = error_from_dict(err.to_dict())
    assert type(again) is Conflict and again.details == {"member": "M1", "balance": 5}


def test_details_may_name_the_scanned_code():
    # a detail called "code" must not clash with the error's own code
    err = NotFound("product.not_found", "no product", code="123")
    assert err.code == "product.not_found" and err.details == {"code": "123"}
    assert pickle.loads(pickle.dumps(err)).details == {"code": "123"}


def test_unknown_product_is_reported_as_not_found():
    with pytest.raises(NotFound) as exc:
        CatalogueIndex([]).resolve(decode_scan("NOSUCH"))
    assert exc.value.code == "product.not_found"
    assert exc.value.details["code"] == "NOSUCH"


def test_default_codes():
    assert KassaError().code == "kassa.error"
    assert Unavailable().code == "store.unavailable"
    assert error_from_dict({"type": "Weird", "code": "x.y"}).code == "x.y"
