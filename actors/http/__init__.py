"""The store's LAN gateway, by business area (see ``app`` for the whole, README "Store server
layout"). A route turns the request into a command or a call and the answer into JSON; the rules
are in ``domain/`` and are checked where commits are serialised (the ledger)."""
