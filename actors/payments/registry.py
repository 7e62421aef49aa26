"""Which providers a store has, from ``store.json`` ``payments`` (all optional):

    "payments": {
      "qr": "promptpay",                       # the provider of QR payments ("" : none)
      "card": "card-sim",                      # the provider of card payments ("" : typed slips)
      "promptpay": {"id": "0812345678", "id_type": "phone"},   # or a 13-digit tax id
      "card_sim": {"mode": "approve"},  # approve | decline | timeout | late | by_amount
      "timeout_s": 120,                        # a pending payment times out after this
      "sweep_s": 10                            # unsettled payments are asked again this often
    }

A plug-in provider is any object with the ``Provider`` protocol, added with ``register``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.payments.card import CardProvider, SimulatedTerminal
from actors.payments.promptpay import PromptPayProvider
from actors.payments.provider import Provider

__all__ = ["FACTORIES", "register", "providers_from", "DEFAULT_TIMEOUT_S", "DEFAULT_SWEEP_S"]

DEFAULT_TIMEOUT_S = 120
DEFAULT_SWEEP_S = 10

FACTORIES: dict[str, Callable[[dict[str, Any]], Provider]] = {
    "promptpay": lambda cfg: PromptPayProvider(
        str((cfg.get("promptpay") or {}).get("id", "")),
        str((cfg.get("promptpay") or {}).get("id_type", "auto")),
    ),
    "card-sim": lambda cfg: CardProvider(
        SimulatedTerminal(str((cfg.get("card_sim") or {}).get("mode", "approve")))
    ),
}


def register(name: str, factory: Callable[[dict[str, Any]], Provider]) -> None:
    """Add a provider plug-in (``factory(payments_config) -> Provider``)."""
    FACTORIES[name] = factory


def providers_from(cfg: dict[str, Any]) -> dict[str, Provider]:
    """Tender kind ("qr", "card") -> its provider, as the store's settings name them."""
    out: dict[str, Provider] = {}
    for kind in ("qr", "card"):
        name = str(cfg.get(kind) or "")
        if name in FACTORIES:
            out[kind] = FACTORIES[name](cfg)
    return out
