"""Thresholds and settings: the guide's defaults, ``poolwatch.toml`` overrides, provenance.

Every number of the monitoring guide that poolwatch judges by lives here, once, with
the guide table it comes from. A ``poolwatch.toml`` (found in the working directory,
or given with ``--config``) overrides any of them; each effective value remembers
where it came from, because the guide itself expects thresholds to be tuned
("Reduce threshold (50 → 30)").
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

from poolwatch.domains import DOMAINS, key_words, number_in, said
from poolwatch.errors import PoolwatchError
from poolwatch.smallfile import SmallFileError
from poolwatch.states import Grade
from poolwatch.tomlfile import TomlError, read_toml

DEFAULT_FILE = "poolwatch.toml"
GUIDE = "guide"


class ConfigError(PoolwatchError):
    """A configuration file the user gave cannot be used; the message says where and why."""

    exit_code = 2  # a bad option value, as click's usage errors


@dataclass(frozen=True)
class Band:
    """One row of the guide's "Health Check Thresholds" table.

    A value below ``warning`` is healthy, from ``warning`` up to ``critical`` is a
    warning, and above ``critical`` is critical: the table's "50-80" reads 50 as a
    warning and 81 as critical, and "10-30%" reads exactly 30 % as a warning. Where
    the healthy column is a single value ("0%"), the warning starts above it.
    """

    name: str
    title: str
    """The row's metric as the guide's table names it."""
    unit: str
    warning: float
    critical: float
    action: str
    source: str = f"{GUIDE}: Health Check Thresholds"
    warning_inclusive: bool = True

    def ranges(self) -> tuple[str, str, str]:
        """The healthy, warning and critical ranges as every report words them."""
        return worded_ranges(self.warning, self.critical, self.unit,
                             warning_inclusive=self.warning_inclusive)  # fmt: skip

    def grade(self, value: float | None) -> Grade:
        """``healthy``, ``warning``, ``critical``, or ``unknown`` without a value."""
        if value is None:
            return Grade.UNKNOWN
        if value > self.critical:
            return Grade.CRITICAL
        warned = value >= self.warning if self.warning_inclusive else value > self.warning
        return Grade.WARNING if warned else Grade.HEALTHY


def worded_ranges(
    warning: float, critical: float, unit: str, *, warning_inclusive: bool = True
) -> tuple[str, str, str]:
    """A band's healthy, warning and critical ranges in the guide's words (``< 50``,
    ``50-80``, ``> 80``; ``0%``, ``> 0-5%``, ``> 5%``): the one wording of every output,
    tables, tickets, the thresholds listing and the charts' band labels."""
    shown = "" if unit == "threads" else unit
    low, high = f"{warning:g}{shown}", f"{critical:g}{shown}"
    if warning_inclusive:
        return f"< {low}", f"{warning:g}-{high}", f"> {high}"
    healthy = low if warning == 0 else f"<= {low}"
    return healthy, f"> {warning:g}-{high}", f"> {high}"


class Bands(NamedTuple):
    """The thresholds table's rows, each an attribute (``config.bands.thread_count``)."""

    thread_count: Band
    processpool_fallback_rate: Band
    threadpool_fallback_rate: Band
    timeout_rate: Band
    threads_per_instance: Band


class Settings(NamedTuple):
    """The fleet's settings, each an attribute (``config.settings.timeout.value``)."""

    instances: Setting
    timeout: Setting
    overload_threads: Setting
    processpool_workers: Setting


class Watch(NamedTuple):
    """The "Summary: What to Watch" numbers, each an attribute."""

    processpool_used: Setting
    fallback_rate: Setting
    processpool_fallback: Setting
    threadpool_fallback: Setting
    most_of_the_time: Setting
    occasional: Setting
    frequent: Setting


#: The guide's "Health Check Thresholds" table, row by row.
GUIDE_BANDS = Bands(
    Band("thread_count", "Thread count", "threads", 50, 80, "Reduce concurrent instances"),
    Band("processpool_fallback_rate", "ProcessPool fallback", "%", 10, 30,
         "Add memory or reduce workers"),
    Band("threadpool_fallback_rate", "ThreadPool fallback", "%", 5, 15,
         "Reduce concurrent instances"),
    # "0% / < 5% / > 5%": any timeout is a warning; more than 5 % of runs is critical.
    Band("timeout_rate", "Script timeouts", "%", 0, 5, "Investigate hangs",
         warning_inclusive=False),
    Band("threads_per_instance", "Active threads per instance", "threads", 15, 25,
         "Resource leak?"),
)  # fmt: skip


@dataclass(frozen=True)
class Metric:
    """A figure the reports compare day to day and before and after: its key (summary.json's
    and the history store's), how each output names it, and its unit."""

    id: str
    label: str
    """In tables, the daily index and the before/after section (``ProcessPool fallback``):
    a row of the thresholds table is named by its title there."""
    unit: str
    heading: str
    """In the terminal's trend table, short (``PP fallback %``)."""
    axis: str = ""
    """What a trend chart's axis measures (``% of runs``); empty: not drawn."""

    @property
    def axis_title(self) -> str:
        """A trend chart's axis: ``ProcessPool fallback (% of runs)``."""
        return f"{self.label} ({self.axis})"


def _banded(key: BandName, heading: str, axis: str) -> Metric:
    """A row of the thresholds table as a compared figure, named by the row's title."""
    band: Band = getattr(GUIDE_BANDS, key)
    return Metric(key, band.title, band.unit, heading, axis)


#: The figures kept day by day, each named once; those with an axis are drawn on the
#: trend charts, in this order (every one is a band of the thresholds table).
METRICS: tuple[Metric, ...] = (
    _banded("processpool_fallback_rate", "PP fallback %", "% of runs"),
    _banded("threadpool_fallback_rate", "TP fallback %", "% of runs"),
    _banded("timeout_rate", "timeouts %", "% of runs"),
    Metric("sequential_rate", "Sequential runs", "%", "sequential %"),
    _banded("thread_count", "threads", "peak per process"),
    Metric("runs", "Runs", "runs", "runs"),
)  # fmt: skip
#: The metrics on the trend charts.
TRENDED: tuple[Metric, ...] = tuple(m for m in METRICS if m.axis)


def metric(key: str) -> Metric:
    """A metric of ``METRICS`` by its key."""
    return next(m for m in METRICS if m.id == key)


@dataclass(frozen=True)
class Setting:
    """A single number the fleet runs with, as the guide describes it."""

    name: str
    value: float
    unit: str
    doc: str
    source: str


#: The fleet's own settings, as the guide describes them.
GUIDE_SETTINGS = Settings(
    Setting("instances", 8, "instances", "concurrent run_card.sh instances",
            f"{GUIDE}: Expected Production Patterns"),
    Setting("timeout", 600, "s", "run_card.sh kills a run after this",
            f"{GUIDE}: Script Timeout"),
    Setting("overload_threads", 50, "threads", "run_batt.py's overload check",
            f"{GUIDE}: High Load"),
    Setting("processpool_workers", 3, "workers", "ProcessPoolExecutor workers",
            f"{GUIDE}: Normal Operation"),
)  # fmt: skip


_WATCH = f"{GUIDE}: Summary: What to Watch"

#: The numbers of the guide's "Summary: What to Watch" flags. "Occasional",
#: "frequent" and "most of the time" are the guide's words; poolwatch reads them as
#: shares of runs, the guide's unit elsewhere ("appearing in > 30% of runs").
GUIDE_WATCH = Watch(
    Setting("processpool_used", 70, "%", "green: ProcessPoolExecutor used in more runs", _WATCH),
    Setting("fallback_rate", 20, "%", "green: ProcessPool fallback in fewer runs", _WATCH),
    Setting("processpool_fallback", 20, "%", "yellow from, red above the critical band",
            _WATCH),
    Setting("threadpool_fallback", 10, "%", "yellow from, red above the critical band", _WATCH),
    Setting("most_of_the_time", 50, "%", "of runs: 'Thread count < 50 most of the time'",
            _WATCH),
    # The guide's Healthy Production has one run in ten on sequential processing and
    # calls a 10-20 % fallback rate acceptable: "occasional" starts above that.
    Setting("occasional", 20, "%", "of runs, above which something is 'occasional'", _WATCH),
    Setting("frequent", 30, "%", "of runs, above which something is 'frequent'", _WATCH),
)  # fmt: skip

#: "Health Check Thresholds", Active threads per instance, "Resource leak?": the fewest
#: samples of one run over which its thread count must rise at every sample to climb
#: (log-formats.md: "a count that climbs from snapshot to snapshot for one instance").
LEAK_SAMPLES = 3

#: "Performance Expectations", Normal Load: expected seconds to score a task's samples
#: on the ProcessPool, at a few sample counts (between them, interpolated).
NORMAL_SECONDS: tuple[tuple[float, float, float], ...] = (
    (2.5, 1.0, 2.0),  # 2-3 samples: ~1-2 s
    (7.0, 2.0, 4.0),  # 6-8 samples: ~2-4 s
    (32.0, 10.0, 20.0),  # 32+ samples: ~10-20 s
)
#: "Performance Expectations", High and Extreme Load: slowdown against normal.
SLOWDOWN: dict[str, tuple[float, float]] = {
    "process": (1.0, 1.0),
    "thread": (1.5, 2.0),
    "sequential": (2.0, 3.0),
}


# --- the numbers of the guide's solutions, which the actions fill in -----------------------

#: Quick Diagnostics 3, "Increase timeout (600s → 900s)": a multiple of the current timeout.
TIMEOUT_RAISE = 1.5
#: poolwatch's cap on a raised timeout, a multiple of the current one: a run that needs
#: more was stuck, or its batch wants splitting, not a longer limit.
TIMEOUT_RAISE_MOST = 2.0
#: Quick Diagnostics 1, "Increase threshold (50 → 70) if system stable".
THRESHOLD_RAISE = 20.0
#: The decision tree's "Reduce threshold (50 → 30)" after exhaustion above its 80
#: threads, and Quick Diagnostics 3's "Reduce thread threshold (50 → 30-40)" otherwise.
THRESHOLD_AFTER_EXHAUSTION = 30.0
THRESHOLD_LOWERED = 40.0
#: The least a lowered threshold drops by (a version checking at 40 goes to 30).
THRESHOLD_STEP = 10.0
#: Quick Diagnostics 4, "Reduce concurrent instances significantly (8 → 2-3)": the share
#: of instances that remains, at most.
SEVERE_INSTANCES = 3 / 8
#: Overloaded Production's ACTION, "Reduce instances from 8 to 4": the share that remains.
OVERLOADED_INSTANCES = 4 / 8
#: Instances are scaled by the overload threshold over this quantile of the thread
#: counts reported (poolwatch's reading of Quick Diagnostics 1, "8 → 4-6").
THREAD_QUANTILE = 0.9
#: Quick Diagnostics 2, "Reduce ProcessPoolExecutor workers (3 → 2)": workers removed.
WORKERS_LESS = 1.0


#: The names of the thresholds table's rows, the settings and the What-to-Watch numbers:
#: a lookup by a name that does not exist is a type error.
BandName = Literal[
    "thread_count", "processpool_fallback_rate", "threadpool_fallback_rate", "timeout_rate",
    "threads_per_instance",
]  # fmt: skip
SettingName = Literal["instances", "timeout", "overload_threads", "processpool_workers"]
WatchName = Literal[
    "processpool_used", "fallback_rate", "processpool_fallback", "threadpool_fallback",
    "most_of_the_time", "occasional", "frequent",
]  # fmt: skip


@dataclass(frozen=True)
class Config:
    """The effective thresholds and settings, each with where it came from."""

    bands: Bands = GUIDE_BANDS
    settings: Settings = GUIDE_SETTINGS
    watch: Watch = GUIDE_WATCH
    path: Path | None = None

    def band(self, name: BandName) -> Band:
        """A threshold row named by a variable (else ``bands.<name>``)."""
        band: Band = getattr(self.bands, name)
        return band

    def graded(self, key: str) -> Band | None:
        """The threshold row that grades a metric (``METRICS``' keys), if one does."""
        return next((b for b in self.bands if b.name == key), None)

    def setting(self, name: SettingName) -> Setting:
        """A setting named by a variable (else ``settings.<name>``)."""
        setting: Setting = getattr(self.settings, name)
        return setting

    def watching(self, name: WatchName) -> float:
        """A "What to Watch" number named by a variable (else ``watch.<name>.value``)."""
        setting: Setting = getattr(self.watch, name)
        return setting.value

    def stated(self, name: SettingName, value: float, source: str) -> Config:
        """This configuration with a setting the logs state (``source`` says where)."""
        stated = replace(self.setting(name), value=value, source=source)
        return replace(self, settings=self.settings._replace(**{name: stated}))


def load(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """The guide's defaults, overridden by ``path`` or by ``poolwatch.toml`` in ``cwd``.

    A ``poolwatch.toml`` in ``cwd`` that is there but unusable (a directory, a broken
    link, not TOML) is refused like a file given with ``--config``, never ignored.
    """
    if path is None:
        found = (cwd or Path.cwd()) / DEFAULT_FILE
        if not os.path.lexists(found):
            return Config()
        path = found
    return _ordered(_apply(Config(path=path), _read(path), path), path)


def _read(path: Path) -> dict[str, Any]:
    """The TOML document, or a one-line error naming the file."""
    try:
        return read_toml(path)
    except FileNotFoundError as err:
        broken = " (a broken symbolic link)" if path.is_symlink() else ""
        raise ConfigError(f"{path}: no such file{broken}") from err
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror or err}") from err
    except SmallFileError as err:
        raise ConfigError(str(err)) from err
    except TomlError as err:
        raise ConfigError(f"{path}: {err}") from err


def _apply(config: Config, document: Mapping[str, Any], path: Path) -> Config:
    """Override the defaults with a parsed ``poolwatch.toml``."""
    unknown = set(document) - {"thresholds", "settings", "watch"}
    if unknown:
        raise ConfigError(f"{path}: unknown section {key_words(sorted(unknown)[0])!r} "
                          "(expected [thresholds], [settings] or [watch])")  # fmt: skip
    bands = Bands(
        *(
            _override_band(band, _table(document, "thresholds", band.name, path), path)
            for band in config.bands
        )
    )
    _refuse_unknown(document.get("thresholds", {}), {b.name for b in bands}, "thresholds", path)
    return replace(
        config,
        bands=bands,
        settings=Settings(*_override_section(config.settings, document, "settings", path)),
        watch=Watch(*_override_section(config.watch, document, "watch", path)),
    )


def _override_section(
    defaults: tuple[Setting, ...], document: Mapping[str, Any], section: str, path: Path
) -> tuple[Setting, ...]:
    """One section of named numbers with the file's values."""
    table = _section(document, section, path)
    _refuse_unknown(table, {s.name for s in defaults}, section, path)
    return tuple(_override_setting(s, table.get(s.name), path, section) for s in defaults)


def _section(document: Mapping[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    """A top-level table (empty if absent)."""
    section = document.get(name, {})
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return section


def _table(document: Mapping[str, Any], section: str, name: str, path: Path) -> Mapping[str, Any]:
    """``[section.name]``, empty if absent."""
    table = _section(document, section, path).get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [{section}.{name}] must be a table with warning/critical")
    return table


def _refuse_unknown(table: Mapping[str, Any], known: set[str], section: str, path: Path) -> None:
    """A one-line error for the first key the section does not know."""
    for key in table:
        if key not in known:
            named = f"{section}.{key_words(key)}"
            raise ConfigError(f"{path}: unknown key {named} (known: {', '.join(sorted(known))})")


def _override_band(band: Band, table: Mapping[str, Any], path: Path) -> Band:
    """A threshold row with the file's warning/critical values."""
    for key in table:
        if key not in ("warning", "critical"):
            raise ConfigError(f"{path}: unknown key thresholds.{band.name}.{key_words(key)} "
                              "(expected warning or critical)")  # fmt: skip
    if not table:
        return band
    key = f"thresholds.{band.name}"
    warning = _number(table.get("warning", band.warning), f"{key}.warning", band.unit, path)
    critical = _number(table.get("critical", band.critical), f"{key}.critical", band.unit, path)
    if warning > critical:
        raise ConfigError(f"{path}: {key}: warning ({warning:g}) is above critical ({critical:g})")
    return replace(band, warning=warning, critical=critical, source=str(path))


def _override_setting(setting: Setting, value: object, path: Path, section: str) -> Setting:
    """A setting with the file's value, if it gives one."""
    if value is None:
        return setting
    number = _number(value, f"{section}.{setting.name}", setting.unit, path)
    return replace(setting, value=number, source=str(path))


def _number(value: object, key: str, unit: str, path: Path) -> float:
    """A number in the domain of its unit, or a one-line error naming the key and the
    domain."""
    domain = DOMAINS[unit]
    number = number_in(value, domain)
    if number is None:
        raise ConfigError(f"{path}: {key} must be {domain.words()}, not {said(value)}")
    return number


#: Limits one of which must not be above the other, as (lower, upper): the "What to
#: Watch" yellow bands run from the lower to the upper.
_ORDER: tuple[tuple[str, str], ...] = (
    ("watch.occasional", "watch.frequent"),
    ("watch.processpool_fallback", "thresholds.processpool_fallback_rate.critical"),
    ("watch.threadpool_fallback", "thresholds.threadpool_fallback_rate.critical"),
)


def _ordered(config: Config, path: Path) -> Config:
    """``config``, refused when a lower limit is above its upper one."""
    for lower, upper in _ORDER:
        low, high = _limit(config, lower), _limit(config, upper)
        if low > high:
            raise ConfigError(f"{path}: {lower} ({low:g}) is above {upper} ({high:g})")
    return config


def _limit(config: Config, key: str) -> float:
    """A limit by its key in poolwatch.toml: ``watch.frequent``, ``thresholds.x.critical``."""
    section, *rest = key.split(".")
    if section == "watch":
        watched: Setting = getattr(config.watch, rest[0])
        return watched.value
    band: Band = getattr(config.bands, rest[0])
    return band.critical if rest[1] == "critical" else band.warning


def describe(config: Config) -> str:
    """The effective thresholds and settings, and where each came from, as a table."""
    rows = [("threshold", "healthy", "warning", "critical", "action", "from")]
    for band in config.bands:
        rows.append((band.name, *band.ranges(), band.action, band.source))
    lines = _columns(rows)
    lines.append("")
    settings = [("setting", "value", "meaning", "from")]
    settings += [(s.name, f"{_num(s.value)} {s.unit}", s.doc, s.source) for s in config.settings]
    watch = [("watch", "value", "meaning", "from")]
    watch += [(s.name, f"{_num(s.value)}{s.unit}", s.doc, s.source) for s in config.watch]
    return "\n".join([*lines, *_columns(settings), "", *_columns(watch)])


def _num(value: float) -> str:
    """A number without a needless decimal part."""
    return f"{value:g}"


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows padded into aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def in_effect(config: Config) -> tuple[tuple[str, str, str], ...]:
    """Every threshold and setting as (name, value, where it came from)."""
    bands = [
        (b.name, f"warning {_num(b.warning)}, critical {_num(b.critical)} {b.unit}".rstrip(),
         b.source)
        for b in config.bands
    ]  # fmt: skip
    settings = [(s.name, f"{_num(s.value)} {s.unit}".rstrip(), s.source) for s in config.settings]
    watch = [(f"watch.{s.name}", f"{_num(s.value)}{s.unit}", s.source) for s in config.watch]
    return (*bands, *settings, *watch)


# --- the guide's monitoring script, monitor_week6b.sh, as `poolwatch monitor` runs it ---------

#: Its ``CHECK_INTERVAL=60``: seconds between two samples.
MONITOR_INTERVAL = 60.0
#: Its alert tests, ``[ "$OVERLOADED" -gt 5 ]`` and ``[ "$THREAD_FAILS" -gt 3 ]``: more
#: ``System overloaded`` lines, or more ``ThreadPoolExecutor also failed`` lines, than this
#: in one window (poolwatch counts them per instance, since the previous sample).
MONITOR_OVERLOAD_ALERT = 5
MONITOR_THREADPOOL_ALERT = 3
