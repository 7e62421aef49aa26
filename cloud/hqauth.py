"""Who may call which cloud route, HQ's API token, and the modes of the files HQ keeps.

Every route of the cloud has one permission (see ``PERMISSIONS``; the README lists them):

* ``public`` — anyone (``/v1/health``);
* ``store`` — a store proves itself in the request: an upload signed with its secret, a licence
  check carrying a licence HQ signed (the answer is about that licence only, signed by HQ);
* ``hq`` — everything else: ``Authorization: Bearer <HQ token or session token>``. A route
  missing from the table is an HQ route, so a new endpoint is closed until someone decides
  otherwise.

Who calls an HQ route (``caller``): the HQ token acts as user ``token`` with role ``admin``; a
session token (``POST /v1/hq/login``, ``cloud.hqusers``) as its user with the user's role. The
route's declared roles (``HQ_ROLES``, from ``declare``) say who may call it (``allowed``); an HQ
route nobody declared is for ``admin`` only.

The token lives in ``<data>/hq_token`` (mode 0600), created at the first start;
``kassa cloud token`` shows it. ``KASSA_CLOUD_HQ_TOKEN`` overrides the file. Open reads need
``--insecure-open-reads``.

Files holding secrets or personal data are 0600 in 0700 folders (``private_dir``, ``private_file``,
``PRIVATE_FILE`` for ``os.open``); the CLI also sets the umask to 077 before it touches the folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from domain.error_codes import Auth

__all__ = [
    "PUBLIC",
    "STORE",
    "HQ",
    "FEED",
    "ROLES",
    "HQ_ROLES",
    "declare",
    "mount",
    "Sessions",
    "caller",
    "allowed",
    "bearer",
    "PERMISSIONS",
    "permission",
    "TOKEN_FILE",
    "TOKEN_ENV",
    "HqAuth",
    "OpenReadsRefused",
    "resolve",
    "read_token",
    "ensure_token",
    "new_token",
    "token_matches",
    "private_dir",
    "private_file",
    "tighten",
    "PRIVATE_FILE",
    "PRIVATE_DIR",
]

PUBLIC, STORE, HQ, FEED = "public", "store", "hq", "feed"
# path -> permission; a path not listed is an HQ route. ``store`` and ``feed`` routes prove the
# caller in the handler (a store's signature; a feed's own credential), never with HQ's token.
PERMISSIONS: dict[str, str] = {
    "/v1/health": PUBLIC,
    "/v1/ingest": STORE,
    "/v1/holdings": STORE,
    "/v1/licence/check": STORE,
}
# HQ's roles. ``admin`` (and the HQ token, for scripts) may call every HQ route; the others only
# the routes declared for them.
ROLES = ("admin", "catalogue", "finance", "support")
# (METHOD, canonical path) -> roles that may call it (``admin`` always may)
HQ_ROLES: dict[tuple[str, str], frozenset[str]] = {}


def declare(method: str, path: str, permission: str = HQ, roles: tuple[str, ...] = ()) -> None:
    """Say who may call a route (``path`` as the router's canonical form, e.g.
    ``/v1/hq/products/{sku}``): a public, store or feed route, or an HQ route for ``roles``."""
    if permission != HQ:
        PERMISSIONS[path] = permission
        return
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown HQ roles {sorted(unknown)}")
    HQ_ROLES[(method.upper(), path)] = frozenset(roles) | {"admin"}


def mount(app: Any, key: Any, part: Any, routes: Any) -> None:
    """Put an HQ part on the cloud's app under ``key``: each of its ``routes`` (method, path,
    handler, permission, roles) declared and added, the part closed at the app's cleanup."""
    app[key] = part
    for method, path, handler, permission, roles in routes:
        declare(method, path, permission, roles)
        app.router.add_route(method, path, handler)

    async def _close(_app: Any) -> None:
        part.close()

    app.on_cleanup.append(_close)


class Sessions(Protocol):
    def resolve(self, token: str) -> tuple[str, str] | None:
        """(user, role) of a live session token, else None."""


def bearer(authorization: str) -> str:
    scheme, _, got = authorization.partition(" ")
    return got.strip() if scheme.lower() == "bearer" else ""


def caller(authorization: str, auth: HqAuth, sessions: Sessions | None) -> tuple[str, str] | None:
    """(user, role) behind an ``Authorization`` header, or None: HQ's token is ``("token",
    "admin")`` (``("open", "admin")`` with open reads), a session its user and role."""
    if auth.allows(authorization):
        return ("open" if auth.mode == "open" else "token"), "admin"
    token = bearer(authorization)
    if sessions is None or not token:
        return None
    return sessions.resolve(token)


def allowed(method: str, path: str, role: str) -> bool:
    """May ``role`` call ``method path`` (the canonical path)? Undeclared: admin only."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    return role in HQ_ROLES.get((method, path), frozenset({"admin"}))


TOKEN_FILE = "hq_token"
TOKEN_ENV = "KASSA_CLOUD_HQ_TOKEN"
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def permission(path: str) -> str:
    return PERMISSIONS.get(path, HQ)


# ---------------------------------------------------------------- file modes


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; tighten it if it exists."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, 0600 either way (SQLite's -wal/-shm copy the mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)
    return path


def tighten(data: Path) -> None:
    """At start: the folders and secret files an older version may have left readable."""
    for name in ("licence", "stores", "warehouse"):
        if (data / name).is_dir():
            os.chmod(data / name, PRIVATE_DIR)
    for name in (
        *(
            f"{db}{end}"
            for db in ("cloud", "master", "hqusers")
            for end in (".sqlite", ".sqlite-wal", ".sqlite-shm")
        ),
        TOKEN_FILE,
        "licence/hq_ed25519.key",
        "licence/revoked.json",
    ):
        if (data / name).is_file():
            os.chmod(data / name, PRIVATE_FILE)


# ---------------------------------------------------------------- the HQ token


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _write_token(data: Path, token: str) -> None:
    private_dir(data)
    path = data / TOKEN_FILE
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_token(data: Path | str) -> str | None:
    """The HQ token kept in ``<data>/hq_token`` (None if there is none)."""
    try:
        token = (Path(data) / TOKEN_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return token or None


def ensure_token(data: Path | str, rotate: bool = False) -> tuple[str, bool]:
    """The token in ``<data>/hq_token``, created (or replaced, with ``rotate``) if needed.
    Returns (token, created_now)."""
    data = Path(data)
    token = None if rotate else read_token(data)
    if token is not None:
        os.chmod(data / TOKEN_FILE, PRIVATE_FILE)
        return token, False
    token = new_token()
    _write_token(data, token)
    return token, True


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(authorization: str, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time (on digests, so the length of
    the real token does not leak either)."""
    scheme, _, got = authorization.partition(" ")
    ok_scheme = scheme.lower() == "bearer"
    return hmac.compare_digest(_digest(got.strip()), _digest(token)) and ok_scheme


class OpenReadsRefused(RuntimeError):
    """The cloud was asked to start with HQ reads open, without ``insecure_open_reads``."""

    code = Auth.OPEN_REFUSED


@dataclass(frozen=True, slots=True)
class HqAuth:
    mode: str  # "token" | "open"
    token: str  # empty when open
    source: str  # where the token came from: argument, environment, file
    created: bool = False  # the token file was created now

    def allows(self, authorization: str) -> bool:
        return self.mode == "open" or token_matches(authorization, self.token)

    def describe(self) -> str:
        if self.mode == "open":
            return (
                "HQ reads OPEN: revenue, member balances and the store list answer anyone "
                "(--insecure-open-reads; a lab only)"
            )
        return f"HQ reads need 'Authorization: Bearer <token>' (token from {self.source})"


def resolve(
    data: Path,
    hq_token: str | None = None,
    insecure_open_reads: bool = False,
    environ: dict[str, str] | None = None,
) -> HqAuth:
    """Decide the auth mode: an explicit token, else ``KASSA_CLOUD_HQ_TOKEN``, else the token file
    (created now if missing). An empty token given on purpose means "open", which is refused
    unless ``insecure_open_reads``."""
    env = os.environ if environ is None else environ
    if insecure_open_reads:
        return HqAuth("open", "", "--insecure-open-reads")
    if hq_token is None and TOKEN_ENV in env:
        hq_token, source = env[TOKEN_ENV], f"${TOKEN_ENV}"
    else:
        source = "the caller"
    if hq_token is not None:
        if not hq_token.strip():
            raise OpenReadsRefused(
                f"an empty HQ token ({source}) would leave revenue, member balances and the store "
                "list open to anyone; set a token, or pass --insecure-open-reads for a lab"
            )
        return HqAuth("token", hq_token.strip(), source)
    token, created = ensure_token(data)
    return HqAuth("token", token, str(Path(data) / TOKEN_FILE), created)
