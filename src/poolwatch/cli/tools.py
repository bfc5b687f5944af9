"""The commands beside the reports: monitor, thresholds, simulate."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click

from poolwatch import api
from poolwatch.cli.base import bar, main, say_line, told, voice_options
from poolwatch.sizes import parse_size

if TYPE_CHECKING:
    pass


@main.command()
@click.option(
    "--interval",
    "interval_text",
    default=None,
    metavar="SECONDS",
    help="Seconds between two samples, 0.1 to 86400 (default: 60, the guide's).",
)
@click.option(
    "--log",
    "log",
    type=click.Path(path_type=Path),
    default="poolwatch-monitor.jsonl",
    show_default=True,
    help="The JSON records, one a line; the human log (.log), the "
    "state (.state.json) and a lock (.lock) go beside it.",
)
@click.option(
    "--logs",
    "patterns",
    multiple=True,
    metavar="GLOB",
    help="Run logs and run_card.sh consoles to count fallbacks in (repeatable; "
    "default: tmp_batt_*_run.log). A glob matching nothing is recorded, not an error.",
)
@click.option("--once", is_flag=True, help="Take one sample and exit (for cron).")
@click.option(
    "--textfile",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH.prom",
    help="Also write the figures for node_exporter's textfile collector.",
)
@click.option("--syslog", is_flag=True, help="Also send each alert to syslog (/dev/log).")
@click.option(
    "--syslog-socket",
    default=None,
    metavar="PATH",
    help="The syslog socket for --syslog (default: /dev/log).",
)
@click.option(
    "--on-alert",
    "on_alert",
    default=None,
    metavar="CMD",
    help="Run CMD for each alert (no shell): the alert comes as POOLWATCH_ALERT_* "
    "variables and as JSON on standard input.",
)
@voice_options
def monitor(
    *,
    interval_text: str | None,
    log: Path,
    patterns: tuple[str, ...],
    once: bool,
    textfile: Path | None,
    syslog: bool,
    syslog_socket: str | None,
    on_alert: str | None,
) -> None:
    """Sample the run_batt.py processes and their logs, as the guide's monitor meant to.

    Records every run_batt.py process (instance, threads, memory, age), the host's
    threads, memory and load, and each instance's fallback lines since the previous
    sample; alerts on more than 5 overloads or more than 3 ThreadPool failures in an
    instance's window. Runs in the foreground until SIGTERM or SIGINT, or once (--once).
    """
    from poolwatch.monitor import settings
    from poolwatch.monitor.loop import run

    if syslog_socket is not None and not syslog:
        raise settings.MonitorUsageError("--syslog-socket is given without --syslog")
    options = settings.Options(
        files=settings.check_log(log),
        patterns=patterns or settings.DEFAULT_LOGS,
        interval=settings.DEFAULT_INTERVAL
        if interval_text is None
        else settings.parse_interval(interval_text),
        once=once,
        textfile=None if textfile is None else settings.check_textfile(textfile),
        syslog=(syslog_socket or settings.DEFAULT_SYSLOG) if syslog else None,
        on_alert=() if on_alert is None else settings.parse_command(on_alert),
    )
    verbose = told("verbose")
    run(options, say=say_line, note=lambda line: say_line(line, err=True) if verbose else None)


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A poolwatch.toml (default: ./poolwatch.toml if present).",
)
def thresholds(*, config_path: Path | None) -> None:
    """Print the effective thresholds and settings, and where each came from."""
    from poolwatch.config import describe

    click.echo(describe(api.config(config_path)))


#: simulate's scenarios (poolwatch.simulate.SCENARIOS, which a test holds this to; the
#: simulator is imported only when it runs).
_SCENARIOS = ["healthy", "overloaded", "memory-pressure", "timeouts", "sequential-excessive",
              "deadlock", "degraded"]  # fmt: skip


@main.command()
@click.option(
    "--scenario",
    "scenarios",
    type=click.Choice(_SCENARIOS),
    multiple=True,
    help="The guide's production pattern or diagnostic scenario (deadlock: runs that hang "
    "silently and are killed at the timeout; degraded: the healthy mix with a fallback "
    "line on every task of a degraded run, as dense as real degraded logs). Default: "
    "healthy. With --hosts: one for every host, or repeated, one per host (default: "
    "healthy, overloaded, healthy, memory-pressure, healthy, then again).",
)
@click.option(
    "--hosts",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Write N hosts' fleets side by side, OUT/host1/ to OUT/hostN/ (host k from the seed "
    "+ 1000 x (k-1); --size shared), the first instance of each running as the same "
    "tmp_batt_<id>.",
)
@click.option("--instances", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs per instance (a minimum with --size).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--size", "size", default=None, help="Keep adding runs until this size (1GB, 100MB).")
@click.option("--live", is_flag=True, help="Leave the last run of each instance unfinished.")
@click.option(
    "--monitor-style",
    type=click.Choice(["emoji", "mojibake", "plain"]),
    default="emoji",
    show_default=True,
    help="How the monitor's alert lines are marked (mojibake: a copy of the guide's script "
    "taken from a page that mis-decoded its emoji).",
)
@click.option(
    "--version",
    type=click.Choice(["first", "later", "mixed"]),
    default="first",
    show_default=True,
    help="The run_batt.py the instances run: the first (600 s timeout, overload above 50 "
    "threads), a later one (timeout of 2 x |count| s, overload above 40), or half each.",
)
@click.option(
    "--snapshots",
    type=click.Choice(["none", "steady", "leak"]),
    default="none",
    show_default=True,
    help="Also write the thread snapshots an operator pastes, threads_tmp_batt_<id>.txt per "
    "instance (leak: one instance's thread count climbs).",
)
@click.option(
    "--copied",
    is_flag=True,
    help="Leave each file with the time it was written, as a copy (cp, a git checkout) has, "
    "instead of dating it at its last simulated write.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory to write.")
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def simulate(
    *,
    scenarios: tuple[str, ...],
    hosts: int | None,
    instances: int,
    runs: int,
    seed: int,
    size: str | None,
    live: bool,
    monitor_style: str,
    version: str,
    snapshots: str,
    copied: bool,
    out: Path,
    force: bool,
) -> None:
    """Write realistic console logs, run logs and a monitor log for a scenario (or, with
    --hosts, for several hosts)."""
    from poolwatch.simulate import host_scenarios, simulate_hosts
    from poolwatch.simulate import simulate as run_simulation

    try:
        size_bytes = parse_size(size) if size else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--size") from err
    if hosts is None and len(scenarios) > 1:
        raise click.BadParameter("give one scenario, or --hosts N", param_hint="--scenario")
    try:
        chosen = host_scenarios(hosts, scenarios) if hosts is not None else ()
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--scenario") from err
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise click.BadParameter(
            f"{out} is not empty (its files could be overwritten); use --force to write there",
            param_hint="--out",
        )
    with bar("writing", size_bytes, "B") if sys.stderr.isatty() else nullcontext() as progress:
        if hosts is None:
            result = run_simulation(
                scenarios[0] if scenarios else "healthy", out, instances=instances, runs=runs,
                seed=seed, size_bytes=size_bytes, live=live, monitor_style=monitor_style,
                version=version, snapshots=snapshots, copied=copied, progress=progress,
            )  # fmt: skip
        else:
            result = simulate_hosts(
                out, hosts, chosen, instances=instances, runs=runs, seed=seed,
                size_bytes=size_bytes, live=live, monitor_style=monitor_style, version=version,
                snapshots=snapshots, copied=copied, progress=progress,
            )  # fmt: skip
    click.echo(
        f"wrote {len(result.files)} files, {result.bytes:,} bytes, {result.lines:,} lines, "
        f"{len(result.runs)} runs to {out}"
    )
    if hosts is not None:
        click.echo(", ".join(f"host{k}: {name}" for k, name in enumerate(chosen, start=1)))
