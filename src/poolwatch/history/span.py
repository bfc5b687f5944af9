"""The days poolwatch records: none before 2000, none after tomorrow in the days' zone.

Kept apart from the store so that the command line can check ``--day`` and size its
options without loading pandas or DuckDB.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

#: The first day poolwatch records: the fleet's logs are of this century.
FIRST_DAY = date(2000, 1, 1)
#: How many days after today (in the zone of the days) a day may be: logs of a host
#: whose clock runs ahead, or summarised from a zone behind theirs.
DAYS_AHEAD = 1
#: The most days an option counts (``--days``, ``--keep``, ``--baseline-days``): a
#: century, which reaches back past FIRST_DAY.
MOST_DAYS = 36_600


def last_day(today: date) -> date:
    """The latest day that may be recorded when it is ``today`` in the days' zone."""
    return today + timedelta(days=DAYS_AHEAD)


def latest(now: datetime | None = None) -> date:
    """The latest day any zone may have recorded: ``last_day`` of the zone furthest
    ahead of UTC (UTC+14, a day ahead at most)."""
    return last_day((now or datetime.now(UTC)).astimezone(UTC).date() + timedelta(days=1))
