"""Receipts, printers, the cash drawer and the customer display.

The till uses one object, ``PrintQueue`` (``hw.queue``): ``submit(order_dict, lang)`` returns at
once, ``state()`` is a snapshot for the screen, ``retry()`` / ``reprint()`` / ``preview()`` do what
they say. Everything else is here for it and for tests: ``hw.receipt`` (the model and column
layout), ``hw.render`` (Pillow/raqm drawing, PNG previews), ``hw.encode`` (ESC/POS bytes),
``hw.printer`` (network / USB / serial / file / dummy through python-escpos), ``hw.display`` (pole
display). Modules load lazily so that importing ``hw`` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PrintQueue",
    "QueueState",
    "make_printer",
    "make_display",
    "build_receipt",
    "build_refund_receipt",
    "save_preview",
    "encode_receipt",
]

_WHERE = {
    "PrintQueue": "hw.queue",
    "QueueState": "hw.queue",
    "make_printer": "hw.printer",
    "make_display": "hw.display",
    "build_receipt": "hw.receipt",
    "build_refund_receipt": "hw.receipt",
    "save_preview": "hw.render",
    "encode_receipt": "hw.encode",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
