"""The store's actor shells: plain classes that hold state and call ``domain/`` and the plain
classes of ``actors/``. ``actors.bootstrap`` makes them Ray actors (restart and concurrency options
in one place); they reach each other through ``actors.client``."""
