"""Tell a keyboard-wedge barcode scanner from a person typing.

A scanner "types" the whole code in a burst (a few ms between keys) and ends with Enter; a person
types far slower. ``ScanDetector`` watches key presses with their times: when Enter ends a burst of
at least ``min_len`` characters whose gaps were all at most ``max_gap_ms``, it is a scan. Anything
else is typing (e.g. a search by name), and the detector says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ScanDetector"]


@dataclass
class ScanDetector:
    max_gap_ms: int = 50
    min_len: int = 4
    buf: list[str] = field(default_factory=list)
    last_ms: int | None = None
    fast: bool = True

    def reset(self) -> None:
        self.buf.clear()
        self.last_ms = None
        self.fast = True

    def key(self, char: str, t_ms: int) -> None:
        """A printable key at time ``t_ms`` (Tk's event.time)."""
        if self.last_ms is not None and t_ms - self.last_ms > self.max_gap_ms and self.buf:
            self.fast = False
        if not self.buf:
            self.fast = True
        self.buf.append(char)
        self.last_ms = t_ms

    def enter(self, t_ms: int) -> str | None:
        """Enter at ``t_ms``: returns the scanned code if this was a scanner burst, else None."""
        code = "".join(self.buf)
        burst = (
            self.fast
            and len(code) >= self.min_len
            and self.last_ms is not None
            and t_ms - self.last_ms <= self.max_gap_ms
        )
        self.reset()
        return code if burst else None
