"""The limits runs ran under, where their logs state or imply them.

The guide's 600 s timeout and 50-thread overload check are its first version's
values. Later versions echo ``Running: timeout -k 5s 64s python run_batt.py ...`` and
check for more than 40 threads (log-formats.md). So a run's timeout is the one its
``Running:`` line states (or its instance's other runs state), and the fleet's overload
threshold is the one its messages imply (``System overloaded (41 threads)`` is printed
only above a threshold of 40). ``poolwatch.toml`` and the guide's defaults apply where
the logs say nothing; each setting's source says which was used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poolwatch.config import Config, SettingName

#: Overload thresholds of the known versions of run_batt.py, highest first (log-formats.md:
#: ``threading.active_count() > 50 (40 in later versions)``).
KNOWN_THRESHOLDS: tuple[int, ...] = (50, 40)
#: Where a setting read off the logs says it came from.
LOGS = "logs"


def run_timeouts(runs: pd.DataFrame, config: Config) -> pd.Series:
    """Each run's timeout in seconds: its own ``Running:`` line's, else one its instance's
    other runs state, else the configured one."""
    stated = runs["timeout_s"].astype("Float64")
    by_instance = stated.groupby(runs["instance"], observed=True).transform("first")
    filled = stated.fillna(by_instance).fillna(config.settings.timeout.value)
    return filled.astype("float64")


def stated_limits(
    config: Config, runs: pd.DataFrame, starts: pd.DataFrame, overloads: pd.DataFrame
) -> Config:
    """``config`` with the timeout and the overload threshold the logs state or imply.

    ``runs`` is the runs table, ``starts`` the ``run_start`` events (their Running lines)
    and ``overloads`` the ``overload`` events.
    """
    return _threshold(_timeout(config, runs, starts), overloads)


def _timeout(config: Config, runs: pd.DataFrame, starts: pd.DataFrame) -> Config:
    """The timeout most runs ran under, when their Running lines state it."""
    stated = runs["timeout_s"].astype("Float64")
    if stated.isna().all():
        return config
    effective = run_timeouts(runs, config)
    value = float(effective.mode().iloc[0])
    if not (stated == value).any():
        return config
    first = runs[(stated == value).fillna(False)].iloc[0]
    line = starts[(starts["file"] == first["file"]) & (starts["run"] == first["run"])]
    where = f"{first['file']}:{int(line['line'].iloc[0] if len(line) else first['line'])}"
    count = int((stated == value).sum())
    source = f"{LOGS}: the Running: line of {count} of {len(runs)} runs (first at {where})"
    return config.stated("timeout", value, source)


def _threshold(config: Config, overloads: pd.DataFrame) -> Config:
    """The overload threshold the messages imply, when one reports no more than the
    configured threshold: run_batt.py prints its count only above its own."""
    counts = overloads["threads"].dropna()
    limit = config.settings.overload_threads.value
    if counts.empty or counts.min() > limit:
        return config
    lowest = overloads.loc[counts.index[int(np.argmin(counts.to_numpy(dtype=float)))]]
    threads = int(lowest["threads"])
    known = [k for k in KNOWN_THRESHOLDS if k < threads]
    value = float(known[0] if known else threads - 1)
    version = (
        f"the check of a version that overloads above {value:g}"
        if known
        else f"a threshold of at most {value:g}"
    )
    source = (
        f"{LOGS}: System overloaded ({threads} threads) at {lowest['file']}:"
        f"{int(lowest['line'])} is printed only above the threshold: {version}"
    )
    return config.stated("overload_threads", value, source)


def from_logs(config: Config, name: SettingName) -> bool:
    """Whether a setting's value was read off the logs."""
    return config.setting(name).source.startswith(f"{LOGS}:")
