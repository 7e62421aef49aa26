"""Codes of the store server's own rules: sign-in, staff, the business day, requests, the server."""

from __future__ import annotations

from domain.error_codes.base import (
    LOCAL,
    T_BAD_DATE,
    T_BAD_SETUP,
    T_BAD_SIGNATURE,
    T_BUSY,
    T_DAY_CLOSED,
    T_LOCKED,
    T_NO_SESSION,
    T_NOT_ALLOWED,
    T_NOT_OFFERED,
    T_NOT_USABLE,
    T_WRONG_PIN,
    Code,
)
from domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KassaError,
    NotFound,
    Throttled,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "General",
    "Input",
    "Command",
    "Auth",
    "Till",
    "Staff",
    "Permissions",
    "Day",
    "Report",
    "Http",
    "Store",
    "Wire",
    "Event",
    "Local",
]


class General(Code):
    """The classes' default codes (``KassaError.default_code``)."""

    ERROR = "kassa.error", KassaError, "This was refused. Check what you entered and try again."
    NOT_FOUND = "not_found", NotFound, "Not found. Check what you entered."
    CONFLICT = "conflict", Conflict, "This cannot be done now. Ask a manager."


class Input(Code):
    INVALID = (
        "input.invalid",
        InvalidInput,
        "Some input is not valid. Check what you entered and try again.",
    )
    BAD_FIELD = "input.bad_field", InvalidInput, "Some input is not valid."
    BAD_JSON = "input.bad_json", InvalidInput, T_NOT_USABLE
    NOT_OBJECT = "input.not_object", InvalidInput, T_NOT_USABLE
    TOO_LARGE = (
        "input.too_large",
        InvalidInput,
        "This is too much to send at once. Send less.",
        (413,),
    )
    BAD_DATE = "input.bad_date", InvalidInput, T_BAD_DATE  # HQ's cloud


class Command(Code):
    BAD_ID = "command.bad_id", InvalidInput, T_NOT_USABLE
    BAD_BODY = "command.bad_body", InvalidInput, T_NOT_USABLE
    ID_REUSED = (
        "command.id_reused",
        Conflict,
        "This request was already used for something else. Start again.",
    )


class Auth(Code):
    REQUIRED = "auth.required", Unauthorized, "Please sign in again."
    SESSION_EXPIRED = "auth.session_expired", Unauthorized, T_NO_SESSION
    NOT_SIGNED_IN = "auth.not_signed_in", Conflict, T_NO_SESSION
    SESSION_EXISTS = (
        "auth.session_exists",
        Conflict,
        "You are signed in already. Go on, or sign out first.",
    )
    BAD_CREDENTIALS = "auth.bad_credentials", Unauthorized, T_WRONG_PIN
    BAD_PIN = "auth.bad_pin", Unauthorized, T_WRONG_PIN  # the till's demo sign-in
    BAD_PIN_FORMAT = "auth.bad_pin_format", InvalidInput, "A PIN has 4 to 64 characters."
    BAD_ATTEMPT = "auth.bad_attempt", InvalidInput, T_BAD_SETUP
    LOCKED = "auth.locked", Forbidden, T_LOCKED
    INACTIVE = "auth.inactive", Forbidden, "This account is not active. Ask a manager."
    THROTTLED = (
        "auth.throttled",
        Throttled,
        "Too many wrong PINs from this till. Wait a while, then try again.",
    )
    PIN_RESET_NEEDED = (
        "auth.pin_reset_needed",
        Conflict,
        "This PIN must be set again on the store PC.",
    )
    FORBIDDEN = "auth.forbidden", Forbidden, T_NOT_ALLOWED
    NOT_PERMITTED = "auth.not_permitted", Forbidden, T_NOT_ALLOWED  # the till's demo sign-in
    WRONG_TILL = (
        "auth.wrong_till",
        Forbidden,
        "You are signed in at another till. Sign in again here.",
    )
    APPROVAL_REFUSED = (
        "auth.approval_refused",
        Forbidden,
        "Wrong PIN, or this person may not approve it.",
    )
    APPROVAL_INVALID = "auth.approval_invalid", Forbidden, "The approval has expired. Ask again."
    UNSUPPORTED = (
        "auth.unsupported",
        NotFound,
        "This store server has no sign-in yet. Call the administrator.",
    )
    # HQ's cloud: reads and uploads
    OPEN_REFUSED = (
        "auth.open_refused",
        LOCAL,
        "HQ's reads need a token. Set one, or start the cloud as a lab.",
    )
    HQ_TOKEN = "auth.hq_token", Unauthorized, "Give HQ's token to read this."
    MISSING = "auth.missing", Unauthorized, T_BAD_SIGNATURE
    BAD_NONCE = "auth.bad_nonce", Unauthorized, T_BAD_SIGNATURE
    BAD_SIGNATURE = "auth.bad_signature", Unauthorized, T_BAD_SIGNATURE
    BAD_TIMESTAMP = "auth.bad_timestamp", Unauthorized, T_BAD_SIGNATURE
    UNKNOWN_STORE = (
        "auth.unknown_store",
        Unauthorized,
        "HQ does not know this store. Ask HQ to register it.",
    )
    STALE = "auth.stale", Unauthorized, "This PC's clock is wrong. Set the clock right."
    REPLAY = "auth.replay", Conflict, "HQ has received this upload already. Nothing to do."
    STORE_MISMATCH = (
        "auth.store_mismatch",
        Forbidden,
        "This upload belongs to another store. Check the store's link to HQ.",
    )


class Till(Code):
    BAD_ID = "till.bad_id", InvalidInput, "This till's name is not valid. Call the administrator."
    UNKNOWN_OPERATION = "till.unknown_operation", InvalidInput, T_NOT_USABLE


class Staff(Code):
    BAD_ID = (
        "staff.bad_id",
        InvalidInput,
        "A staff number is 1 to 32 letters, digits, '-', '_' or '.'.",
    )
    BAD_ROLE = "staff.bad_role", InvalidInput, "Choose one of the roles offered."
    BAD_LANGUAGE = "staff.bad_language", InvalidInput, "Choose one of the languages offered."
    BAD_PIN_HASH = (
        "staff.bad_pin_hash",
        InvalidInput,
        "This PIN record is damaged. Set the PIN again on the store PC.",
    )
    EXISTS = "staff.exists", Conflict, "This staff number is taken. Choose another number."
    NOT_FOUND = "staff.not_found", NotFound, "No staff member has this number. Check the number."
    NOT_LOCKED = "staff.not_locked", Conflict, "This account is not locked. Nothing to do."
    ADMIN_ONLY = (
        "staff.admin_only",
        Forbidden,
        "Only an administrator may change an administrator's account. Ask an administrator.",
    )
    SELF_LOCK = (
        "staff.self_lock",
        Conflict,
        "You cannot lock your own account. Ask another manager.",
    )
    SELF_CHANGE = "staff.self_change", Conflict, "Ask another manager to change your own role."
    NOTHING_TO_CHANGE = (
        "staff.nothing_to_change",
        InvalidInput,
        "Nothing was changed. Edit a field, then save.",
    )


class Permissions(Code):
    UNKNOWN_ACTION = (
        "permissions.unknown_action",
        InvalidInput,
        "There is no such action. Refresh the list.",
        (404,),
    )
    SELF_LOCKOUT = (
        "permissions.self_lockout",
        Conflict,
        "You would lose the right to change this back. Ask another administrator.",
    )


class Day(Code):
    CLOSED = "day.closed", Conflict, T_DAY_CLOSED
    NOT_OPEN = "day.not_open", Conflict, T_DAY_CLOSED
    ALREADY_OPEN = "day.already_open", Conflict, "The day is open already. Go on selling."
    BASKETS_OPEN = (
        "day.baskets_open",
        Conflict,
        "Pay or void the open and parked baskets on every till, then close the day.",
    )
    LICENCE_REFUSED = (
        "day.licence_refused",
        Conflict,
        "The licence does not allow opening the day. Ask HQ for a valid licence.",
    )
    BAD_DATE = "day.bad_date", InvalidInput, T_BAD_DATE
    BAD_FLOAT = "day.bad_float", InvalidInput, "Enter the float: an amount of 0 or more."
    BAD_COUNTED_CASH = (
        "day.bad_counted_cash",
        InvalidInput,
        "Enter the counted cash: an amount of 0 or more.",
    )
    BAD_SCOPE = "day.bad_scope", InvalidInput, "A Z report is for one till or for the store."
    BAD_TILL = "day.bad_till", InvalidInput, "Choose the till whose day to open."
    NOT_CLOSED = "day.not_closed", Conflict, "Close the till's day before its Z report."
    Z_RECORDED = (
        "day.z_recorded",
        Conflict,
        "This Z report is recorded already. Nothing more to do.",
    )


class Report(Code):
    UNKNOWN = "report.unknown", NotFound, "There is no such report. Choose one from the list."
    LAGGING = (
        "report.lagging",
        Unavailable,
        "The report is still catching up with the latest sales. Try again in a moment.",
    )


class Http(Code):
    NOT_FOUND = "http.not_found", NotFound, T_NOT_OFFERED
    METHOD_NOT_ALLOWED = "http.method_not_allowed", 405, T_NOT_OFFERED
    # any other refusal without a code of its own (by the HTTP layer, or an answer without one)
    ERROR = "http.error", InvalidInput, T_NOT_USABLE


class Store(Code):
    UNAVAILABLE = "store.unavailable", Unavailable, T_BUSY
    UNREACHABLE = "store.unreachable", Unavailable, T_BUSY
    INTERNAL = "store.internal", Unavailable, T_BUSY
    BAD_ANSWER = "store.bad_answer", Unavailable, T_BUSY
    JOURNAL_FAILED = (
        "store.journal_failed",
        Unavailable,
        "The store could not save this. Try again; if it happens again, call the manager.",
    )
    RAY_NOT_PRIVATE = "store.ray_not_private", Unavailable, T_BAD_SETUP
    RUN_DIR_UNSAFE = "store.run_dir_unsafe", Unavailable, T_BAD_SETUP
    BAD_AUTH_SETTING = "store.bad_auth_setting", InvalidInput, T_BAD_SETUP
    BAD_LIMIT = "store.bad_limit", InvalidInput, T_BAD_SETUP
    BAD_TILL_PLACEMENT = "store.bad_till_placement", InvalidInput, T_BAD_SETUP
    BAD_HOURS = "store.bad_hours", InvalidInput, T_BAD_SETUP


class Wire(Code):
    """Calls between the store server's own processes."""

    BAD_CALL = "wire.bad_call", InvalidInput, T_NOT_USABLE
    UNKNOWN_KIND = "wire.unknown_kind", InvalidInput, T_NOT_USABLE


class Event(Code):
    BAD_BODY = "event.bad_body", InvalidInput, T_NOT_USABLE


class Local(Code):
    """The store PC's local admin channel (``kassa store unlock`` / ``set-pin``)."""

    REFUSED = (
        "local.refused",
        KassaError,
        "Only the account that runs the store server may do this. Run it as that user.",
    )
    BAD_REQUEST = "local.bad_request", KassaError, T_NOT_USABLE
    NO_ANSWER = "local.no_answer", KassaError, "The store server did not answer. Try again."
    NO_JOURNAL = (
        "local.no_journal",
        KassaError,
        "There is no store data in this folder. Check the --data folder.",
    )
    SERVER_BUSY = (
        "local.server_busy",
        KassaError,
        "A store server holds this folder but does not answer. Stop it, then try again.",
    )
