"""The entry point: a scenario's fleet simulated and written to a directory."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path
from typing import TypedDict, Unpack

from poolwatch.simulate.fleet import Fleet, Writer, make_fleet, run_fleet
from poolwatch.simulate.monitorlog import monitor_text
from poolwatch.simulate.numbers import (
    DEFAULT_START,
    HOST_SCENARIOS,
    HOST_SEED_STRIDE,
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
    host: str = "",
    first_id: str | None = None,
) -> SimulationResult:
    """Writes a scenario's console logs, run logs and monitor log into ``out``.

    ``runs`` is the number of runs per instance, a minimum when ``size_bytes`` asks for more
    or when ``live`` lets the instances run on to one common moment (the snapshot), at which
    each one's last run is cut off.  ``version`` is the run_batt.py the instances run (see
    ``VERSIONS``); ``snapshots`` adds a pasted thread-snapshot file per instance (see
    ``SNAPSHOTS``).  ``start`` defaults to a fixed time (a naive one is taken as UTC);
    ``progress`` receives the size in bytes of each write.  The same arguments always give
    byte-identical files, each dated (mtime) at its last simulated write, or, if ``copied``,
    left with the time it was written, as a copy (``cp``, a git checkout) has.  ``host``
    names the host of a corpus of several (``simulate_hosts``): its truths and its
    monitor's records carry it; ``first_id`` is the id its first instance runs as.
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
        writer=writer, out=out, host=host, first_id=first_id,
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
    names = tuple((host, f"tmp_batt_{inst.iid}") for inst in fleet.instances)
    return SimulationResult(
        tuple(writer.files), writer.bytes, writer.lines, tuple(fleet.truths), tuple(pasted),
        names,
    )  # fmt: skip


def host_scenarios(hosts: int, scenarios: Sequence[str] = ()) -> tuple[str, ...]:
    """The scenario of each of ``hosts`` hosts: ``HOST_SCENARIOS`` in turn when none is
    given, one scenario for all, or one per host (raises ValueError otherwise)."""
    if hosts < 1:
        raise ValueError(f"hosts must be at least 1, got {hosts}")
    if len(scenarios) > 1 and len(scenarios) != hosts:
        raise ValueError(
            f"{len(scenarios)} scenarios for {hosts} hosts: give one scenario, or one per host"
        )
    for scenario in scenarios:
        _one_of("scenario", scenario, SCENARIOS)
    return tuple(islice(cycle(scenarios or HOST_SCENARIOS), hosts))


class Passed(TypedDict, total=False):
    """``simulate``'s arguments that ``simulate_hosts`` gives every host as they are."""

    instances: int
    runs: int
    live: bool
    monitor_style: str
    version: str
    snapshots: str
    copied: bool
    start: datetime | None
    progress: Callable[[int], None] | None


def simulate_hosts(
    out: Path,
    hosts: int,
    scenarios: Sequence[str] = (),
    *,
    seed: int = 0,
    size_bytes: int | None = None,
    **passed: Unpack[Passed],
) -> SimulationResult:
    """Writes a corpus of several hosts' logs, ``out/host1/`` to ``out/host<hosts>/``, each
    the fleet of one scenario (``host_scenarios``: by default healthy, overloaded, healthy,
    memory-pressure, healthy, then again) with ``simulate``'s other arguments.

    Host k's fleet follows ``seed + HOST_SEED_STRIDE * (k - 1)`` (host1's is the one-host
    corpus of ``seed``), and ``size_bytes`` is shared equally. The first instance of every
    host runs as the same ``tmp_batt_<id>`` (host1's first instance's), as ``-o`` runs
    all run as ``tmp_batt_onerun``: telling instances apart needs their host.
    """
    chosen = host_scenarios(hosts, scenarios)
    share = None if size_bytes is None else -(-size_bytes // hosts)
    results: list[SimulationResult] = []
    shared: str | None = None
    for k, scenario in enumerate(chosen):
        name = f"host{k + 1}"
        result = simulate(
            scenario, out / name, seed=seed + HOST_SEED_STRIDE * k, size_bytes=share,
            host=name, first_id=shared, **passed,
        )  # fmt: skip
        shared = shared or result.instances[0][1].removeprefix("tmp_batt_")
        results.append(result)
    return SimulationResult(
        tuple(path for r in results for path in r.files),
        sum(r.bytes for r in results),
        sum(r.lines for r in results),
        tuple(run for r in results for run in r.runs),
        tuple(snapshot for r in results for snapshot in r.snapshots),
        tuple(instance for r in results for instance in r.instances),
    )
