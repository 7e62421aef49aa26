"""Codes of the product feed (``cloud.feed``): the feed's own credential, its files and the
reasons a row of a feed file is refused (``cloud.feed_format``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput, NotFound, Unauthorized, Unavailable

__all__ = ["Feed", "FeedRow"]


class Feed(Code):
    BAD_CREDENTIAL = (
        "feed.bad_credential",
        Unauthorized,
        "The feed credential is wrong or belongs to another feed.",
    )
    UNKNOWN = "feed.unknown", NotFound, "There is no feed of this name."
    EXISTS = "feed.exists", Conflict, "A feed of this name exists already."
    BAD_FEED_NAME = (
        "feed.bad_feed_name",
        InvalidInput,
        "A feed name has 1 to 32 small letters, digits or '-'.",
    )
    TOO_LARGE = (
        "feed.too_large",
        InvalidInput,
        "The feed file is too large. Send it in smaller files.",
        (413,),
    )
    NOTHING_STAGED = "feed.nothing_staged", Conflict, "This feed has nothing waiting for approval."
    NO_MASTER = (
        "feed.no_master",
        Unavailable,
        "HQ's master data is not available. Try again later.",
    )
    MASTER_REFUSED = (
        "feed.master_refused",
        InvalidInput,
        "HQ's master data refused some feed rows. Look at the rows and fix the feed.",
    )


class FeedRow(Code):
    BAD_FILE = "feed.bad_file", InvalidInput, "This feed file cannot be read. Check its format."
    BAD_ROW = "feed.bad_row", InvalidInput, "This row cannot be read."
    MISSING = "feed.missing", InvalidInput, "A required field is empty."
    UNKNOWN_FIELD = "feed.unknown_field", InvalidInput, "This field is not in the feed format."
    REFUSED_FIELD = "feed.refused_field", InvalidInput, "A feed may not set this field."
    BAD_SKU = "feed.bad_sku", InvalidInput, "The SKU is not valid."
    BAD_NAME = "feed.bad_name", InvalidInput, "The product name or its language is not valid."
    BAD_PRICE = "feed.bad_price", InvalidInput, "The price is not a whole number of minor units."
    BAD_BARCODE = "feed.bad_barcode", InvalidInput, "A barcode is not valid."
    BAD_UNIT = "feed.bad_unit", InvalidInput, "The unit is 'each' or 'kg'."
    BAD_CATEGORY = "feed.bad_category", InvalidInput, "The category path is not valid."
    BAD_IMAGE = "feed.bad_image", InvalidInput, "The image is not a file name or web address."
    BAD_TEXT = "feed.bad_text", InvalidInput, "This text is too long or not text."
    DUPLICATE = "feed.duplicate", InvalidInput, "This SKU or barcode is on an earlier row too."
