"""Wall-clock times from ``date`` lines, whatever the locale and zone printed them."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
from dateutil import parser as dateparser

#: Zone abbreviations ``date`` prints on the hosts such fleets run on (hours from UTC).
ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 1, "CET": 1,
    "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4,
    "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9,
    "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12,
    "NZDT": 13, "SGT": 8, "HKT": 8,
}  # fmt: skip

_TZINFOS = {name: timezone(timedelta(hours=hours)) for name, hours in ZONES.items()}


_MONTHS: list[tuple[str, ...]] = [
    ("Jan", "January", "Januar", "janv", "janvier", "ene", "enero", "Jän"),
    ("Feb", "February", "Februar", "févr", "février", "feb", "febrero"),
    ("Mar", "March", "März", "Mär", "mars", "marzo"),
    ("Apr", "April", "avr", "avril", "abr", "abril"),
    ("May", "May", "Mai", "mai", "may", "mayo"),
    ("Jun", "June", "Juni", "juin", "junio"),
    ("Jul", "July", "Juli", "juil", "juillet", "julio"),
    ("Aug", "August", "août", "ago", "agosto"),
    ("Sep", "Sept", "September", "sept", "septembre", "septiembre"),
    ("Oct", "October", "Okt", "Oktober", "oct", "octobre", "octubre"),
    ("Nov", "November", "nov", "novembre", "noviembre"),
    ("Dec", "December", "Dez", "Dezember", "déc", "décembre", "dic", "diciembre"),
]


class _LocaleInfo(dateparser.parserinfo):
    """dateutil's English month names plus the German, French and Spanish ones."""

    # dateutil accepts any number of spellings per entry; its stubs say two or three.
    MONTHS = _MONTHS  # type: ignore[assignment]


_INFO = _LocaleInfo()


def _parse_local(text: str) -> datetime | None:
    """The time a ``date`` line shows, in the zone it names (naive if it names none)."""
    # ``date`` starts with the weekday in every locale; its names clash with months
    # (French "mar." is Tuesday), so it is dropped rather than looked up.
    cleaned = text.replace(".", " ").replace(",", " ").split(maxsplit=1)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
        try:
            return dateparser.parse(cleaned, parserinfo=_INFO, tzinfos=_TZINFOS, fuzzy=True)
        except (ValueError, OverflowError):
            return None


def date_offset(text: str) -> timedelta | None:
    """The UTC offset a ``date`` line names, if it names a known zone."""
    stamp = _parse_local(text)
    return None if stamp is None else stamp.utcoffset()


def parse_date_line(text: str) -> datetime | None:
    """The UTC time a ``date`` line shows; zone-less or unknown zones are read as UTC."""
    stamp = _parse_local(text)
    if stamp is None:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


#: ``date`` in the C and English locales: ``Tue Oct 14 09:36:08 [AM ]CEST 2025``.
_C_LOCALE = (
    r"^[A-Z][a-z]{2} +(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) +(?P<time>\d{1,2}:\d{2}:\d{2})"
    r"(?: (?P<ampm>[AP]M))? +(?P<zone>[A-Z]{1,5}) +(?P<year>\d{4})\s*$"
)


def parse_date_lines(texts: pl.Series) -> pl.Series:
    """UTC times of many ``date`` lines: C-locale ones vectorised, the rest one by one."""
    parts = texts.str.extract_groups(_C_LOCALE).struct.unnest()
    hour = parts["time"].str.extract(r"^(\d+)", 1).cast(pl.Int32)
    frame = parts.with_columns(
        stamp=pl.concat_str(["year", "month", "day", "time"], separator=" ").str.strptime(
            pl.Datetime("us"), "%Y %b %d %H:%M:%S", strict=False
        ),
        # 12 AM is midnight, 12 PM noon; unknown zones read as UTC, like dateutil's.
        shift=pl.col("zone").replace_strict(ZONES, default=0.0, return_dtype=pl.Float64)
        - pl.when(pl.col("ampm") == "PM").then(12.0).otherwise(0.0)
        + pl.when((pl.col("ampm").is_not_null()) & (hour == 12)).then(12.0).otherwise(0.0),
    )
    fast = frame.select(
        (pl.col("stamp") - pl.duration(seconds=pl.col("shift") * 3600)).dt.replace_time_zone("UTC")
    ).to_series()
    slow = (fast.is_null() & texts.is_not_null()).arg_true()
    if len(slow):
        found = [parse_date_line(text) for text in texts.gather(slow).to_list()]
        fast = fast.scatter(slow, pl.Series(found, dtype=pl.Datetime("us", "UTC")))
    return fast.alias("")
