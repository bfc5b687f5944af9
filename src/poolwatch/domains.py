"""The values a threshold or setting may take, by its unit, and how a refused value is
quoted back: short, whatever its size or type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time


@dataclass(frozen=True)
class Domain:
    """A closed range of numbers, whole ones only when ``whole``."""

    least: float
    most: float
    whole: bool = False

    def words(self) -> str:
        """``a whole number from 1 to 10000``, ``a number from 0 to 100``."""
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.least:g} to {self.most:g}"

    def holds(self, value: int | float) -> bool:
        """Whether ``value`` (finite or not, of any size) is in the domain."""
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if not self.least <= value <= self.most:
            return False
        return not self.whole or float(value).is_integer()


#: The domain of every threshold and setting, by unit. Counts (instances, workers,
#: threads) are whole and at least one; a share of runs is a percentage; a timeout is at
#: least a second and at most a week.
DOMAINS: dict[str, Domain] = {
    "instances": Domain(1, 10_000, whole=True),
    "workers": Domain(1, 1_024, whole=True),
    "threads": Domain(1, 100_000, whole=True),
    "s": Domain(1, 7 * 24 * 3600),
    "%": Domain(0, 100),
}

#: How many characters of a refused text or name are quoted back.
QUOTED = 40


def number_in(value: object, domain: Domain) -> float | None:
    """``value`` as a float when it is a TOML number in ``domain``, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if domain.holds(value) else None


def said(value: object) -> str:
    """A TOML value as a refusal quotes it: ``nan``, ``1e+29``, ``'many'``, ``an array``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else "a whole number of more than 19 digits"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return short(value)
    return _kind(value)


def short(text: str) -> str:
    """``text`` quoted, cut to its first characters when long."""
    if len(text) <= QUOTED:
        return repr(text)
    return f"{text[:QUOTED]!r}... ({len(text):,} characters)"


def key_words(key: str) -> str:
    """A key as a message names it, cut to its first characters when long."""
    return key if len(key) <= QUOTED else f"{key[:QUOTED]}... ({len(key):,} characters)"


def _kind(value: object) -> str:
    """What a TOML value that is not a number or a string is."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__
