"""Wall-clock times from ``date`` lines, whatever the locale and zone printed them.

``date`` prints in the locale of the shell that ran it. C-locale lines, the commonest,
are read in one vectorised pass. The others are read by their parts, vectorised too:
the time, the year, and the month and day, by number (ISO, Japanese, Chinese, Korean)
or with the month by name in any language dateparser knows (``Okt``, ``oct.``, ``окт``,
``paź``), each distinct name looked up once. A line whose parts are not all there reads
as unknown (null), never as a guess: its run keeps an unknown start.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import polars as pl

#: Zone abbreviations ``date`` prints on the hosts such fleets run on (hours from UTC).
ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 1, "CET": 1,
    "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4,
    "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9,
    "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12,
    "NZDT": 13, "SGT": 8, "HKT": 8,
}  # fmt: skip
#: China Standard Time: what ``CST`` means in a line written in Chinese.
_CHINA = 8.0

#: ``date`` in the C and English locales: ``Tue Oct 14 09:36:08 [AM ]CEST 2025``.
_C_LOCALE = (
    r"^[A-Z][a-z]{2} +(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) +(?P<time>\d{1,2}:\d{2}:\d{2})"
    r"(?: (?P<ampm>[AP]M))? +(?P<zone>[A-Z]{1,5}) +(?P<year>\d{4})\s*$"
)

# The parts of a line in any locale.
_TIME = r"(\d{1,2})[:时時](\d{2})[:分](\d{2})"
#: Year, month and day by number: 2025-10-14, 2025年 10月 14日, 2025. 10. 14.
_NUMERIC_DATE = r"(\d{4}) *(?:年|[-./]) *(\d{1,2}) *(?:月|[-./]) *(\d{1,2})"
#: A four-digit year: not part of a time, an offset (+0200) or a numeric date.
_YEAR = r"(?:^|[^\d:+\-.])(\d{4})(?:[^\d:]|$)"
#: The day of a line with the month by name: a number of one or two digits on its own.
_DAY = r"(?:^|[\s,])(\d{1,2})\.?,?(?:\s|$)"
#: The weekday a line starts with, whatever its language (dropped: its names clash with
#: months' in other languages, French ``mar.`` is Tuesday).
_WEEKDAY = r"^\p{L}+\.?,?\s+"
_PM = r"(?:\b[Pp]\.? ?[Mm]\b\.?|下午|午後|오후)"
_AM = r"(?:\b[Aa]\.? ?[Mm]\b\.?|上午|午前|오전)"
#: A zone by offset after the time: +0200, +02:00, (UTC+0200), +03.
_OFFSET = r"([+-])(\d{2}):?(\d{2})?(?:\)|\s|$)"
_ZONE_NAME = r"\b([A-Z]{1,5})\b"
#: Languages whose month names are looked up (dateparser's codes): those of the hosts such
#: fleets run on; the fewer, the faster a name that is no month is ruled out.
LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk",
    "hu", "ro", "ru", "uk", "tr", "el", "bg", "hr", "sl", "sr", "lt", "lv", "et", "ca",
)  # fmt: skip


def parse_date_lines(texts: pl.Series) -> pl.Series:
    """UTC times of many ``date`` lines: C-locale ones at once, then the others by parts.
    Zone-less lines and unknown zones read as UTC; unreadable lines are null."""
    fast = _c_locale(texts)
    slow = (fast.is_null() & texts.is_not_null()).arg_true()
    if len(slow):
        fast = fast.scatter(slow, _any_locale(texts.gather(slow)))
    return fast.alias("")


def date_offset(text: str) -> timedelta | None:
    """The UTC offset a ``date`` line names, if it names a known zone."""
    hours = _zone_hours(pl.Series([text]), _after_time(pl.Series([text])))[0]
    return None if hours is None else timedelta(hours=hours)


def _c_locale(texts: pl.Series) -> pl.Series:
    """C-locale lines' UTC times (null for the others)."""
    parts = texts.str.extract_groups(_C_LOCALE).struct.unnest()
    hour = parts["time"].str.extract(r"^(\d+)", 1).cast(pl.Int32)
    frame = parts.with_columns(
        stamp=pl.concat_str(["year", "month", "day", "time"], separator=" ").str.strptime(
            pl.Datetime("us"), "%Y %b %d %H:%M:%S", strict=False
        ),
        # 12 AM is midnight, 12 PM noon; unknown zones read as UTC.
        shift=pl.col("zone").replace_strict(ZONES, default=0.0, return_dtype=pl.Float64)
        - pl.when(pl.col("ampm") == "PM").then(12.0).otherwise(0.0)
        + pl.when((pl.col("ampm").is_not_null()) & (hour == 12)).then(12.0).otherwise(0.0),
    )
    return frame.select(
        (pl.col("stamp") - pl.duration(seconds=pl.col("shift") * 3600)).dt.replace_time_zone("UTC")
    ).to_series()


def _any_locale(texts: pl.Series) -> pl.Series:
    """Lines in other locales: their UTC times from their parts (null where one is missing)."""
    numeric = texts.str.extract_groups(_NUMERIC_DATE).struct.unnest()
    time = texts.str.extract_groups(_TIME).struct.unnest()
    named = texts.str.replace(_WEEKDAY, "")
    by_number = numeric.to_series(1).cast(pl.Int32, strict=False)
    word = named.str.extract(r"(\p{L}+)", 1).str.to_lowercase()
    word = word.set(by_number.is_not_null(), None)
    frame = pl.DataFrame(
        {
            "year": numeric.to_series(0).fill_null(texts.str.extract(_YEAR, 1)),
            "month": by_number.fill_null(_month_numbers(word)),
            "day": numeric.to_series(2).fill_null(named.str.extract(_DAY, 1)),
            "hour": time.to_series(0).cast(pl.Int32),
            "minute": time.to_series(1),
            "second": time.to_series(2),
            "pm": texts.str.contains(_PM),
            "am": texts.str.contains(_AM),
            "zone": _zone_hours(texts, _after_time(texts)).fill_null(0.0),
        }
    )
    hour = (  # 12 AM is midnight, 1 PM is 13
        pl.when(pl.col("pm") & (pl.col("hour") < 12))
        .then(pl.col("hour") + 12)
        .when(pl.col("am") & (pl.col("hour") == 12))
        .then(0)
        .otherwise(pl.col("hour"))
    )
    two = [
        column.cast(pl.String).str.zfill(2)
        for column in (pl.col("month"), pl.col("day"), hour, pl.col("minute"), pl.col("second"))
    ]
    local = pl.format("{}-{}-{} {}:{}:{}", pl.col("year"), *two).str.strptime(
        pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False
    )
    utc = frame.select(local - pl.duration(seconds=pl.col("zone") * 3600)).to_series()
    return utc.dt.replace_time_zone("UTC")


def _after_time(texts: pl.Series) -> pl.Series:
    """What a line has after its time (where its zone is)."""
    return texts.str.extract(_TIME + r"(.*)$", 4)


def _zone_hours(texts: pl.Series, after: pl.Series) -> pl.Series:
    """Hours from UTC of the zone after the time: an offset, else a known name (``CST`` in
    a line written in Chinese is China's)."""
    offset = after.str.extract_groups(_OFFSET).struct.unnest()
    names = after.str.extract_all(_ZONE_NAME)
    frame = pl.DataFrame(
        {
            "sign": offset.to_series(0),
            "hours": offset.to_series(1).cast(pl.Float64),
            "minutes": offset.to_series(2).cast(pl.Float64).fill_null(0.0),
            "name": names.list.eval(
                pl.element().filter(pl.element().is_in(list(ZONES)))
            ).list.first(),
            "chinese": texts.str.contains(r"\p{Han}"),
        }
    )
    sign = pl.when(pl.col("sign") == "-").then(-1.0).otherwise(1.0)
    by_offset = sign * (pl.col("hours") + pl.col("minutes") / 60)
    by_name = (
        pl.when(pl.col("chinese") & (pl.col("name") == "CST"))
        .then(_CHINA)
        .otherwise(pl.col("name").replace_strict(ZONES, default=None, return_dtype=pl.Float64))
    )
    return frame.select(pl.coalesce(by_offset, by_name)).to_series()


def _month_numbers(words: pl.Series) -> pl.Series:
    """The month each word names in one of ``LANGUAGES``; null where it names none."""
    known = {word: _month_number(word) for word in words.drop_nulls().unique().to_list()}
    return words.replace_strict(known, default=None, return_dtype=pl.Int32)


@cache
def _month_number(word: str) -> int | None:
    """The month a word names, in dateparser's language data (``okt``: 10)."""
    # dateparser loads (a tenth of a second, then its languages' data) only for a date
    # line that is not in the C locale.
    import dateparser  # noqa: PLC0415

    found = dateparser.parse(
        f"15 {word} 2001", languages=list(LANGUAGES), settings={"REQUIRE_PARTS": ["month"]}
    )
    return None if found is None else found.month
