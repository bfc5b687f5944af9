"""The entry point: a scenario's fleet simulated and written to a directory."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from poolwatch.simulate.fleet import Fleet, Writer, make_fleet, run_fleet
from poolwatch.simulate.monitorlog import monitor_text
from poolwatch.simulate.numbers import (
    DEFAULT_START,
    MONITOR_LOG,
    MONITOR_STYLES,
    RECORDS_LOG,
    SCENARIOS,
    SNAPSHOTS,
    VERSIONS,
)
from poolwatch.simulate.records import records_text
from poolwatch.simulate.snapshots import write_snapshots
from poolwatch.simulate.truth import SimulationResult, SnapshotTruth

# --- Entry point -----------------------------------------------------------------------------


def _set_modification_times(
    fleet: Fleet, window_end: float, snapshots: list[SnapshotTruth]
) -> None:
    """Dates every file at its last simulated write, the only clock a bare file carries."""
    for inst in fleet.instances:
        when = fleet.epoch0 + inst.end
        os.utime(fleet.out / inst.console, (when, when))
        os.utime(fleet.out / inst.run_log, (when, when))
    for snapshot in snapshots:
        when = snapshot.taken_at[-1].timestamp()
        os.utime(fleet.out / snapshot.file, (when, when))
    when = fleet.epoch0 + window_end
    os.utime(fleet.out / MONITOR_LOG, (when, when))
    os.utime(fleet.out / RECORDS_LOG, (when, when))


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raises ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def _validate(
    scenario: str, instances: int, runs: int, size_bytes: int | None, choices: Mapping[str, str]
) -> None:
    """Raises ValueError with one clear line for arguments that cannot be simulated;
    ``choices`` holds the monitor style, version and snapshots asked for."""
    _one_of("scenario", scenario, SCENARIOS)
    if instances < 1:
        raise ValueError(f"instances must be at least 1, got {instances}")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if size_bytes is not None and size_bytes < 0:
        raise ValueError(f"size_bytes must not be negative, got {size_bytes}")
    _one_of("monitor_style", choices["monitor_style"], MONITOR_STYLES)
    _one_of("version", choices["version"], VERSIONS)
    _one_of("snapshots", choices["snapshots"], SNAPSHOTS)


def simulate(
    scenario: str,
    out: Path,
    *,
    instances: int = 8,
    runs: int = 3,
    seed: int = 0,
    size_bytes: int | None = None,
    live: bool = False,
    monitor_style: str = "emoji",
    version: str = "first",
    snapshots: str = "none",
    copied: bool = False,
    start: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Writes a scenario's console logs, run logs and monitor log into ``out``.

    ``runs`` is the number of runs per instance, a minimum when ``size_bytes`` asks for more
    or when ``live`` lets the instances run on to one common moment (the snapshot), at which
    each one's last run is cut off.  ``version`` is the run_batt.py the instances run (see
    ``VERSIONS``); ``snapshots`` adds a pasted thread-snapshot file per instance (see
    ``SNAPSHOTS``).  ``start`` defaults to a fixed time (a naive one is taken as UTC);
    ``progress`` receives the size in bytes of each write.  The same arguments always give
    byte-identical files, each dated (mtime) at its last simulated write, or, if ``copied``,
    left with the time it was written, as a copy (``cp``, a git checkout) has.
    """
    choices = {"monitor_style": monitor_style, "version": version, "snapshots": snapshots}
    _validate(scenario, instances, runs, size_bytes, choices)
    when = start or DEFAULT_START
    epoch0 = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(progress)
    rounds = runs - 1 if live else runs
    fleet = make_fleet(
        scenario, instances, seed, rounds=rounds, version=version, epoch0=epoch0,
        writer=writer, out=out,
    )  # fmt: skip
    for inst in fleet.instances:
        writer.create(out / inst.console)
    window_end = run_fleet(fleet, runs, size_bytes, live)
    for inst in fleet.instances:
        if inst.pending.strip():  # timeout's message for a last run it killed
            writer.append(inst.console_path, inst.pending)
        writer.create(out / inst.run_log)
        writer.append(out / inst.run_log, inst.run_log_text)
    monitor = out / MONITOR_LOG
    writer.create(monitor)
    writer.append(monitor, monitor_text(fleet, window_end, monitor_style))
    pasted = write_snapshots(fleet, snapshots) if snapshots != "none" else []
    records = out / RECORDS_LOG
    writer.create(records)
    samples_rng = random.Random(f"{RECORDS_LOG}-{seed}")
    writer.append(records, records_text(fleet, window_end, pasted, samples_rng))
    writer.close()
    if not copied:
        _set_modification_times(fleet, window_end, pasted)
    return SimulationResult(
        tuple(writer.files), writer.bytes, writer.lines, tuple(fleet.truths), tuple(pasted)
    )
