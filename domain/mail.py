"""The alert mail's settings (store.json ``smtp``) and the text of one message.

``{"host": "mail.example", "port": 587, "starttls": true, "user": "kassa",
"password_file": "/etc/kassa/smtp_password", "from": "kassa@shop.example", "to": ["boss@shop"]}``:
no ``host`` (the default) means no mail. The password is never in store.json: ``password_file``
names a file only the store's account may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.error_codes.replenish import Replenish
from domain.errors import InvalidInput

__all__ = ["SmtpSettings", "compose", "KEYS"]

KEYS = ("host", "port", "starttls", "user", "password_file", "from", "to")


def _bad(text: str, key: str) -> InvalidInput:
    return InvalidInput(Replenish.BAD_SETTING, text, field=key)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    starttls: bool = False
    user: str = ""
    password_file: str = ""
    sender: str = ""
    to: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.to)

    @classmethod
    def from_dict(cls, d: Any) -> SmtpSettings:
        if not d:
            return cls()
        if not isinstance(d, dict):
            raise _bad("smtp is an object", "smtp")
        unknown = set(d) - set(KEYS)
        if unknown:
            raise _bad(f"unknown setting smtp.{min(unknown)}", min(unknown))
        texts = {}
        for key in ("host", "user", "password_file", "from"):
            v = d.get(key, "")
            if not isinstance(v, str) or len(v) > 300 or "\n" in v or "\r" in v:
                raise _bad(f"smtp.{key} is one line of text", key)
            texts[key] = v.strip()
        port = d.get("port", 25)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise _bad("smtp.port is a whole number 1–65535", "port")
        if not isinstance(d.get("starttls", False), bool):
            raise _bad("smtp.starttls is true or false", "starttls")
        to = d.get("to", [])
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not all(
            isinstance(a, str) and "@" in a and "\n" not in a and len(a) <= 300 for a in to
        ):
            raise _bad("smtp.to is a list of e-mail addresses", "to")
        if texts["host"] and not texts["from"]:
            raise _bad("smtp.from is needed with smtp.host", "from")
        return cls(
            texts["host"],
            port,
            bool(d.get("starttls", False)),
            texts["user"],
            texts["password_file"],
            texts["from"],
            tuple(a.strip() for a in to),
        )


def compose(
    store: str, name: str, raised: Mapping[str, str], cleared: Mapping[str, str]
) -> tuple[str, str]:
    """(subject, body) of the message telling that alerts were ``raised`` and ``cleared`` (each
    key → one line saying what it is)."""
    parts = []
    if raised:
        parts.append(f"{len(raised)} new")
    if cleared:
        parts.append(f"{len(cleared)} cleared")
    subject = f"[kassa {store}] alerts: {', '.join(parts)}"
    lines = [f"Store {store} ({name}).", ""]
    if raised:
        lines += ["New alerts:", *(f"  - {raised[k]}" for k in sorted(raised)), ""]
    if cleared:
        lines += ["Cleared:", *(f"  - {cleared[k]}" for k in sorted(cleared)), ""]
    lines.append("The manager counter's Health tab shows what is raised now.")
    return subject, "\n".join(lines) + "\n"
