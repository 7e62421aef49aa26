"""Codes of the programs around the sale: the licence, printers, the till's link to its store,
HQ's cloud and the upload to it."""

from __future__ import annotations

from domain.error_codes.base import LOCAL, T_BAD_SETUP, T_BAD_UPLOAD, Code
from domain.errors import Conflict, InvalidInput, NotFound, Unavailable

__all__ = ["Licence", "Printer", "Tls", "Net", "Kiosk", "Ingest", "Upload"]

T_BAD_LICENCE = "The licence file is damaged or not from HQ. Install the licence HQ sent."
T_HQ_LATER = "HQ could not check the licence now. It is checked again later."


class Licence(Code):
    TOO_MANY_TILLS = (
        "licence.too_many_tills",
        Conflict,
        "The licence allows no more tills. Ask HQ for more.",
    )
    # may the day open? (``domain.licence.decide``; shown with ``day.licence_refused``)
    MISSING = "licence.missing", LOCAL, "No licence is installed. Ask HQ for one."
    REVOKED = "licence.revoked", Conflict, "HQ has revoked this licence. Call HQ."
    EXPIRED = "licence.expired", Conflict, "The licence has ended. Install a new one."
    NOT_YET_VALID = (
        "licence.not_yet_valid",
        LOCAL,
        "This licence has not started yet. Install the current licence.",
    )
    UNKNOWN = "licence.unknown", LOCAL, "HQ does not know this licence. Call HQ."
    WRONG_STORE = (
        "licence.wrong_store",
        Conflict,
        "This licence is for another store. Install this store's licence.",
    )
    CLOCK_TAMPERED = (
        "licence.clock_tampered",
        LOCAL,
        "The clock is behind. Set it right, then check the licence online.",
    )
    CHECK_OVERDUE = (
        "licence.check_overdue",
        LOCAL,
        "The licence was not checked online for too long. Connect the store to the internet.",
    )
    # the licence file and the check with HQ
    MALFORMED = "licence.malformed", InvalidInput, T_BAD_LICENCE
    BAD_SIGNATURE = "licence.bad_signature", InvalidInput, T_BAD_LICENCE
    BAD_KEY = "licence.bad_key", InvalidInput, T_BAD_SETUP
    BAD_RESULT = "licence.bad_result", InvalidInput, T_HQ_LATER
    CLOUD_ERROR = "licence.cloud_error", Unavailable, T_HQ_LATER
    CLOUD_UNREACHABLE = "licence.cloud_unreachable", Unavailable, T_HQ_LATER
    CLOUD_TIMEOUT = "licence.cloud_timeout", LOCAL, T_HQ_LATER
    CHECK_CRASHED = "licence.check_crashed", LOCAL, T_HQ_LATER
    NO_TRANSPORT = "licence.no_transport", LOCAL, "This store is not linked to HQ."
    STARTING = "licence.starting", LOCAL, "The licence check is starting."
    CHECKED = "licence.checked", LOCAL, "The licence was checked."
    OK = "licence.ok", LOCAL, "The licence is valid."
    GRACE = (
        "licence.grace",
        LOCAL,
        "Working offline: the licence is checked again when HQ can be reached.",
    )
    # HQ's licence service
    BAD_REQUEST = "licence.bad_request", InvalidInput, T_HQ_LATER
    BAD_STORE = "licence.bad_store", InvalidInput, "This store id is not valid."
    NO_KEY = "licence.no_key", Unavailable, T_BAD_SETUP
    NOT_FOUND = "licence.not_found", NotFound, "HQ never issued this licence. Call HQ."


class Printer(Code):
    """``printer.<state>`` (``hw.printer.Status.code``) and the print queue's errors."""

    OK = "printer.ok", LOCAL, "The printer is ready."
    UNKNOWN = "printer.unknown", LOCAL, "The printer's state is not known yet."
    PAPER_LOW = (
        "printer.paper_low",
        LOCAL,
        "The printer's paper is running low. Have a new roll ready.",
    )
    OFFLINE = (
        "printer.offline",
        Unavailable,
        "The printer is off or not connected. Check it; receipts wait until it is back.",
    )
    PAPER_OUT = "printer.paper_out", Unavailable, "The printer is out of paper. Load paper."
    COVER_OPEN = "printer.cover_open", Unavailable, "The printer's cover is open. Close it."
    ERROR = "printer.error", Unavailable, "The printer reports an error. Check it."
    DRIVER_MISSING = "printer.driver_missing", Unavailable, T_BAD_SETUP
    BAD_SETTINGS = "printer.bad_settings", Unavailable, T_BAD_SETUP


class Tls(Code):
    """The till's secure link to its store (``kiosk.client``)."""

    UNTRUSTED = (
        "tls.untrusted",
        LOCAL,
        "This is not the store this till was paired with. Do not sign in; call the manager.",
    )
    REQUIRED = (
        "tls.required",
        LOCAL,
        "This till is paired with its store over a secure connection: its address must "
        "start with https://.",
    )
    FAILED = (
        "tls.failed",
        LOCAL,
        "The store did not answer over a secure connection. Check the network, then try again.",
    )
    NO_CA = (
        "tls.no_ca",
        LOCAL,
        "The store did not send a key to pair with. Check the store's address, then try again.",
    )


class Net(Code):
    OFFLINE = (
        "net.offline",
        LOCAL,
        "The store server cannot be reached. Check the network; the till keeps trying.",
    )


class Kiosk(Code):
    ERROR = (
        "kiosk.error",
        LOCAL,
        "Something went wrong on this till. Try again; if it happens again, call the manager.",
    )


class Ingest(Code):
    """HQ's answers to an upload (``cloud.ingest``)."""

    BAD_BATCH = "ingest.bad_batch", InvalidInput, T_BAD_UPLOAD
    BAD_ENCODING = "ingest.bad_encoding", InvalidInput, T_BAD_UPLOAD
    MISSING_HASH = "ingest.missing_hash", InvalidInput, T_BAD_UPLOAD
    BAD_QUERY = "ingest.bad_query", InvalidInput, T_BAD_UPLOAD
    TOO_LARGE = "ingest.too_large", 413, "An upload was too large for HQ. Call HQ.", (400,)
    GAP = ("ingest.gap", Conflict, "HQ is missing earlier events. The store sends them again.")
    CONFLICT = (
        "ingest.conflict",
        Conflict,
        "HQ holds other events for this store than its journal. Call HQ.",
    )
    CHAIN_BROKEN = (
        "ingest.chain_broken",
        Conflict,
        "The events HQ holds do not match this store's journal. Call HQ.",
    )


class Upload(Code):
    """Why the last upload to HQ failed (``upload.<kind>``: ``actors.line.LineError.kind``,
    ``actors.uploader.TransportError.kind``)."""

    CONNECT = "upload.connect", LOCAL, "HQ cannot be reached. Sales are kept and sent later."
    STALLED = (
        "upload.stalled",
        LOCAL,
        "The line to HQ is too slow. Sending goes on in smaller parts.",
    )
    NO_REPLY = "upload.no_reply", LOCAL, "HQ's answer was lost. The upload is sent again."
    CUT = "upload.cut", LOCAL, "The connection to HQ was cut. The upload is sent again."
    BAD_REPLY = "upload.bad_reply", LOCAL, "HQ's answer could not be read. It is sent again."
    REFUSED = "upload.refused", LOCAL, "HQ refused the upload. Call HQ."
