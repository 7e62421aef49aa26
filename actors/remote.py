"""Compatibility names for the store server's Ray parts, which now live in their own modules:

* ``actors.ray_boot``  — starting and stopping the private Ray node, ``unwrap`` of Ray errors;
* ``actors.shells``    — the actor shells (plain classes holding state, calling ``domain/``);
* ``actors.bootstrap`` — the one composition root: makes the shells remote, ``create_actors``;
* ``actors.client``    — the typed client, the only module that calls the actors.
"""

from __future__ import annotations

from actors.bootstrap import RESTART, Handles, create_actors
from actors.client import ledger_channel
from actors.gateway_till import CATALOGUE_CHECK_S, GatewayTill
from actors.ray_boot import NAMESPACE, is_kassa_error, start_ray, stop_ray, unwrap
from actors.shells.analytics import REPORTS

__all__ = [
    "start_ray",
    "stop_ray",
    "Handles",
    "create_actors",
    "unwrap",
    "NAMESPACE",
    "RESTART",
    "GatewayTill",
    "CATALOGUE_CHECK_S",
    "REPORTS",
    "is_kassa_error",
    "ledger_channel",
]
