"""Numbers read off log lines, and what one out of range reads as: unknown (null).

A log line can carry any number of digits (a typo, a corrupted line, a hostile file);
the line is kept whatever its numbers, and a number its column cannot hold is null.
Counts are Int32. Seconds are Float64 but bounded like the counts: beyond 2**31 - 1 s
(68 years) no timeout, duration or limit means anything, and times built from one
would overflow.
"""

from __future__ import annotations

import polars as pl

INT32_MAX = 2**31 - 1
#: The most seconds a field is read as (the same bound as a count's).
MAX_SECONDS = float(INT32_MAX)


def int32(expr: pl.Expr) -> pl.Expr:
    """Digits (or a wider integer) as Int32; null when out of range."""
    return expr.cast(pl.Int32, strict=False)


def magnitude(digits: pl.Expr) -> pl.Expr:
    """The size of a signed count written in digits (``-c -32`` asks for 32), as Int32;
    null when out of range."""
    return int32(digits.str.strip_prefix("-"))


def seconds(expr: pl.Expr) -> pl.Expr:
    """A number of seconds as Float64; null unless finite and between 0 and MAX_SECONDS."""
    value = expr.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite() & value.is_between(0, MAX_SECONDS)).then(value)
