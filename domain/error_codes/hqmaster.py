"""Codes of HQ's master data (``cloud.master``) and HQ's users (``cloud.hqusers``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Throttled, Unauthorized

__all__ = ["Master", "HqUser", "ImportFile"]


class Master(Code):
    BARCODE_TAKEN = (
        "master.barcode_taken",
        InvalidInput,
        "This barcode belongs to another product. Check the barcode.",
    )
    BAD_CATEGORY = (
        "master.bad_category",
        InvalidInput,
        "Write the category as a path like Drinks/Soft drinks.",
    )
    BAD_GROUP = (
        "master.bad_group",
        InvalidInput,
        "A store group has 1 to 40 letters, digits, - or _.",
    )
    BAD_TIME = "master.bad_time", InvalidInput, "Give the time the price starts, in UTC."
    EDIT_CONFLICT = (
        "master.edit_conflict",
        Conflict,
        "Someone else changed this product meanwhile. Open it again and redo your change.",
    )
    NOT_FOUND = "master.not_found", NotFound, "HQ has no product with this SKU."
    PRICE_NOT_FOUND = "master.price_not_found", NotFound, "This price change does not exist."
    STORE_NOT_FOUND = "master.store_not_found", NotFound, "HQ has no profile for this store."
    BAD_PROFILE = "master.bad_profile", InvalidInput, "This store profile is not valid."
    BAD_STORE_FIELD = (
        "master.bad_store_field",
        InvalidInput,
        "Stores may only own these fields: favourite, low_stock, image, price.",
    )
    BAD_TEMPLATE = (
        "master.bad_template",
        InvalidInput,
        "The staff templates are not valid. Check the roles and the staff list.",
    )


class ImportFile(Code):
    BAD_ROWS = (
        "import.bad_rows",
        InvalidInput,
        "Some rows are not valid. Nothing was imported; correct the rows listed and try again.",
    )
    BAD_FILE = (
        "import.bad_file",
        InvalidInput,
        "This file cannot be read. Save it as CSV (UTF-8) or XLSX and try again.",
    )
    NO_ROWS = "import.no_rows", InvalidInput, "The file has no product rows."


class HqUser(Code):
    BAD_LOGIN = (
        "hquser.bad_login",
        Unauthorized,
        "Wrong user name or password. Check both and try again.",
    )
    LOCKED = (
        "hquser.locked",
        Throttled,
        "Too many wrong passwords for this user. Wait 15 minutes, then try again.",
    )
    THROTTLED = (
        "hquser.throttled",
        Throttled,
        "Too many wrong passwords from this computer. Wait 15 minutes, then try again.",
    )
    SESSION = "hquser.session", Unauthorized, "Your HQ session has ended. Sign in again."
    ROLE_REFUSED = (
        "hquser.role_refused",
        Forbidden,
        "Your HQ role may not do this. Ask an HQ administrator.",
    )
    UNKNOWN_ROLE = (
        "hquser.unknown_role",
        InvalidInput,
        "Choose a role: admin, catalogue, finance or support.",
    )
    EXISTS = "hquser.exists", Conflict, "A user with this name exists already."
    NOT_FOUND = "hquser.not_found", NotFound, "There is no HQ user with this name."
    BAD_NAME = (
        "hquser.bad_name",
        InvalidInput,
        "A user name has 1 to 64 small letters, digits, dots, - or _.",
    )
    WEAK_PASSWORD = (
        "hquser.weak_password",
        InvalidInput,
        "A password has at least 10 characters.",
    )
    LAST_ADMIN = (
        "hquser.last_admin",
        Conflict,
        "HQ needs at least one active administrator. Make another one first.",
    )
