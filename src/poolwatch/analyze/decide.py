"""The guide's decision tree walked on the data, its Quick Diagnostics scenarios, and the
concrete actions they call for, each with its numbers and the log lines behind it.

Every sentence a finding shows is written here, once; summary.json and the reports
only lay them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from poolwatch.analyze.evidence import RUNS, refs
from poolwatch.analyze.runs import KILLED, Fleet, overload_threads
from poolwatch.findings import Action, MetricRow, Scenario, Step, TreeNode


def runs_of(count: int) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} run" if count == 1 else f"{count} runs"


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
            processpool=pct(runs["processpool_failed"] > 0),
            threadpool=pct(runs["threadpool_failed"] > 0),
            sequential=pct(runs["path"] == "sequential"),
            overload=pct(runs["overloads"] > 0),
            killed=int(outcome.isin(KILLED).sum()),
            hung=int((outcome == "hung").sum()),
            timed_out=int((outcome == "timed_out").sum()),
        )


# --- the decision tree -------------------------------------------------------------------

#: The guide's "Troubleshooting Decision Tree": (id, parent, label), in the guide's order.
TREE: tuple[tuple[str, str | None, str], ...] = (
    ("root", None, "Is script completing successfully?"),
    ("yes", "root", "YES → Check logs for fallback patterns"),
    ("no-fallbacks", "yes", "No fallbacks → ✅ Optimal performance"),
    ("processpool", "yes", "ProcessPool fallbacks (<30%) → ✅ Working as designed"),
    ("threadpool", "yes", "ThreadPool fallbacks (<15%) → ⚠️ Monitor, consider reducing load"),
    ("sequential", "yes", "Sequential fallbacks (>30%) → ❌ System overloaded, reduce instances"),
    ("no", "root", "NO → Script hanging or timing out?"),
    ("hanging", "no", "Hanging → Check thread count"),
    ("many-threads", "hanging",
     ">80 threads → ❌ Thread exhaustion despite checks; ACTION: Reduce threshold (50 → 30)"),
    ("few-threads", "hanging",
     "<50 threads → ❌ Other issue (deadlock? infinite loop?); ACTION: Check code logic, "
     "add logging"),
    ("timing-out", "no", "Timing out (10 minutes) → Legitimate work or hang?"),
    ("legitimate", "timing-out", "Legitimate (large batch) → Increase timeout (600s → 900s)"),
    ("hang", "timing-out", 'Hang → See "Hanging" above'),
)  # fmt: skip


def tree(path: tuple[Step, ...]) -> tuple[TreeNode, ...]:
    """The guide's tree, each node marked taken when the walk passed through it."""
    parents = {node: parent for node, parent, _ in TREE}
    taken = {"root"}
    for step in path:
        node = step.node
        while node is not None:
            taken.add(node)
            node = parents[node]
    return tuple(TreeNode(node, parent, label, node in taken) for node, parent, label in TREE)


def decision_path(fleet: Fleet, rows: tuple[MetricRow, ...]) -> tuple[Step, ...]:
    """The guide's "Troubleshooting Decision Tree", walked from its root on this data."""
    shares = Shares.of(fleet)
    timeout = fleet.config.setting("timeout")
    if not shares.total:
        return (
            Step("Is script completing successfully?", "Unknown: no run has finished yet",
                 "no finished run in the logs: nothing to walk the tree on"),
        )  # fmt: skip
    if not shares.killed:
        first = Step(
            "Is script completing successfully?",
            "YES",
            f"{shares.total} of {shares.total} finished runs completed or exited; none was "
            f"killed by the {timeout:g} s timeout",
            "yes",
        )
        return (first, _fallback_step(fleet, shares))
    first = Step(
        "Is script completing successfully?",
        "NO",
        f"{shares.killed} of {shares.total} finished runs were killed by the {timeout:g} s "
        f"timeout ({shares.hung} hung, {shares.timed_out} still working)",
        "no",
    )
    if shares.hung:
        second = Step(
            "Script hanging or timing out?",
            "Hanging",
            f"{runs_of(shares.hung)} hung: their last task started, never finished, and shows "
            "thread exhaustion (thread creation failed, exceptions)",
            "hanging",
        )
        return (first, second, _thread_step(fleet, rows))
    second = Step(
        "Script hanging or timing out?",
        "Timing out (10 minutes)",
        f"{runs_of(shares.timed_out)} still making progress when the timeout killed them",
        "timing-out",
    )
    third = Step(
        "Legitimate work or hang?",
        f"Legitimate (large batch) → Increase timeout ({timeout:g}s → {_longer_timeout(fleet):g}s)",
        "no thread exhaustion in the task each killed run was working on",
        "legitimate",
    )
    return (first, second, third)


def _fallback_step(fleet: Fleet, s: Shares) -> Step:
    """The YES branch: the most severe fallback pattern the logs show.

    Where the data falls outside every branch (fallbacks above the tree's limits, or
    overload skips below its 30 %), the answer says so and falls back on the
    thresholds table or the guide's High Load pattern.
    """
    pp_limit = fleet.config.band("processpool_fallback_rate").critical
    tp_limit = fleet.config.band("threadpool_fallback_rate").critical
    frequent = fleet.config.watching("frequent")
    numbers = (
        f"ProcessPool failures in {s.processpool:.0f} % of runs, ThreadPool failures in "
        f"{s.threadpool:.0f} %, sequential runs {s.sequential:.0f} %"
    )
    branches = (
        (s.sequential > frequent, "sequential",
         "Sequential fallbacks (>30%) → ❌ System overloaded, reduce instances"),
        (s.threadpool > tp_limit, None,
         f"ThreadPool fallbacks at {s.threadpool:.0f} %: the tree has no branch above "
         f"{tp_limit:g} %; the thresholds table grades it critical: Reduce concurrent instances"),
        (s.processpool > pp_limit, None,
         f"ProcessPool fallbacks at {s.processpool:.0f} %: the tree has no branch above "
         f"{pp_limit:g} %; the thresholds table grades it critical: Add memory or reduce "
         "workers"),
        (s.threadpool > 0, "threadpool",
         "ThreadPool fallbacks (<15%) → ⚠️ Monitor, consider reducing load"),
        (s.processpool > 0, "processpool", "ProcessPool fallbacks (<30%) → ✅ Working as designed"),
        (s.sequential > 0 or s.overload > 0, None,
         f"Sequential runs at {s.sequential:.0f} % (overload skips): the tree has no branch up "
         f"to {frequent:g} %; the guide's High Load pattern calls it graceful degradation, no "
         "action needed"),
        (True, "no-fallbacks", "No fallbacks → ✅ Optimal performance"),
    )  # fmt: skip
    node, answer = next((node, text) for holds, node, text in branches if holds)
    return Step("Check logs for fallback patterns", answer, numbers, node)


def _thread_step(fleet: Fleet, rows: tuple[MetricRow, ...]) -> Step:
    """The Hanging branch: what the thread count says."""
    hung = fleet.finished[fleet.finished["outcome"] == "hung"]
    counts = hung["max_threads"].dropna()
    band = fleet.config.band("thread_count")
    limit = fleet.config.setting("overload_threads")
    question = "Check thread count"
    if counts.empty:
        fleetwide = next(r for r in rows if r.name == "thread_count").value
        if fleetwide is None:
            return Step(question, "Unknown: no per-process thread count in the logs; thread "
                        "exhaustion lines point to exhaustion despite checks",
                        "no overload messages or snapshots")  # fmt: skip
        threads, where = fleetwide, "across the fleet"
    else:
        threads, where = float(counts.max()), "in the hung runs"
    evidence = f"up to {threads:g} threads per process {where}"
    if threads > band.critical:
        return Step(question, f">{band.critical:g} threads → ❌ Thread exhaustion despite checks;"
                    f" ACTION: Reduce threshold ({limit:g} → {_lower_threshold(fleet):g})",
                    evidence, "many-threads")  # fmt: skip
    if threads < band.warning:
        return Step(question, f"<{band.warning:g} threads → ❌ Other issue (deadlock? infinite "
                    "loop?); ACTION: Check code logic, add logging", evidence,
                    "few-threads")  # fmt: skip
    return Step(question, f"{threads:g} threads: the tree has no branch between "
                f"{band.warning:g} and {band.critical:g}; the thresholds table grades it a "
                "warning: Reduce concurrent instances", evidence)  # fmt: skip


# --- numbers the actions use --------------------------------------------------------------


def observed_concurrency(fleet: Fleet) -> int | None:
    """The most runs going at once, when the logs give their start times."""
    if fleet.concurrency.empty or fleet.concurrency["running"].max() <= 0:
        return None
    return int(fleet.concurrency["running"].max())


def running_at_once(fleet: Fleet) -> int:
    """Instances to size actions by: the most seen running at once; without start times,
    the configured fleet size (the guide's 8) or, if more, the instances seen."""
    observed = observed_concurrency(fleet)
    if observed is not None:
        return observed
    seen = int(fleet.runs["instance"].nunique())
    return max(seen, int(fleet.config.setting("instances")))


def _fewer_instances(fleet: Fleet, *, severe: bool) -> int:
    """How many instances would keep the per-process thread count under the check.

    Instances are scaled by the overload threshold over the 90th percentile of the
    counts the overload messages report (the guide's 8 instances at 80-95 threads give
    4). When ThreadPools also fail, the guide cuts harder (8 → 2-3): at most 3/8.
    """
    now = running_at_once(fleet)
    threads = overload_threads(fleet)
    target = now - 1
    if not threads.empty:
        typical = float(threads.quantile(0.9))
        target = math.floor(now * fleet.config.setting("overload_threads") / typical)
    if severe:
        target = min(target, math.floor(now * 3 / 8))
    return max(1, min(target, now - 1))


def _lower_threshold(fleet: Fleet) -> float:
    """The guide's lower overload threshold: 30 after exhaustion above the critical band,
    40 otherwise ("50 → 30-40")."""
    hung = fleet.finished[fleet.finished["outcome"] == "hung"]
    critical = fleet.config.band("thread_count").critical
    limit = fleet.config.setting("overload_threads")
    severe = bool((hung["max_threads"].fillna(0) > critical).any())
    return min(limit - 10, 30.0 if severe else 40.0)


def _longer_timeout(fleet: Fleet) -> float:
    """A timeout the killed working runs would have finished in, at least the guide's 900 s.

    A run killed after doing ``done`` of its ``requested`` tasks needs about
    ``timeout * requested / done``; rounded up to the next 100 s.
    """
    timeout = fleet.config.setting("timeout")
    runs = fleet.finished[fleet.finished["outcome"] == "timed_out"]
    needed = 1.5 * timeout  # the guide's 600 s → 900 s
    for requested, done in zip(runs["requested_tasks"], runs["tasks_done"], strict=True):
        if pd.notna(requested) and done:
            needed = max(needed, timeout * float(requested) / float(done))
    return float(math.ceil(needed / 100) * 100)


# --- scenarios ---------------------------------------------------------------------------


def scenarios(fleet: Fleet) -> tuple[Scenario, ...]:
    """The guide's "Quick Diagnostics" scenarios these logs show."""
    s = Shares.of(fleet)
    frequent = fleet.config.watching("frequent")
    pp_limit = fleet.config.band("processpool_fallback_rate").critical
    runs = fleet.finished
    found: list[Scenario] = []
    if s.overload > frequent:
        found.append(_frequent_overload(fleet, s, runs[runs["overloads"] > 0]))
    if s.processpool > pp_limit:
        found.append(_processpool_fallbacks(fleet, s, runs[runs["processpool_failed"] > 0]))
    if s.killed:
        found.append(_script_timeouts(fleet, s, runs[runs["outcome"].isin(KILLED)]))
    if s.threadpool > frequent:
        found.append(_sequential_excessive(fleet, s, runs[runs["threadpool_failed"] > 0]))
    return tuple(found)


def _thread_range(fleet: Fleet, runs: pd.DataFrame) -> str:
    """``(51-95 threads)`` from the overload messages of some runs."""
    counts = runs["max_threads"].dropna()
    low = overload_threads(fleet)
    if counts.empty or low.empty:
        return ""
    return f", {int(low.min())}-{int(counts.max())} threads"


def _frequent_overload(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    now, target = running_at_once(fleet), _fewer_instances(fleet, severe=False)
    limit = fleet.config.setting("overload_threads")
    lines = int(runs["overloads"].sum())
    return Scenario(
        "frequent-overload",
        'Frequent "System overloaded" Messages',
        "Too many concurrent run_card.sh instances",
        f'"System overloaded" in {len(runs)} of {s.total} runs ({s.overload:.0f} %), '
        f"{lines:,} lines{_thread_range(fleet, runs)}",
        (
            f"Reduce concurrent instances ({now} → {target})",
            f"Increase threshold ({limit:g} → {limit + 20:g}) if system stable",
            "Monitor system thread count before starting new instances",
        ),
        refs(fleet, "overload", runs),
    )


def _processpool_fallbacks(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    workers = fleet.config.setting("processpool_workers")
    lines = int(runs["processpool_failed"].sum())
    return Scenario(
        "processpool-fallbacks",
        "Frequent ProcessPool Fallbacks",
        f"Memory pressure, not enough RAM for {workers:g} worker processes",
        f"ProcessPool failures in {len(runs)} of {s.total} runs ({s.processpool:.0f} %), "
        f"{lines:,} lines",
        (
            "Reduce concurrent instances",
            "Add more system memory",
            f"Reduce ProcessPoolExecutor workers ({workers:g} → {max(1, workers - 1):g}) if needed",
            "This is working as designed (fallback successful)",
        ),
        refs(fleet, "processpool_failed", runs),
    )


def _script_timeouts(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    timeout = fleet.config.setting("timeout")
    limit = fleet.config.setting("overload_threads")
    return Scenario(
        "script-timeouts",
        "Script Timeouts",
        "Script hanging, likely on thread creation despite checks"
        if s.hung
        else "Runs longer than the timeout, still working when killed",
        f"{s.killed} of {s.total} runs killed by the {timeout:g} s timeout ({s.hung} hung, "
        f"{s.timed_out} still working)",
        (
            "Check thread count before timeout: ps -eLf | wc -l",
            f"Reduce thread threshold ({limit:g} → {_lower_threshold(fleet):g})",
            f"Increase timeout ({timeout:g}s → {_longer_timeout(fleet):g}s) if legitimate work",
            "Check for thread leaks: lsof -p <PID> | grep -c thread",
        ),
        refs(fleet, RUNS, runs),
    )


def _sequential_excessive(fleet: Fleet, s: Shares, runs: pd.DataFrame) -> Scenario:
    now, target = running_at_once(fleet), _fewer_instances(fleet, severe=True)
    lines = int(runs["threadpool_failed"].sum())
    return Scenario(
        "sequential-excessive",
        "Sequential Fallback Excessive",
        "System severely overloaded",
        f'"ThreadPoolExecutor also failed" in {len(runs)} of {s.total} runs '
        f"({s.threadpool:.0f} %, above {fleet.config.watching('frequent'):g} %), {lines:,} lines",
        (
            f"Reduce concurrent instances significantly ({now} → {target})",
            "Check for other resource-heavy processes",
            "Consider running single-instance until resource issue resolved",
            "This still works (sequential is reliable), just slower",
        ),
        refs(fleet, "threadpool_failed", runs),
    )


# --- actions -----------------------------------------------------------------------------


def actions(
    fleet: Fleet, found: tuple[Scenario, ...], rows: tuple[MetricRow, ...]
) -> tuple[Action, ...]:
    """Concrete changes, most urgent first, each with its reason and evidence."""
    ids = {scenario.id for scenario in found}
    s = Shares.of(fleet)
    grades = {row.name: row.grade for row in rows}
    out: list[Action] = []
    severe = "sequential-excessive" in ids
    if severe or "frequent-overload" in ids or grades.get("thread_count") == "critical":
        out.append(_reduce_instances(fleet, severe=severe))
    hung = fleet.finished[fleet.finished["outcome"] == "hung"]
    if len(hung):
        out.append(_lower_threshold_action(fleet, hung))
    working = fleet.finished[fleet.finished["outcome"] == "timed_out"]
    if len(working):
        out.append(_raise_timeout(fleet, working))
    if "processpool-fallbacks" in ids:
        out.append(_reduce_workers(fleet, s))
    return tuple(out)


def _reduce_instances(fleet: Fleet, *, severe: bool) -> Action:
    now, target = running_at_once(fleet), _fewer_instances(fleet, severe=severe)
    runs = fleet.finished
    overloaded = runs[(runs["overloads"] > 0) | (runs["threadpool_failed"] > 0)]
    threads = overload_threads(fleet)
    peak = f"up to {int(threads.max())} threads per process" if len(threads) else "no counts"
    limit = fleet.config.setting("overload_threads")
    return Action(
        "reduce-instances",
        f"Reduce concurrent instances from {now} to {target}",
        f"{now} instances ran at once and run_batt.py found {peak} (its limit is {limit:g}): "
        + ("ThreadPools failed too" if severe else "it skipped the ProcessPool"),
        f"{len(overloaded)} of {len(runs)} runs fell back",
        refs(fleet, "threadpool_failed" if severe else "overload", overloaded),
    )


def _lower_threshold_action(fleet: Fleet, hung: pd.DataFrame) -> Action:
    limit = fleet.config.setting("overload_threads")
    return Action(
        "lower-threshold",
        f"Lower the thread threshold from {limit:g} to {_lower_threshold(fleet):g}",
        "runs hung on thread creation despite the overload check",
        f"{runs_of(len(hung))} hung and killed by the timeout",
        refs(fleet, "thread_retry", hung) or refs(fleet, RUNS, hung),
    )


def _raise_timeout(fleet: Fleet, working: pd.DataFrame) -> Action:
    timeout = fleet.config.setting("timeout")
    return Action(
        "raise-timeout",
        f"Raise the timeout from {timeout:g} s to {_longer_timeout(fleet):g} s",
        "runs were still making progress when the timeout killed them (legitimate work)",
        f"{runs_of(len(working))} killed while working; "
        f"{int(working['tasks_done'].sum()):,} tasks done in them",
        refs(fleet, RUNS, working),
    )


def _reduce_workers(fleet: Fleet, s: Shares) -> Action:
    workers = fleet.config.setting("processpool_workers")
    runs = fleet.finished[fleet.finished["processpool_failed"] > 0]
    return Action(
        "reduce-workers",
        f"Reduce ProcessPool workers from {workers:g} to {max(1, workers - 1):g}",
        "ProcessPoolExecutor could not allocate memory for its workers",
        f"ProcessPool failures in {len(runs)} of {s.total} runs ({s.processpool:.0f} %)",
        refs(fleet, "processpool_failed", runs),
    )
