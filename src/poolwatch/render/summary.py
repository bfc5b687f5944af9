"""summary.json's model: one pydantic model per object of the document, built from the
Findings. The model is the contract: summary.json is its dump, and its JSON Schema
(``data/summary.schema.json``, written by ``summary_schema.py``) is generated from it.

pydantic rather than msgspec: pydantic generates a JSON Schema that carries each key's
description from the model itself (its docstrings), and validates what it is given, so
a document that breaks the contract is never written.

Each object's keys are its fields, in their order, and each docstring the key's
description. A field takes the value of the attribute of its name on the part of the
Findings the object is made of (``_Object.of``), unless its builder shapes it; a field
with a default is a key the schema does not require. A new optional key (version 1 may
gain them) is so one field: a default and a docstring, read from the attribute of its
name. Numbers are rounded as they are put in (``Num`` 2 decimals, ``Percent`` 1), times
are ISO 8601 to the second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.config import JsonDict
from typing_extensions import TypeAliasType

from poolwatch import findings as found
from poolwatch.states import FlagColor, Grade, Verdict

SCHEMA_VERSION = 1


def _rounded(digits: int) -> BeforeValidator:
    """A number rounded to ``digits`` decimals, as a float (``8`` is ``8.0``)."""

    def rounded(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(round(value, digits))
        return value  # not a number: refused as one

    return BeforeValidator(rounded)


def _second(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat()


#: A count: a whole number, 0 or more.
Count = TypeAliasType("Count", Annotated[int, Field(ge=0)])
#: A number to 2 decimals.
Num = Annotated[float, _rounded(2)]
#: A percentage to 1 decimal.
Percent = TypeAliasType("Percent", Annotated[float, Field(ge=0, le=100), _rounded(1)])
#: A time, ISO 8601 to the second (``2025-10-14T08:00:00+00:00``; the analysis's are UTC).
Time = TypeAliasType(
    "Time",
    Annotated[
        datetime,
        PlainSerializer(_second, return_type=str, when_used="json"),
        WithJsonSchema({"type": "string", "format": "date-time"}),
    ],
)
#: A number or the names an action acts on. A whole number stays one (``50``), as the
#: setting it comes from has it.
ActionValue = int | float | str | tuple[str, ...]


def _unrequired(*names: str) -> Callable[[JsonDict], None]:
    """The schema requires none of ``names``, although poolwatch always writes them:
    version 1 never required them, so a document without them is still version 1."""

    def edit(schema: JsonDict) -> None:
        required = schema["required"]
        assert isinstance(required, list)
        schema["required"] = [name for name in required if name not in names]

    return edit


class _Object(BaseModel):
    """An object of summary.json: exactly its keys, in this order, each of its type."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, from_attributes=True,
        use_attribute_docstrings=True,
    )  # fmt: skip

    @classmethod
    def of(cls, part: object, **shaped: object) -> Self:
        """The object of ``part`` of the Findings: each key the attribute of its name
        (read on, into the objects it holds), but those ``shaped`` here."""
        read = {name: getattr(part, name) for name in cls.model_fields if name not in shaped}
        return cls.model_validate(read | shaped)


class Window(_Object):
    """The first and last wall-clock times the logs give."""

    start: Time | None
    end: Time | None


class Skipped(_Object):
    """An input not read."""

    path: str
    reason: str


class Inputs(_Object):
    """What was read to make the findings."""

    files: Count
    """Files read."""
    bytes: Count
    """Their size."""
    lines: Count
    """Their lines."""
    unparsed_lines: Count
    """Lines that no log format poolwatch reads explains."""
    duplicates: Count
    """Inputs counted once: the same file or content as an earlier one, or a tee copy of a
    console run."""
    skipped: tuple[Skipped, ...]
    collected: Time | None = None
    """When the logs were collected: the newest modification time that can be believed."""
    times_note: str | None = None
    """Why files' modification times were not believed (a copy's), when some were not."""

    @classmethod
    def of_inputs(cls, inputs: found.Inputs) -> Self:
        return cls.of(inputs, skipped=tuple(Skipped(path=p, reason=r) for p, r in inputs.skipped))


class Runs(_Object):
    """How the runs ended."""

    total: Count
    completed: Count
    exited: Count = 0
    """Out of memory: they did not complete their batch."""
    timed_out: Count
    """Killed by the timeout while making progress."""
    hung: Count
    """Killed by the timeout after their progress stopped."""
    incomplete: Count
    """Still going at the end of their log."""


class ExecutorMix(_Object):
    """Percent of finished runs on each executor path (a run takes its worst task's)."""

    process: Percent
    thread: Percent
    sequential: Percent
    timeout: Percent


class Counts(_Object):
    """Lines, as ``grep -c`` counts them in the kept run and console logs (monitor alerts
    excluded)."""

    system_overloaded: Count
    processpool_failed: Count
    threadpool_failed: Count
    parallel_failed: Count
    sample_timeouts: Count
    sample_failures: Count


class HostThreads(_Object):
    """The monitor's lowest and highest System=."""

    min: int
    max: int


class Monitor(_Object):
    """What the monitor log saw, and whether it was blind to what the run logs show."""

    samples: Count
    alerts: Count
    blind: bool
    reason: str | None = None
    """Why the monitor was blind to what the run logs show; null when it was not."""
    host_threads: HostThreads | None = None
    """Lowest and highest System= of the monitor: every thread on the host, context only."""

    @classmethod
    def of_check(cls, check: found.MonitorCheck) -> Self:
        span = check.host_threads
        return cls.of(
            check, host_threads=None if span is None else HostThreads(min=span[0], max=span[1])
        )


class Ranges(_Object):
    """A metric's healthy, warning and critical ranges, as the guide words them (``< 50``,
    ``50-80``, ``> 80``)."""

    healthy: str
    warning: str
    critical: str


class Metric(_Object):
    """One graded row of the guide's "Health Check Thresholds" table."""

    model_config = ConfigDict(json_schema_extra=_unrequired("warning", "critical"))

    value: Num | None
    """Null: nothing measured it."""
    unit: str
    grade: Grade
    source: str
    """The numbers behind the value, in words (``4 of 39 runs killed by the timeout``)."""
    action: str = ""
    """The guide's action for the row (``Investigate hangs``)."""
    warning: Num
    """The warning limit (``ranges`` words which side of it each grade is)."""
    critical: Num
    """The critical limit."""
    title: str = ""
    """The metric as the guide's table names it (``Active threads per instance``)."""
    ranges: Ranges = Ranges(healthy="", warning="", critical="")
    measured_by: Literal["monitor_samples", "snapshots", "logs"] | None = None
    """What the value was read from: poolwatch monitor's samples, pasted thread snapshots,
    or the run and console logs (null without a value)."""

    @classmethod
    def of_row(cls, row: found.MetricRow) -> Self:
        healthy, warning, critical = row.ranges
        ranges = Ranges(healthy=healthy, warning=warning, critical=critical)
        return cls.of(row, ranges=ranges, measured_by=row.measured_by or None)


#: The metrics every summary.json grades: the rows of the guide's thresholds table.
METRICS = (
    "thread_count", "processpool_fallback_rate", "threadpool_fallback_rate", "timeout_rate",
    "threads_per_instance",
)  # fmt: skip


class Limit(_Object):
    """A limit the runs ran under, and where its value came from."""

    value: Num
    unit: str
    source: str
    """``logs: ...``, a poolwatch.toml, or ``guide: ...``."""


class Ref(_Object):
    """One log line behind a finding."""

    file: str
    line: Annotated[int, Field(ge=1)]
    text: str | None = None


class Flag(_Object):
    """One line of the guide's "Summary: What to Watch", held or not."""

    id: str
    text: str
    holds: bool
    evidence: str
    refs: tuple[Ref, ...] = ()
    reading: str = ""
    """How poolwatch reads the line: at which share of runs it holds."""
    share: Percent = 0.0
    """The share of finished runs it counts, in %."""


class Flags(_Object):
    """The What-to-Watch lines, by colour: green what a healthy fleet shows, yellow a
    warning sign, red a critical one."""

    green: tuple[Flag, ...]
    yellow: tuple[Flag, ...]
    red: tuple[Flag, ...]

    @classmethod
    def of_flags(cls, flags: tuple[found.Flag, ...]) -> Self:
        by_color = {color.value: tuple(f for f in flags if f.color == color) for color in FlagColor}
        return cls.model_validate(by_color)


class SettingChange(_Object):
    """A fleet setting to change, from the number it runs with to another."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    setting: Literal["instances", "timeout", "overload_threads", "processpool_workers"]
    """The setting, as ``poolwatch thresholds`` and poolwatch.toml's ``[settings]`` name it."""
    before: ActionValue = Field(alias="from")
    """Its value now (``8``)."""
    after: ActionValue = Field(alias="to")
    """The value to change it to (``4``)."""
    unit: str
    """``instances``, ``s``, ``threads``, ``workers``."""


class Scenario(_Object):
    """A "Quick Diagnostics" scenario the logs show."""

    id: Literal[
        "frequent-overload", "processpool-fallbacks", "script-timeouts", "sequential-excessive"
    ]
    title: str = ""
    diagnosis: str = ""
    evidence: str
    solutions: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    changes: tuple[SettingChange | None, ...] = ()
    """Each solution's change of a setting with its numbers, in the order of ``solutions``
    (null: the solution changes no setting, or its change is not indicated)."""


class Step(_Object):
    """One question of the guide's decision tree, its answer, and the numbers behind it."""

    question: str
    answer: str
    evidence: str
    node: str | None
    """The guide's tree node the answer lands on; null: off the tree."""


class Action(_Object):
    """A concrete change to make, why, and the runs and lines that call for it."""

    model_config = ConfigDict(json_schema_extra=_unrequired("id"))

    id: Literal[
        "reduce-instances", "lower-threshold", "raise-timeout", "reduce-workers", "add-memory",
        "investigate-hang", "check-thread-leak", "monitor",
    ]  # fmt: skip
    """New ids may appear within version 1."""
    text: str
    reason: str
    evidence: str
    refs: tuple[Ref, ...] = ()
    values: dict[str, ActionValue] = Field(default_factory=dict)
    """The numbers and names in ``text``, by name (``from``, ``to``, ``tasks``,
    ``instance``, ``threads``, ``pid``, ``flag``, ``value``, ``act_above``)."""
    change: SettingChange | None = None
    """The setting the action changes, with ``values``' ``from`` and ``to`` (null: it
    changes no setting)."""

    @classmethod
    def of_action(cls, action: found.Action) -> Self:
        return cls.of(action, values=dict(action.values))


class PatternInstance(_Object):
    """One instance in the guide's "Expected Production Patterns" form."""

    instance: str
    line: str
    """``ThreadPoolExecutor (1 worker) - some pressure``."""
    ok: bool
    """The guide's ✓ (true) or ❌."""
    runs: str
    """``4 of 5 runs``: the runs that took this path."""


class PatternAspect(_Object):
    """One overall line of the patterns (mix, thread count, fallback rate) for this fleet
    beside both of the guide's."""

    name: str
    fleet: str
    healthy: str
    overloaded: str
    like_healthy: bool
    like_overloaded: bool | None
    """Null where the logs cannot tell (no thread count)."""


class Pattern(_Object):
    """The fleet beside the guide's Healthy and Overloaded Production patterns."""

    classification: Literal["healthy", "overloaded", "between"]
    text: str
    """One sentence: which pattern the fleet is, and which lines differ."""
    instances: tuple[PatternInstance, ...]
    aspects: tuple[PatternAspect, ...]

    @classmethod
    def of_match(cls, match: found.PatternMatch) -> Self:
        return cls.of(match, instances=match.lines)


class Performance(_Object):
    """Run durations against the guide's "Performance Expectations"."""

    measured: Count
    """Completed runs timed."""
    slower: Count
    """Those slower than the guide expects for their tasks."""
    worst_ratio: Num | None
    """The slowest run's duration over what the guide expects of it."""
    evidence: str


class Compared(_Object):
    """One metric before and after, and whether it crossed a threshold."""

    before: Num | None
    after: Num | None
    change: Num | None
    """After less before; null without both."""
    before_grade: Grade | None = None
    """Null: a metric the thresholds table does not grade."""
    after_grade: Grade | None = None
    crossed: bool

    @classmethod
    def of_row(cls, row: found.BaselineRow) -> Self:
        before, after = row.before, row.after
        return cls.of(
            row,
            change=None if before is None or after is None else after - before,
            before_grade=None if row.before_grade == "-" else row.before_grade,
            after_grade=None if row.after_grade == "-" else row.after_grade,
        )


class MixCompared(_Object):
    """The executor mix before and after."""

    before: ExecutorMix
    after: ExecutorMix


class Baseline(_Object):
    """The before/after comparison of a post-deployment review."""

    source: str
    """What "before" is: the paths given, or the store's days."""
    metrics: dict[str, Compared]
    """By the keys of `metrics`, and a few more."""
    executor_mix: MixCompared
    conclusion: str

    @classmethod
    def of_review(cls, review: found.Baseline) -> Self:
        return cls.of(
            review,
            metrics={row.key: Compared.of_row(row) for row in review.rows},
            executor_mix=MixCompared.model_validate(
                {"before": review.mix_before, "after": review.mix_after}
            ),
        )


class Change(_Object):
    """One metric of the day against the day before and the trailing 7-day median."""

    value: Num | None
    vs_yesterday: Num | None
    """The value less the day before's; null without both."""
    vs_median: Num | None
    """The value less the median of the recorded days before; null without them."""
    text: str
    """``ProcessPool fallback 15 % (+8 pts vs yesterday, +11 vs the 7-day median)``."""


class History(_Object):
    """A daily summary's changes, by metric."""

    day: date
    """The day summarised."""
    changes: dict[str, Change]
    """By the keys of `metrics`, and a few more."""

    @classmethod
    def of_history(cls, history: found.History) -> Self:
        return cls.of(history, changes={c.name: c for c in history.changes})


class Sampling(_Object):
    """What poolwatch monitor's samples measured."""

    samples: Count
    readings: Count
    """Run processes' thread counts read (one run in one sample)."""
    instances: Count
    first: Time | None
    last: Time | None
    measured: tuple[str, ...]
    """The metrics graded from the samples (keys of ``metrics``)."""
    text: str
    """Which monitor measured what, in a sentence or two."""


class HostMetric(_Object):
    """A host's value of a thresholds-table row, and its grade."""

    value: Num | None
    grade: Grade


class Host(_Object):
    """One host of several, diagnosed on its own as the guide's fleet of one machine."""

    host: str
    """The host, as its files' paths name it (``""``: files that name no host)."""
    verdict: Verdict
    summary: str
    instances: Count
    concurrency: Count | None
    """Most of its instances running at once."""
    runs: Runs
    metrics: dict[str, HostMetric]
    """Its graded rows of the thresholds table, by the keys of ``metrics``."""
    actions: tuple[Action, ...]
    """What to change on this host, most urgent first, with its own numbers."""

    @classmethod
    def of_host(cls, host: found.HostFindings) -> Self:
        f = host.findings
        return cls.of(
            f,
            host=host.host,
            metrics={row.name: HostMetric(value=row.value, grade=row.grade) for row in f.metrics},
            actions=tuple(Action.of_action(action) for action in f.actions),
        )


class Hosts(_Object):
    """Logs of several hosts: the top-level keys are then the worst host's (but
    ``inputs``, ``window`` and ``summary``, which are every host's)."""

    worst: str
    """The host the top-level keys describe."""
    hosts: tuple[Host, ...]
    """Every host, worst first."""


class Summary(_Object):
    """What poolwatch found in a fleet's logs. Version 1; new optional keys may be added,
    keys are never renamed or removed within a version."""

    model_config = ConfigDict(title="poolwatch summary.json")

    schema_version: Literal[1]
    generated_at: Time
    """When (UTC); ``SOURCE_DATE_EPOCH`` fixes it, for reproducible reports."""
    window: Window
    inputs: Inputs
    instances: Count
    """Distinct instances."""
    concurrency: Count | None = None
    """Most instances running at once."""
    runs: Runs
    executor_mix: ExecutorMix
    """Percent of finished runs on each executor path."""
    counts: Counts
    """Lines, as grep -c counts them in the kept run and console logs."""
    monitor: Monitor | None
    """Null without a monitor log."""
    metrics: Annotated[dict[str, Metric], Field(json_schema_extra={"required": list(METRICS)})]
    """The metrics graded, by name: every row of the guide's thresholds table."""
    limits: dict[Literal["timeout", "overload_threads"], Limit] = Field(default_factory=dict)
    """The limits in effect and where each came from."""
    verdict: Verdict
    summary: str = ""
    """One sentence saying why."""
    flags: Flags
    scenarios: tuple[Scenario, ...]
    decision_path: Annotated[tuple[Step, ...], Field(min_length=1)]
    """From the tree's root."""
    actions: tuple[Action, ...]
    """Most urgent first."""
    pattern: Pattern | None = None
    """Null without a finished run."""
    performance: Performance | None = None
    """Null without timed runs."""
    baseline: Baseline | None = None
    """A post-deployment review (report --baseline/--baseline-days): each compared metric
    before and after, by the same keys as metrics."""
    history: History | None = None
    """A daily summary (poolwatch daily): the day against the day before and the trailing
    7-day median."""
    sampling: Sampling | None = None
    """poolwatch monitor's samples, when given: how many, and which metrics were graded
    from them."""
    hosts: Hosts | None = None
    """Null for one host's logs."""


def from_findings(findings: found.Findings) -> Summary:
    """summary.json's content: the Findings, as the contract shows them."""
    f = findings
    start, end = f.window
    return Summary.of(
        f,
        schema_version=SCHEMA_VERSION,
        window=Window(start=start, end=end),
        inputs=Inputs.of_inputs(f.inputs),
        monitor=None if f.monitor is None else Monitor.of_check(f.monitor),
        metrics={row.name: Metric.of_row(row) for row in f.metrics},
        limits={limit.name: limit for limit in f.limits},
        flags=Flags.of_flags(f.flags),
        actions=tuple(Action.of_action(action) for action in f.actions),
        pattern=None if f.pattern is None else Pattern.of_match(f.pattern),
        baseline=None if f.baseline is None else Baseline.of_review(f.baseline),
        history=None if f.history is None else History.of_history(f.history),
        hosts=None
        if not f.hosts
        else Hosts(worst=f.hosts[0].host, hosts=tuple(map(Host.of_host, f.hosts))),
    )
