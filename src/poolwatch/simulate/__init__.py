"""Realistic, deterministic logs of a run_card.sh fleet, with the ground truth of every run.

One call writes, into one directory, what a host running several ``run_card.sh`` instances
leaves behind: one console log per instance (every run, in order), one run log per instance
(``tee``'s copy of its latest run only), the ``week6b_monitoring.log`` that the guide's
monitoring script really writes, the records ``poolwatch monitor`` writes over the same
window (``poolwatch-monitor.jsonl``: every run's process and its threads at each sample),
and optionally the thread snapshots operators paste. ``simulate_hosts`` writes several
hosts' fleets side by side (``out/host1/``, ...), one tmp_batt_<id> running on them all.
Every byte derives from ``random.Random(seed)`` and ``start``, so the same arguments always
produce the same files, and each run's ground truth (executor path, fallback counts, kill,
hang, exit, limits, console-only lines) comes back as a :class:`RunTruth`.

The realities of log-formats.md are written on purpose: stderr lines reach the console but
never ``tee``'s run log, runs die of memory seconds after their start, hangs can be silent,
each version of run_batt.py has its own limits, and copied files lose their times.
"""

from poolwatch.simulate.numbers import (
    HOST_SCENARIOS,
    MONITOR_STYLES,
    SCENARIOS,
    SNAPSHOTS,
    VERSIONS,
)
from poolwatch.simulate.truth import RunTruth, SimulationResult, SnapshotTruth
from poolwatch.simulate.write import host_scenarios, simulate, simulate_hosts

__all__ = [
    "HOST_SCENARIOS",
    "MONITOR_STYLES",
    "SCENARIOS",
    "SNAPSHOTS",
    "VERSIONS",
    "RunTruth",
    "SimulationResult",
    "SnapshotTruth",
    "host_scenarios",
    "simulate",
    "simulate_hosts",
]
