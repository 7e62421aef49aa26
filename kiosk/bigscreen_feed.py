"""The big screen's link to the store, on a thread of its own: sign in with the display
credential, load the summary, then long-poll the sales feed (``GET /v1/events?scope=sales``)
from the summary's ``as_of_seq``, moving on with ``X-Kassa-Next-After``.

Whatever happens to the store or the network, the thread keeps trying with back-off (0.5 s
doubling to 10 s) and says so (``("state", "reconnecting", reason)``); after a reconnect it loads
the summary again (cheap) and reads the feed on from there, so sales made meanwhile are counted
once. A refused credential (revoked, locked) is reported as ``("state", "refused", code)`` and
retried slowly. Messages for the Tk thread go into ``messages`` (a queue): ``("summary", dict)``,
``("events", list)``, ``("state", name, detail)``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.api_errors import ApiError, Offline
from kiosk.client import Session, StoreClient

__all__ = ["Credential", "Feed", "load_credential", "save_credential"]

log = logging.getLogger(__name__)
WAIT_S = 20.0  # long-poll: the store answers at once when a sale commits
REFRESH_S = 600.0  # load the summary again now and then ("last week at this time" moves on)


@dataclass(frozen=True)
class Credential:
    """A display account (role ``display``: the sales feed and the summary, nothing else) and
    the till id it signs in at."""

    staff: str
    pin: str
    till: str = "BIGSCREEN"

    def to_dict(self) -> dict[str, str]:
        return {"staff": self.staff, "pin": self.pin, "till": self.till}


def load_credential(path: Path) -> Credential:
    d = json.loads(Path(path).read_text())
    return Credential(str(d["staff"]), str(d["pin"]), str(d.get("till") or "BIGSCREEN"))


def save_credential(path: Path, cred: Credential) -> Path:
    """Write the credential readable by its owner only (0600), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cred.to_dict(), f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


class Feed:
    def __init__(self, server: str, cred: Credential, pin_file: Path | None = None) -> None:
        self.client = StoreClient(server, cred.till, timeout=WAIT_S + 10.0, pin_file=pin_file)
        self.cred = cred
        self.messages: queue.Queue[tuple] = queue.Queue()
        self.stop_event = threading.Event()
        self.reload = threading.Event()  # the Tk side asks for a fresh summary (a new day)
        self.thread = threading.Thread(target=self.run, name="bigscreen-feed", daemon=True)

    def start(self) -> Feed:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    # ------------------------------------------------------------ the loop
    def sign_in(self) -> None:
        out = self.client.post(
            "/v1/sessions",
            {
                "id": f"bigscreen-{time.time_ns()}",
                "staff": self.cred.staff,
                "pin": self.cred.pin,
                "till": self.cred.till,
            },
        )
        self.client.session = Session(self.cred.staff, role="display", token=str(out["token"]))

    def step(self, after: int | None) -> int:
        """One round: sign in and load the summary if needed, then one long-poll of the feed.
        Answers the seq to read after next."""
        if self.client.session is None:
            self.sign_in()
        if after is None or self.reload.is_set():
            self.reload.clear()
            s = self.client.get("/v1/bigscreen/summary")
            self.messages.put(("summary", s))
            self.messages.put(("state", "live", ""))
            self.loaded_at = time.monotonic()
            after = int(s["as_of_seq"])
        events = self.client.get("/v1/events", scope="sales", after=after, wait=WAIT_S)
        if events:
            self.messages.put(("events", events))
            after = max(after, max(int(e["seq"]) for e in events))
        nxt = self.client.last_header("X-Kassa-Next-After")
        if nxt.isdigit():
            after = max(after, int(nxt))
        if time.monotonic() - self.loaded_at > REFRESH_S:
            self.reload.set()
        return after

    def run(self) -> None:
        after: int | None = None
        self.loaded_at = 0.0
        delay = 0.5
        while not self.stop_event.is_set():
            try:
                after = self.step(after)
                delay = 0.5
                continue
            except Offline as exc:
                state, detail = "reconnecting", exc.message
                after = None  # load the summary again once the store answers
            except ApiError as exc:
                signed_in = self.client.session is not None
                self.client.session = None
                after = None
                if exc.status == 401 and signed_in:  # the session ended: sign in again
                    continue
                # a wrong or revoked credential, a locked account, a throttled address
                refused = exc.status in (401, 403, 429)
                state, detail = ("refused" if refused else "reconnecting"), exc.code
                delay = max(delay, 5.0) if refused else delay
            except Exception as exc:  # never a traceback on the wall: say it and try again
                log.warning("big screen feed: %s", exc, exc_info=True)
                state, detail = "reconnecting", type(exc).__name__
                after = None
            self.messages.put(("state", state, detail))
            self.stop_event.wait(delay)
            delay = min(delay * 2, 10.0)

    def drain(self) -> list[tuple]:
        out: list[tuple] = []
        while True:
            try:
                out.append(self.messages.get_nowait())
            except queue.Empty:
                return out
