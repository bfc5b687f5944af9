"""The guide's decision tree walked on the data, its Quick Diagnostics scenarios, and the
concrete actions they call for, each with its numbers and the log lines behind it.

Every sentence a finding shows is written here, once, with the numbers the code
compared (the limits in effect: the logs', poolwatch.toml's or the guide's);
summary.json and the reports only lay them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from poolwatch.analyze.evidence import RUNS, refs
from poolwatch.analyze.health import READINGS, Climb, escalation, thread_climb
from poolwatch.analyze.progress import STUCK_PACE
from poolwatch.analyze.runs import KILLED, Fleet, overload_threads
from poolwatch.config import (
    GUIDE,
    OVERLOADED_INSTANCES,
    SEVERE_INSTANCES,
    THREAD_QUANTILE,
    THRESHOLD_AFTER_EXHAUSTION,
    THRESHOLD_LOWERED,
    THRESHOLD_RAISE,
    THRESHOLD_STEP,
    TIMEOUT_RAISE,
    TIMEOUT_RAISE_MOST,
    WORKERS_LESS,
    SettingName,
)
from poolwatch.findings import (
    Action,
    Flag,
    MetricRow,
    PatternMatch,
    Scenario,
    SettingChange,
    Step,
    TreeNode,
)
from poolwatch.states import ExecutorPath, FlagColor, Grade, Outcome


def runs_of(count: int) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} run" if count == 1 else f"{count} runs"


def minutes(seconds: float) -> str:
    """A timeout as the guide words one: ``10 minutes``, ``64 s``."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} s"


@dataclass(frozen=True)
class Shares:
    """Percent of finished runs showing each fallback, and the runs behind them."""

    total: int
    processpool: float
    threadpool: float
    sequential: float
    overload: float
    killed: int
    hung: int
    timed_out: int
    exited: int

    @staticmethod
    def of(fleet: Fleet) -> Shares:
        """The shares of a fleet's finished runs."""
        runs = fleet.finished
        total = len(runs)

        def pct(hit: pd.Series) -> float:
            return 100.0 * int(hit.sum()) / total if total else 0.0

        outcome = runs["outcome"]
        return Shares(
            total=total,
            processpool=pct(runs["processpool_failure"].astype(bool)),
            threadpool=pct(runs["threadpool_failure"].astype(bool)),
            sequential=pct(runs["path"] == ExecutorPath.SEQUENTIAL),
            overload=pct(runs["overloads"] > 0),
            killed=int(outcome.isin(KILLED).sum()),
            hung=int((outcome == Outcome.HUNG).sum()),
            timed_out=int((outcome == Outcome.TIMED_OUT).sum()),
            exited=int((outcome == Outcome.EXITED).sum()),
        )


def _of(fleet: Fleet, outcome: str) -> pd.DataFrame:
    """The finished runs with one outcome."""
    return fleet.finished[fleet.finished["outcome"] == outcome]


def _timeout_words(runs: pd.DataFrame, fleet: Fleet) -> str:
    """``the 600 s timeout``, or ``their timeouts (64-128 s)`` when the runs' differ."""
    limits = runs["run_timeout"].dropna() if len(runs) else pd.Series(dtype=float)
    if limits.empty or limits.nunique() == 1:
        value = float(limits.iloc[0]) if len(limits) else fleet.config.settings.timeout.value
        return f"the {value:g} s timeout"
    return f"their timeouts ({limits.min():g}-{limits.max():g} s)"


# --- the decision tree -------------------------------------------------------------------

#: The guide's "Troubleshooting Decision Tree": (id, parent), in the guide's order; each
#: box's words are ``labels``'.
TREE: tuple[tuple[str, str | None], ...] = (
    ("root", None), ("yes", "root"), ("no-fallbacks", "yes"), ("processpool", "yes"),
    ("threadpool", "yes"), ("sequential", "yes"), ("no", "root"), ("hanging", "no"),
    ("many-threads", "hanging"), ("few-threads", "hanging"), ("timing-out", "no"),
    ("legitimate", "timing-out"), ("hang", "timing-out"),
)  # fmt: skip


def labels(fleet: Fleet) -> dict[str, str]:
    """The tree's boxes in the guide's words, with the numbers in effect for this fleet."""
    config = fleet.config
    timeout = config.settings.timeout.value
    pp = config.bands.processpool_fallback_rate.critical
    tp = config.bands.threadpool_fallback_rate.critical
    threads = config.bands.thread_count
    lowered = _threshold_change(fleet, severe=True)
    raised = _change(fleet, "timeout", timeout, _longer_timeout(fleet))
    return {
        "root": "Is script completing successfully?",
        "yes": "YES → Check logs for fallback patterns",
        "no-fallbacks": "No fallbacks → ✅ Optimal performance",
        "processpool": f"ProcessPool fallbacks (<{pp:g}%) → ✅ Working as designed",
        "threadpool": f"ThreadPool fallbacks (<{tp:g}%) → ⚠️ Monitor, consider reducing load",
        "sequential": f"Sequential fallbacks (>{config.watch.frequent.value:g}%) → ❌ System "
        "overloaded, reduce instances",
        "no": "NO → Script hanging or timing out?",
        "hanging": "Hanging → Check thread count",
        "many-threads": f">{threads.critical:g} threads → ❌ Thread exhaustion despite checks; "
        f"ACTION: Reduce threshold {_threshold_words(fleet, lowered)}",
        "few-threads": f"<{threads.warning:g} threads → ❌ Other issue (deadlock? infinite "
        "loop?); ACTION: Check code logic, add logging",
        "timing-out": f"Timing out ({minutes(timeout)}) → Legitimate work or hang?",
        "legitimate": f"Legitimate (large batch) → Increase timeout {_arrow(raised, 's')}",
        "hang": 'Hang → See "Hanging" above',
    }


def tree(fleet: Fleet, path: tuple[Step, ...]) -> tuple[TreeNode, ...]:
    """The guide's tree, each node marked taken when the walk passed through it."""
    parents = dict(TREE)
    taken = {"root"}
    for step in path:
        node = step.node
        while node is not None:
            taken.add(node)
            node = parents[node]
    words = labels(fleet)
    return tuple(TreeNode(node, parent, words[node], node in taken) for node, parent in TREE)


def decision_path(fleet: Fleet, rows: tuple[MetricRow, ...]) -> tuple[Step, ...]:
    """The guide's "Troubleshooting Decision Tree", walked from its root on this data."""
    shares = Shares.of(fleet)
    words = labels(fleet)
    root = words["root"]
    if not shares.total:
        return (
            Step(root, "Unknown: no run has finished yet",
                 "no finished run in the logs: nothing to walk the tree on"),
        )  # fmt: skip
    if not shares.killed and not shares.exited:
        timeout = _timeout_words(fleet.finished, fleet)
        first = Step(root, "YES", f"{shares.total} of {shares.total} finished runs completed; "
                     f"none was killed by {timeout} or exited", "yes")  # fmt: skip
        return (first, _fallback_step(fleet, shares, words))
    first = Step(root, "NO", _not_completing(fleet, shares), "no")
    if not shares.killed:
        return (first, _exit_step(shares))
    second = Step(
        "Script hanging or timing out?",
        words["timing-out"].split(" → ")[0],
        f"{runs_of(shares.killed)} ran into the timeout and were killed "
        f"({shares.hung} stuck, {shares.timed_out} still working)",
        "timing-out",
    )
    if shares.hung:
        return (first, second, _hang_step(fleet, shares, words), _thread_step(fleet, rows, words))
    return (first, second, _legitimate_step(fleet, words))


def _not_completing(fleet: Fleet, s: Shares) -> str:
    """Why the root's answer is NO: runs killed, runs that exited."""
    parts = []
    if s.killed:
        killed = fleet.finished[fleet.finished["outcome"].isin(KILLED)]
        parts.append(
            f"{s.killed} of {s.total} finished runs were killed by "
            f"{_timeout_words(killed, fleet)} ({s.hung} stuck, {s.timed_out} still working)"
        )
    if s.exited:
        parts.append(f"{s.exited} of {s.total} exited out of memory before finishing")
    return "; ".join(parts)


def _exit_step(s: Shares) -> Step:
    """Runs that exited and none killed: the tree has no branch for an exit."""
    return Step(
        "Script hanging or timing out?",
        f"Neither: {runs_of(s.exited)} exited out of memory (CRITICAL: MemoryError ... "
        "Exiting.): the tree has no branch for a run that ends itself; the guide files memory "
        "failures under Memory Pressure (Quick Diagnostics: Frequent ProcessPool Fallbacks)",
        f"{s.exited} of {s.total} finished runs ended with a memory exit and no closing line",
    )


def _hang_step(fleet: Fleet, s: Shares, words: dict[str, str]) -> Step:
    """Killed runs that were stuck, and what shows it: the tree's "Hang → See Hanging"."""
    hung = _of(fleet, "hung")
    exhausted = int((hung["stuck"] == "thread exhaustion").sum())
    silent = hung[hung["stuck"] == "no progress"]
    parts = []
    if exhausted:
        parts.append(
            f"{exhausted} showed thread exhaustion in their last task (thread creation failed, "
            "exceptions)"
        )
    if len(silent):
        parts.append(f"{len(silent)} made no progress: {_pace_words(silent.iloc[0])}")
    return Step(
        words["timing-out"].split(" → ")[1],
        words["hang"],
        f"{runs_of(s.hung)} were stuck when killed. " + "; ".join(parts),
        "hang",
    )


def _pace_words(run: pd.Series) -> str:
    """``run 3 of tmp_batt_X finished 1 of 8 tasks in 600 s; its instance's completed runs
    do 8 in about 20 s``."""
    done = int(run["tasks_done"])
    requested = run["requested_tasks"]
    of = f" of {int(requested)}" if pd.notna(requested) else ""
    usual = float(run["usual_pace"])
    per = (
        f"about {float(requested) / usual:.0f} s for {int(requested)}"
        if pd.notna(requested)
        else f"{usual * 60:.1f} tasks a minute"
    )
    return (
        f"run {int(run['run'])} of {run['instance']} finished {done}{of} tasks in "
        f"{float(run['elapsed']):.0f} s ({float(run['pace']):.0%} of its instance's usual pace: "
        f"its completed runs take {per})"
    )


def _legitimate_step(fleet: Fleet, words: dict[str, str]) -> Step:
    """Killed runs still working at their usual pace: legitimate work, or unknown."""
    question = words["timing-out"].split(" → ")[1]
    working = _of(fleet, "timed_out")
    paced = working[working["pace"].notna()]
    if paced.empty:
        return Step(
            question,
            "Unknown: no completed run of these instances to compare their progress with",
            "the logs give no usual pace: without one, working cannot be told from stuck",
        )
    return Step(
        question,
        words["legitimate"],
        f"{_pace_words(paced.iloc[0])}; no thread exhaustion in the task it was working on",
        "legitimate",
    )


def _fallback_step(fleet: Fleet, s: Shares, words: dict[str, str]) -> Step:
    """The YES branch: the most severe fallback pattern the logs show.

    Where the data falls outside every branch (fallbacks above the tree's limits, or
    overload skips below its 30 %), the answer says so and falls back on the
    thresholds table or the guide's High Load pattern. The "(<30%)" and "(<15%)"
    branches hold up to the table's critical limits, 30 % and 15 % included.
    """
    pp_limit = fleet.config.bands.processpool_fallback_rate.critical
    tp_limit = fleet.config.bands.threadpool_fallback_rate.critical
    frequent = fleet.config.watch.frequent.value
    numbers = (
        f"ProcessPool failures in {s.processpool:.0f} % of runs, ThreadPool failures in "
        f"{s.threadpool:.0f} %, sequential runs {s.sequential:.0f} %"
    )
    branches = (
        (s.sequential > frequent, "sequential", words["sequential"]),
        (s.threadpool > tp_limit, None,
         f"ThreadPool fallbacks at {s.threadpool:.0f} %: the tree has no branch above "
         f"{tp_limit:g} %; the thresholds table grades it critical: Reduce concurrent instances"),
        (s.processpool > pp_limit, None,
         f"ProcessPool fallbacks at {s.processpool:.0f} %: the tree has no branch above "
         f"{pp_limit:g} %; the thresholds table grades it critical: Add memory or reduce "
         "workers"),
        (s.threadpool > 0, "threadpool", words["threadpool"]),
        (s.processpool > 0, "processpool", words["processpool"]),
        (s.sequential > 0 or s.overload > 0, None,
         f"Sequential runs at {s.sequential:.0f} % (overload skips): the tree has no branch up "
         f"to {frequent:g} %; the guide's High Load pattern calls it graceful degradation, no "
         "action needed"),
        (True, "no-fallbacks", words["no-fallbacks"]),
    )  # fmt: skip
    node, answer = next((node, text) for holds, node, text in branches if holds)
    return Step("Check logs for fallback patterns", answer, numbers, node)


def hung_threads(fleet: Fleet) -> tuple[float | None, str]:
    """The highest per-process thread count of the stuck runs: their overload messages,
    else their instances' snapshots; and where it comes from."""
    hung = _of(fleet, "hung")
    counts = hung["max_threads"].dropna()
    if len(counts):
        return float(counts.max()), "in the stuck runs' overload messages"
    snapshots = fleet.of_kind("thread_snapshot")
    theirs = snapshots[snapshots["instance"].isin(hung["instance"].astype(str).unique())]
    per_process = theirs[theirs["threads"].notna()]["threads"]
    if len(per_process):
        return float(per_process.max()), "in the stuck instances' thread snapshots"
    return None, ""


def _thread_step(fleet: Fleet, rows: tuple[MetricRow, ...], words: dict[str, str]) -> Step:
    """The Hanging branch: what the thread count says."""
    band = fleet.config.bands.thread_count
    question = words["hanging"].split(" → ")[1]
    threads, where = hung_threads(fleet)
    if threads is None:
        fleetwide = next(r for r in rows if r.name == "thread_count").value
        if fleetwide is None:
            return Step(question, "Unknown: no per-process thread count in the logs",
                        "no overload messages or snapshots")  # fmt: skip
        threads, where = fleetwide, "across the fleet"
    evidence = f"up to {threads:g} threads per process {where}"
    if threads > band.critical:
        return Step(question, words["many-threads"], evidence, "many-threads")
    if threads < band.warning:
        return Step(question, words["few-threads"], evidence, "few-threads")
    return Step(question, f"{threads:g} threads: the tree has no branch between "
                f"{band.warning:g} and {band.critical:g}; the thresholds table grades it a "
                "warning: Reduce concurrent instances", evidence)  # fmt: skip


# --- numbers the actions use --------------------------------------------------------------


def observed_concurrency(fleet: Fleet) -> int | None:
    """The most runs going at once, when the logs give their start times or the monitor's
    samples saw them (the more of the two)."""
    counts = [fleet.concurrency, fleet.sampled_running]
    most = max((int(c["running"].max()) for c in counts if not c.empty), default=0)
    return most if most > 0 else None


def running_at_once(fleet: Fleet) -> int:
    """Instances to size actions by: the most seen running at once; without start times,
    the instances seen, or the fleet size poolwatch.toml gives if that is more (the
    guide's 8 is an example, not this fleet's size)."""
    observed = observed_concurrency(fleet)
    if observed is not None:
        return observed
    seen = int(fleet.runs["instance"].nunique())
    if fleet.config.settings.instances.source.startswith(GUIDE):
        return max(1, seen)
    return max(seen, int(fleet.config.settings.instances.value))


def _fewer_instances(fleet: Fleet, why: str) -> int:
    """How many instances to run at once instead.

    ``overload`` and ``severe``: scaled by the overload threshold over the 90th
    percentile of the counts the overload messages report (the guide's 8 instances at
    80-95 threads give 4); ``severe`` (ThreadPools also fail) cuts harder, to at most 3/8
    (the guide's 8 → 2-3). ``pattern``: the Overloaded Production ACTION, half (8 → 4).
    ``memory``: the share of runs that kept their ProcessPool, at least half.
    """
    now = running_at_once(fleet)
    target = now - 1
    if why == "pattern":
        target = math.floor(now * OVERLOADED_INSTANCES)
    elif why == "memory":
        # The share of runs that kept their ProcessPool, but never below half (the
        # guide's own cuts for load, "8 → 4-6", keep at least half).
        kept = 1 - fleet.finished["processpool_failure"].astype(bool).mean()
        target = max(math.floor(now * kept), math.ceil(now * OVERLOADED_INSTANCES))
    else:
        threads = overload_threads(fleet)
        if not threads.empty:
            typical = float(threads.quantile(THREAD_QUANTILE))
            target = math.floor(now * fleet.config.settings.overload_threads.value / typical)
        if why == "severe":
            target = min(target, math.floor(now * SEVERE_INSTANCES))
    return max(1, min(target, now - 1))


def _lower_threshold(limit: float, *, severe: bool) -> float | None:
    """The guide's lower overload threshold: 30 after exhaustion above the critical band,
    40 otherwise ("50 → 30-40"); always at least a step below the current one, and never
    below one step (10 threads): None when the current one is already that low."""
    guide = THRESHOLD_AFTER_EXHAUSTION if severe else THRESHOLD_LOWERED
    target = max(THRESHOLD_STEP, min(limit - THRESHOLD_STEP, guide))
    return target if target < limit else None


def _change(fleet: Fleet, name: SettingName, before: float, after: float) -> SettingChange:
    """The setting ``name`` changed from ``before`` to ``after``, in its unit."""
    return SettingChange(name, before, after, fleet.config.setting(name).unit)


def _arrow(change: SettingChange, unit: str = "") -> str:
    """``(8 → 4)``, the guide's way of writing a change (``(600s → 900s)`` with a unit)."""
    return f"({change.before:g}{unit} → {change.after:g}{unit})"


def _threshold_change(fleet: Fleet, *, severe: bool) -> SettingChange | None:
    """The overload threshold lowered, or None when it is not to be lowered."""
    limit = fleet.config.settings.overload_threads.value
    target = _lower_threshold(limit, severe=severe)
    return None if target is None else _change(fleet, "overload_threads", limit, target)


def _threshold_words(fleet: Fleet, change: SettingChange | None) -> str:
    """``(50 → 30)``, or why the threshold is not to be lowered."""
    if change is None:
        limit = fleet.config.settings.overload_threads.value
        return f"(not indicated: it is {limit:g}; poolwatch advises none below {THRESHOLD_STEP:g})"
    return _arrow(change)


def _instances_change(fleet: Fleet, why: str) -> SettingChange | None:
    """Fewer instances at once, or None when there cannot be fewer."""
    now, target = running_at_once(fleet), _fewer_instances(fleet, why)
    return None if target >= now else _change(fleet, "instances", float(now), float(target))


def _instances_words(fleet: Fleet, change: SettingChange | None) -> str:
    """``(8 → 4)``, or why the instances cannot be reduced."""
    if change is None:
        now = running_at_once(fleet)
        return f"(not indicated: {now} instance{'s' if now != 1 else ''} ran at once)"
    return _arrow(change)


def _fewer_workers(fleet: Fleet) -> float | None:
    """ProcessPool workers to run instead (the guide's 3 → 2); None at one worker."""
    fewer = fleet.config.settings.processpool_workers.value - WORKERS_LESS
    return fewer if fewer >= 1 else None


def _workers_change(fleet: Fleet) -> SettingChange | None:
    """One ProcessPool worker fewer, or None at one worker."""
    workers, fewer = fleet.config.settings.processpool_workers.value, _fewer_workers(fleet)
    return None if fewer is None else _change(fleet, "processpool_workers", workers, fewer)


def _workers_words(fleet: Fleet, change: SettingChange | None) -> str:
    """``(3 → 2)``, or why the workers cannot be reduced."""
    if change is None:
        workers = fleet.config.settings.processpool_workers.value
        return f"(not indicated: {workers:g} worker is the fewest)"
    return _arrow(change)


def _round_up(seconds: float) -> float:
    """Up to two significant digits: 96 s, 900 s, 1,300 s."""
    step = 10 ** max(0, math.floor(math.log10(seconds)) - 1)
    return float(math.ceil(seconds / step - 1e-9) * step)


def _longer_timeout(fleet: Fleet) -> float:
    """A timeout the runs killed while working would have finished in: the guide's
    1.5 times the current one (600 s → 900 s), more when a killed batch's done and
    requested tasks say it needs more, never more than twice the current one.

    A run killed after doing ``done`` of its ``requested`` tasks in ``elapsed`` seconds
    needs about ``elapsed * requested / done``.
    """
    timeout = fleet.config.settings.timeout.value
    working = _of(fleet, "timed_out")
    working = working[working["pace"] >= STUCK_PACE]
    needed = TIMEOUT_RAISE * timeout
    for requested, done, elapsed in zip(
        working["requested_tasks"], working["tasks_done"], working["elapsed"], strict=True
    ):
        if pd.notna(requested) and done:
            needed = max(needed, float(elapsed) * float(requested) / float(done))
    return _round_up(min(needed, TIMEOUT_RAISE_MOST * timeout))


# --- scenarios ---------------------------------------------------------------------------


def scenarios(fleet: Fleet) -> tuple[Scenario, ...]:
    """The guide's "Quick Diagnostics" scenarios these logs show."""
    s = Shares.of(fleet)
    frequent = fleet.config.watch.frequent.value
    pp_limit = fleet.config.bands.processpool_fallback_rate.critical
    runs = fleet.finished
    found: list[Scenario] = []
    if s.overload > frequent:
        found.append(_frequent_overload(fleet, s, runs[runs["overloads"] > 0]))
    if s.processpool > pp_limit or s.exited:
        found.append(_processpool_fallbacks(fleet, s))
    if s.killed:
        found.append(_script_timeouts(fleet, s, runs[runs["outcome"].isin(KILLED)]))
    if s.threadpool > frequent:
        found.append(_sequential_excessive(fleet, s, runs[runs["threadpool_failure"]]))
    return tuple(found)


def _thread_range(fleet: Fleet, runs: pd.DataFrame) -> str:
    """``(51-95 threads)`` from the overload messages of some runs."""
    counts = runs["max_threads"].dropna()
    low = overload_threads(fleet)
    if counts.empty or low.empty:
        return ""
    return f", {int(low.min())}-{int(counts.max())} threads"


def _lines(fleet: Fleet, runs: pd.DataFrame, column: str) -> str:
    """``1,204 lines``: a fallback's lines in these finished runs, and how many more the
    runs still going hold (the rates count finished runs only)."""
    lines = int(runs[column].sum())
    going = int(fleet.runs.loc[fleet.runs["outcome"] == "incomplete", column].sum())
    more = f" ({going:,} more in runs not finished, which the rates leave out)" if going else ""
    return f"{lines:,} lines{more}"


def _frequent_overload(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    limit = fleet.config.settings.overload_threads.value
    fewer = _instances_change(fleet, "overload")
    higher = _change(fleet, "overload_threads", limit, limit + THRESHOLD_RAISE)
    return Scenario(
        "frequent-overload",
        'Frequent "System overloaded" Messages',
        "Too many concurrent run_card.sh instances",
        f'"System overloaded" in {len(runs)} of {s.total} runs ({s.overload:.0f} %), '
        f"{_lines(fleet, runs, 'overloads')}{_thread_range(fleet, runs)}",
        (
            f"Reduce concurrent instances {_instances_words(fleet, fewer)}",
            f"Increase threshold {_arrow(higher)} if system stable",
            "Monitor system thread count before starting new instances",
        ),
        refs(fleet, "overload", runs),
        (fewer, higher, None),
    )


def _processpool_fallbacks(fleet: Fleet, s: Shares) -> Scenario:
    """Memory pressure: ProcessPool failures above the critical share, or memory exits."""
    runs = fleet.finished
    failed = runs[runs["processpool_failure"].astype(bool)]
    exited = runs[runs["outcome"] == "exited"]
    workers = fleet.config.settings.processpool_workers.value
    evidence = (
        f"ProcessPool failures in {len(failed)} of {s.total} runs ({s.processpool:.0f} %), "
        f"{_lines(fleet, runs, 'processpool_failed')}"
    )
    diagnosis = f"Memory pressure, not enough RAM for {workers:g} worker processes"
    designed = "This is working as designed (fallback successful)"
    fewer, less = _instances_change(fleet, "memory"), _workers_change(fleet)
    if len(exited):
        evidence += f"; {runs_of(len(exited))} exited out of memory without finishing"
        diagnosis += f"; {runs_of(len(exited))} ran out of memory and exited"
        designed += ", but not for the runs that exited: they lost their batch"
    return Scenario(
        "processpool-fallbacks",
        "Frequent ProcessPool Fallbacks",
        diagnosis,
        evidence,
        (
            f"Reduce concurrent instances {_instances_words(fleet, fewer)}",
            "Add more system memory",
            f"Reduce ProcessPoolExecutor workers {_workers_words(fleet, less)} if needed",
            designed,
        ),
        refs(fleet, "critical_memory", exited) + refs(fleet, "processpool_failed", failed),
        (fewer, None, less, None),
    )


def _script_timeouts(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    timeout = fleet.config.settings.timeout.value
    stuck = runs["stuck"]
    exhausted = bool((stuck == "thread exhaustion").any())
    silent = bool((stuck == "no progress").any())
    if exhausted:
        diagnosis = "Script hanging, likely on thread creation despite checks"
    elif silent:
        diagnosis = (
            "Runs stuck inside a task without thread exhaustion: a deadlock or an infinite "
            "loop, not thread creation"
        )
    else:
        diagnosis = "Runs longer than the timeout, still working when killed"
    lowered = _threshold_change(fleet, severe=False)
    longer_timeout = _change(fleet, "timeout", timeout, _longer_timeout(fleet))
    lower = f"Reduce thread threshold {_threshold_words(fleet, lowered)}"
    longer = f"Increase timeout {_arrow(longer_timeout, 's')} if legitimate work"
    raised: SettingChange | None = longer_timeout
    if not exhausted and lowered is not None:
        lower += " (not indicated: no run showed thread exhaustion)"
        lowered = None
    if not s.timed_out:
        longer += " (not indicated: the killed runs were stuck, not working)"
        raised = None
    return Scenario(
        "script-timeouts",
        "Script Timeouts",
        diagnosis,
        f"{s.killed} of {s.total} runs killed by {_timeout_words(runs, fleet)} ({s.hung} stuck, "
        f"{s.timed_out} still working)",
        (
            "Check thread count before timeout: `ps -eLf | wc -l`",
            lower,
            longer,
            "Check for thread leaks: `lsof -p <PID> | grep -c thread`",
        ),
        refs(fleet, RUNS, runs),
        (None, lowered, raised, None),
    )


def _sequential_excessive(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    fewer = _instances_change(fleet, "severe")
    return Scenario(
        "sequential-excessive",
        "Sequential Fallback Excessive",
        "System severely overloaded",
        f'"ThreadPoolExecutor also failed" in {len(runs)} of {s.total} runs '
        f"({s.threadpool:.0f} %, above {fleet.config.watch.frequent.value:g} %), "
        f"{_lines(fleet, runs, 'threadpool_failed')}",
        (
            f"Reduce concurrent instances significantly {_instances_words(fleet, fewer)}",
            "Check for other resource-heavy processes",
            "Consider running single-instance until resource issue resolved",
            "This still works (sequential is reliable), just slower",
        ),
        refs(fleet, "threadpool_failed", runs),
        (fewer, None, None, None),
    )


# --- actions -----------------------------------------------------------------------------


def actions(
    fleet: Fleet,
    found: tuple[Scenario, ...],
    rows: tuple[MetricRow, ...],
    held: tuple[Flag, ...],
    pattern: PatternMatch | None,
) -> tuple[Action, ...]:
    """Concrete changes, most urgent first, each with its reason and evidence; when no
    red flag holds, one "monitor closely" per yellow flag, with what would escalate it."""
    ids = {scenario.id for scenario in found}
    grades = {row.name: row.grade for row in rows}
    overloaded = pattern is not None and pattern.classification == "overloaded"
    red = {flag.id for flag in held if flag.holds and flag.color == FlagColor.RED}
    out: list[Action] = []
    fewer = next(
        (why for why, holds in (
            ("pattern", overloaded),
            ("severe", "sequential-excessive" in ids),
            ("overload", "frequent-overload" in ids or "threads-critical-frequently" in red),
            ("memory", "processpool-fallbacks" in ids),
        ) if holds),
        None,
    )  # fmt: skip
    if fewer is not None and running_at_once(fleet) > 1:
        out.append(_reduce_instances(fleet, fewer))
    lowered = _lower_threshold_action(fleet, rows, overloaded)
    out += [lowered] if lowered is not None else []
    silent = _of(fleet, "hung")
    silent = silent[silent["stuck"] == "no progress"]
    if len(silent):
        out.append(_investigate_hang(fleet, silent))
    working = _of(fleet, "timed_out")
    working = working[working["pace"] >= STUCK_PACE]
    if len(working):
        out.append(_raise_timeout(fleet, working))
    if "processpool-fallbacks" in ids:
        out.append(_add_memory(fleet))
        out += [_reduce_workers(fleet)] if _fewer_workers(fleet) is not None else []
    leak = thread_climb(fleet)
    graded = grades.get("threads_per_instance")
    if leak is not None and (graded == Grade.CRITICAL or (leak.steady and graded == Grade.WARNING)):
        out.append(_check_thread_leak(fleet, leak))
    if not red:
        yellow = [flag for flag in held if flag.holds and flag.color == FlagColor.YELLOW]
        out += [_monitor(fleet, flag, held) for flag in yellow]
    return tuple(out)


def _reduce_instances(fleet: Fleet, why: str) -> Action:
    now, target = running_at_once(fleet), _fewer_instances(fleet, why)
    runs = fleet.finished
    threads = overload_threads(fleet)
    peak = f"up to {int(threads.max())} threads per process" if len(threads) else "no counts"
    limit = fleet.config.settings.overload_threads.value
    found = f"{now} instances ran at once and run_batt.py found {peak} (its limit is {limit:g})"
    if why == "memory":
        fell = runs[runs["processpool_failure"].astype(bool)]
        reason = f"{now} instances ran at once and {len(fell)} of {len(runs)} runs' ProcessPools "
        reason += "ran out of memory: fewer instances leave each more memory"
        cited = refs(fleet, "critical_memory", fell) or refs(fleet, "processpool_failed", fell)
        return Action("reduce-instances", f"Reduce concurrent instances from {now} to {target}",
                      reason, f"{len(fell)} of {len(runs)} runs lost their ProcessPool", cited,
                      _change(fleet, "instances", float(now), float(target)))  # fmt: skip
    overloaded = runs[(runs["overloads"] > 0) | runs["threadpool_failure"].astype(bool)]
    reason = {
        "pattern": f"the fleet matches the guide's Overloaded Production pattern, whose ACTION is "
        f"to halve the instances: {found}",
        "severe": f"{found}: ThreadPools failed too",
        "overload": f"{found}: it skipped the ProcessPool",
    }[why]
    return Action(
        "reduce-instances",
        f"Reduce concurrent instances from {now} to {target}",
        reason,
        f"{len(overloaded)} of {len(runs)} runs fell back",
        refs(fleet, "threadpool_failed" if why == "severe" else "overload", overloaded),
        _change(fleet, "instances", float(now), float(target)),
    )


def _lower_threshold_action(
    fleet: Fleet, rows: tuple[MetricRow, ...], overloaded: bool
) -> Action | None:
    """Lower the overload threshold: after hangs on thread creation or above 80 threads
    (the tree's Hanging branch), or as the Overloaded Production pattern's alternative."""
    hung = _of(fleet, "hung")
    threads, _ = hung_threads(fleet)
    critical = fleet.config.bands.thread_count.critical
    many = threads is not None and threads > critical
    exhausted = hung[(hung["stuck"] == "thread exhaustion") | many]
    limit = fleet.config.settings.overload_threads.value
    if not len(exhausted) and not overloaded:
        return None
    target = _lower_threshold(limit, severe=many or overloaded)
    if target is None:
        return None
    if len(exhausted):
        reason = "runs hung on thread creation despite the overload check"
        evidence = f"{runs_of(len(exhausted))} hung and killed by the timeout"
        cited = refs(fleet, "thread_retry", exhausted) or refs(fleet, RUNS, exhausted)
    else:
        reason = "the guide's ACTION under Overloaded Production: or reduce the threshold"
        evidence = "the fleet matches the Overloaded Production pattern"
        cited = ()
    return Action(
        "lower-threshold",
        f"Lower the thread threshold from {limit:g} to {target:g}",
        reason,
        evidence,
        cited,
        _change(fleet, "overload_threads", limit, target),
    )


def _investigate_hang(fleet: Fleet, stuck: pd.DataFrame) -> Action:
    """Runs that stopped making progress inside a task, without thread exhaustion."""
    tasks = tuple(dict.fromkeys(str(t) for t in stuck["open_task"].dropna()))
    named = ", ".join(tasks) if tasks else "the tasks they were in"
    threads, where = hung_threads(fleet)
    few = f" with up to {threads:g} threads per process ({where})" if threads is not None else ""
    return Action(
        "investigate-hang",
        f"Check the code logic and add logging around tasks {named}",
        f"{runs_of(len(stuck))} stopped making progress inside one task{few} and no thread "
        "exhaustion: a deadlock or an infinite loop, which a longer timeout or a lower "
        "threshold would not cure",
        _pace_words(stuck.iloc[0]),
        refs(fleet, RUNS, stuck),
        details=(("tasks", tasks),),
    )


def _raise_timeout(fleet: Fleet, working: pd.DataFrame) -> Action:
    timeout = fleet.config.settings.timeout.value
    longer = _longer_timeout(fleet)
    return Action(
        "raise-timeout",
        f"Raise the timeout from {timeout:g} s to {longer:g} s",
        "runs were still making progress at their usual pace when the timeout killed them "
        "(legitimate work)",
        f"{runs_of(len(working))} killed while working; {_pace_words(working.iloc[0])}",
        refs(fleet, RUNS, working),
        _change(fleet, "timeout", timeout, longer),
    )


def _add_memory(fleet: Fleet) -> Action:
    runs = fleet.finished
    failed = runs[runs["processpool_failure"].astype(bool)]
    exited = int((runs["outcome"] == "exited").sum())
    lost = f"; {runs_of(exited)} exited out of memory" if exited else ""
    return Action(
        "add-memory",
        "Add more system memory",
        "the ProcessPool's worker processes could not get memory",
        f"ProcessPool failures in {len(failed)} of {len(runs)} runs{lost}",
        refs(fleet, "critical_memory", failed) or refs(fleet, "processpool_failed", failed),
    )


def _reduce_workers(fleet: Fleet) -> Action:
    workers = fleet.config.settings.processpool_workers.value
    runs = fleet.finished
    failed = runs[runs["processpool_failure"].astype(bool)]
    fewer = workers - WORKERS_LESS
    return Action(
        "reduce-workers",
        f"Reduce ProcessPool workers from {workers:g} to {fewer:g}",
        "ProcessPoolExecutor could not allocate memory for its workers",
        f"ProcessPool failures in {len(failed)} of {len(runs)} runs "
        f"({100 * len(failed) / max(1, len(runs)):.0f} %)",
        refs(fleet, "processpool_failed", failed) or refs(fleet, "critical_memory", failed),
        _change(fleet, "processpool_workers", workers, fewer),
    )


def _check_thread_leak(fleet: Fleet, leak: Climb) -> Action:
    """The thresholds table's "Active threads per instance > 25: Resource leak?", or a
    run's count climbing in the monitor's samples into its warning band."""
    pid = leak.pid or "<PID>"
    band = fleet.config.bands.threads_per_instance
    values: tuple[tuple[str, float | str], ...] = (
        ("instance", leak.instance), ("threads", float(leak.highest)),
    )  # fmt: skip
    passed = (
        f"its thread count passed the thresholds table's {band.critical:g} per instance"
        if leak.highest > band.critical
        else f"its thread count reached the thresholds table's {band.warning:g}-"
        f"{band.critical:g} per instance"
    )
    climbed = f", rising at every one of {leak.snapshots} samples" if leak.steady else ""
    return Action(
        "check-thread-leak",
        f"Check {leak.instance} for a thread leak: `lsof -p {pid} | grep -c thread`",
        f"{passed}{climbed} (Resource leak?)",
        leak.evidence,
        leak.refs,
        details=values + ((("pid", leak.pid),) if leak.pid else ()),
    )


def _monitor(fleet: Fleet, flag: Flag, held: tuple[Flag, ...]) -> Action:
    """Monitor closely: a yellow flag, and the red flag that would call for action."""
    red = next(f for f in held if f.id == escalation(flag.id))
    config = fleet.config
    if flag.id == "threads-high-occasionally":
        found = fleet.readings["threads"]
        peak = float(found.max() if len(found) else fleet.finished["max_threads"].max())
        value, above = peak, config.bands.thread_count.critical
        trigger = f"act when the thread count goes above {above:g} in more than "
        unit = READINGS if len(found) else "runs"
        trigger += f"{config.watch.frequent.value:g} % of {unit} ({red.text})"
        now = f"up to {peak:g} threads per process"
    else:
        value = flag.share
        above = _act_above(fleet, red.id)
        trigger = f"act above {above:g} % ({red.text})"
        now = f"{value:.0f} % of runs"
    return Action(
        "monitor",
        f"Monitor closely: {flag.text}",
        f"{now}; {trigger}",
        flag.evidence,
        flag.refs,
        details=(("flag", flag.id), ("value", value), ("act_above", above)),
    )


def _act_above(fleet: Fleet, red: str) -> float:
    """The share of runs above which a red flag holds."""
    config = fleet.config
    return {
        "processpool-fallback-high": config.bands.processpool_fallback_rate.critical,
        "threadpool-fallback-high": config.bands.threadpool_fallback_rate.critical,
    }.get(red, config.watch.frequent.value)
