"""The error registry: every error code of the system, one enum per area.

``raise Conflict(Day.BASKETS_OPEN, "pay or void the baskets first")`` — a member *is* its code
(a ``str``), and carries the class it is raised as (``error``), its HTTP ``status`` and the English
``text`` the operator reads. The till translates ``text`` through its gettext catalogues
(``kiosk/locale``); the gateway's OpenAPI lists every code (``x-kassa-error-codes``).

``lookup(code)`` finds a code's entry; ``entries()`` yields them all. A code built at run time
(``f"printer.{state}"``) is listed in ``TEMPLATES`` with the area that holds all its values.
``tests/unit/test_error_registry.py`` fails on a code raised anywhere that is not registered here.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.error_codes.base import LOCAL, Code
from domain.error_codes.edge import Ingest, Kiosk, Licence, Net, Printer, Tls, Upload
from domain.error_codes.sale import (
    Amount,
    Basket,
    Discount,
    Feedback,
    Import,
    Member,
    Money,
    Order,
    Payment,
    Product,
    Quantity,
    Refund,
    Scan,
    Search,
    Stock,
    Tax,
    Wallet,
)
from domain.error_codes.store import (
    Auth,
    Command,
    Day,
    Event,
    General,
    Http,
    Input,
    Local,
    Permissions,
    Report,
    Staff,
    Store,
    Till,
    Wire,
)

__all__ = [
    "Code",
    "Entry",
    "LOCAL",
    "lookup",
    "entries",
    "TEMPLATES",
    "AREAS",
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
    "Basket",
    "Scan",
    "Product",
    "Search",
    "Discount",
    "Payment",
    "Wallet",
    "Member",
    "Order",
    "Refund",
    "Money",
    "Amount",
    "Quantity",
    "Tax",
    "Stock",
    "Feedback",
    "Import",
    "Licence",
    "Printer",
    "Tls",
    "Net",
    "Kiosk",
    "Ingest",
    "Upload",
]

Entry = Code  # an entry of the registry is the enum member itself

AREAS: tuple[type[Code], ...] = (
    General,
    Input,
    Command,
    Auth,
    Till,
    Staff,
    Permissions,
    Day,
    Report,
    Http,
    Store,
    Wire,
    Event,
    Local,
    Basket,
    Scan,
    Product,
    Search,
    Discount,
    Payment,
    Wallet,
    Member,
    Order,
    Refund,
    Money,
    Amount,
    Quantity,
    Tax,
    Stock,
    Feedback,
    Import,
    Licence,
    Printer,
    Tls,
    Net,
    Kiosk,
    Ingest,
    Upload,
)


def _discovered() -> tuple[type[Code], ...]:
    """Areas defined in the package's other modules (``hq.py`` and parts added later)."""
    import importlib
    import pkgutil

    known = set(AREAS)
    found: list[type[Code]] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        module = importlib.import_module(f"{__name__}.{mod}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Code)
                and value is not Code
                and value.__module__ == module.__name__
                and value not in known
            ):
                known.add(value)
                found.append(value)
    return tuple(found)


AREAS = AREAS + _discovered()

# codes built at run time → the area holding every value they can take
TEMPLATES: dict[str, type[Code]] = {
    "printer.{state}": Printer,  # hw.printer.Status.code, hw.queue.QueueState.code
    "licence.{status}": Licence,  # a check's answer: ok | revoked | unknown (actors.licence)
    "upload.{kind}": Upload,  # LineError / TransportError kinds, as the uploader reports them
}


def _index() -> dict[str, Code]:
    out: dict[str, Code] = {}
    for area in AREAS:
        for member in area:
            if member.value in out:
                raise ValueError(f"error code {member.value!r} is registered twice")
            out[member.value] = member
    return out


_BY_CODE = _index()


def lookup(code: str) -> Code:
    """The registered entry of ``code`` (a plain string or a member). ``KeyError`` if unknown."""
    return _BY_CODE[code]


def entries() -> Iterator[Code]:
    """Every registered code, area by area."""
    return iter(_BY_CODE.values())
