"""The three fallback lines the guide's script counts, counted in bytes as ``grep -c`` does.

A line counts once per phrase it contains, wherever the phrase stands on it (a
``run_batt.py:539:`` prefix, colour codes or a progress bar in front change nothing).
A monitor's own alert line quotes ``System overloaded`` and is not an overload. The
phrases are the ones the parser greps for (a test keeps them equal).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

#: The fallback kinds, named as the parser's event kinds, and the phrase of each.
PHRASES: dict[str, str] = {
    "overload": "System overloaded",
    "processpool_failed": "ProcessPoolExecutor failed",
    "threadpool_failed": "ThreadPoolExecutor also failed",
}
KINDS: tuple[str, ...] = tuple(PHRASES)

#: An alert line of a monitor quotes the overload phrase: it is not one.
_ALERT_QUOTE = "ALERT: System overloaded detected"

_PATTERNS: dict[str, re.Pattern[bytes]] = {
    kind: re.compile(
        (rb"^(?![^\n]*" + re.escape(_ALERT_QUOTE.encode()) + rb")" if kind == "overload" else b"^")
        + rb"[^\n]*"
        + re.escape(phrase.encode()),
        re.MULTILINE,
    )
    for kind, phrase in PHRASES.items()
}


@dataclass(frozen=True)
class Fallbacks:
    """How many lines of each kind."""

    overload: int = 0
    processpool_failed: int = 0
    threadpool_failed: int = 0

    def __add__(self, other: Fallbacks) -> Fallbacks:
        return Fallbacks(
            self.overload + other.overload,
            self.processpool_failed + other.processpool_failed,
            self.threadpool_failed + other.threadpool_failed,
        )

    def of(self, kind: str) -> int:
        """The count of one kind, by its name."""
        return int(getattr(self, kind))

    def as_dict(self) -> dict[str, int]:
        """``{"overload": n, "processpool_failed": n, "threadpool_failed": n}``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, counts: dict[str, int]) -> Fallbacks:
        """The counts of :meth:`as_dict` (a missing kind is 0)."""
        return cls(**{kind: int(counts.get(kind, 0)) for kind in KINDS})


def count(lines: bytes) -> Fallbacks:
    """The fallback lines among ``lines`` (whole lines, as bytes)."""
    if not lines:
        return Fallbacks()
    found = {
        kind: len(_PATTERNS[kind].findall(lines)) if phrase.encode() in lines else 0
        for kind, phrase in PHRASES.items()
    }
    return Fallbacks(**found)
