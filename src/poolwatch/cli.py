"""The ``poolwatch`` command line: parse arguments, call the pipeline, set exit codes."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from poolwatch import __version__
from poolwatch.ingest.sources import STDIN
from poolwatch.sizes import parse_size

if TYPE_CHECKING:
    from poolwatch.config import Config
    from poolwatch.findings import Findings
    from poolwatch.ingest.parse import Ingest

# The pipeline (pandas, polars) is imported by the commands that use it: ``--help`` stays
# fast, and worker processes, which import this module again, stay small.
Progress = Callable[[int], None]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="poolwatch")
def main() -> None:
    """Turn run_card.sh / run_batt.py fleet logs into incident reports."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="events.parquet or events.csv: the events table; DIR/: every table as Parquet.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def parse(*, paths: tuple[str, ...], out: Path | None, quiet: bool) -> None:
    """Read logs (files, directories, globs, - for stdin) into tables.

    Compressed files (.gz, .bz2, .xz) are read transparently; each file's family
    (run log, run_card console, monitor log, thread snapshot) is told from its content.
    """
    from poolwatch.render.output import OutputError
    from poolwatch.render.tables import write_tables
    from poolwatch.render.terminal import parse_summary

    result = _ingest(paths)
    if out is not None:
        try:
            written = write_tables(result, out, given=paths)
        except OutputError as err:
            raise click.UsageError(str(err)) from err
    if not quiet:
        click.echo(parse_summary(result))
        if out is not None:
            click.echo("wrote " + ", ".join(str(p) for p in written))


def _ingest(paths: tuple[str, ...]) -> Ingest:
    """Ingest the paths with a progress bar on a terminal; fail when nothing is usable."""
    from poolwatch.ingest.parse import ingest

    if paths.count(STDIN) > 1:
        raise click.UsageError("'-' (standard input) can be given only once")
    with _progress_bar(paths) as progress:
        result = ingest(paths, progress=progress)
    files = result.files
    for row in files[files["status"] == "skipped"].itertuples():
        click.echo(f"poolwatch: skipped {row.path}: {row.reason}", err=True)
    duplicates = int((files["status"] == "duplicate").sum())
    if duplicates:
        click.echo(
            f"poolwatch: {duplicates} duplicate input(s) counted once "
            "(the same file, the same content, or a tee copy of a console run)",
            err=True,
        )
    if not (result.files["status"] == "read").any():
        raise click.ClickException("no usable input: every path was skipped (see above)")
    return result


@contextmanager
def _progress_bar(paths: tuple[str, ...]) -> Iterator[Progress | None]:
    """A tqdm bar over input bytes when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    from poolwatch.ingest.sources import discover

    total = sum(s.path.stat().st_size for s in discover(paths).sources if s.path is not None)
    with tqdm(total=total, unit="B", unit_scale=True, desc="reading", leave=False) as bar:
        yield bar.update


#: Report formats and the file each writes.
_FORMATS = {
    "html": "report.html",
    "pdf": "report.pdf",
    "json": "summary.json",
    "md": "ticket.md",
}


def _config_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--config`` option of the commands that judge."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A poolwatch.toml (default: ./poolwatch.toml if present).",
    )(command)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory to write the report files into.",
)
@click.option(
    "--format",
    "formats",
    default=",".join(_FORMATS),
    show_default=True,
    help="Comma-separated formats to write: html (report.html), pdf (report.pdf), "
    "json (summary.json), md (ticket.md).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"], case_sensitive=False),
    default="a4",
    show_default=True,
    help="Page size of report.pdf (and of report.html when printed).",
)
@_config_option
def report(
    *, paths: tuple[str, ...], out: Path, formats: str, paper: str, config_path: Path | None
) -> None:
    """Diagnose the fleet the logs come from and write the report files into --out."""
    from poolwatch.render.output import OutputError, refuse_inputs
    from poolwatch.render.report import write_reports

    chosen = _formats(formats)
    config = _config(config_path)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    targets = {name: out / _FORMATS[name] for name in chosen}
    try:
        refuse_inputs(list(targets.values()), paths)
    except OutputError as err:
        raise click.UsageError(str(err)) from err
    findings = _diagnose(_ingest(paths), config, command=_command_line())
    try:
        with _steps_bar(len(targets)) as progress:
            write_reports(findings, targets, paper=paper.lower(), progress=progress)
    except OSError as err:
        where = err.filename or out
        raise click.ClickException(f"cannot write {where}: {err.strerror or err}") from err
    click.echo(f"{findings.verdict}: {findings.summary}")
    click.echo("wrote " + ", ".join(str(path) for path in targets.values()))


def _command_line() -> str:
    """The command as typed, for the report's provenance (program name normalised)."""
    return shlex.join(["poolwatch", *sys.argv[1:]])


@contextmanager
def _steps_bar(total: int) -> Iterator[Progress | None]:
    """A tqdm bar over the report files written, on a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="file", desc="rendering", leave=False) as bar:
        yield bar.update


class _PluginCommand(click.Command):
    """A command whose usage errors exit 3 (UNKNOWN), as monitoring plugins do."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise _PluginUsageError(err.message, ctx) from err


class _PluginUsageError(click.UsageError):
    """A usage error of ``check``: UNKNOWN."""

    exit_code = 3


@main.command(cls=_PluginCommand)
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead.")
@_config_option
def check(*, paths: tuple[str, ...], as_json: bool, config_path: Path | None) -> None:
    """Monitoring-plugin check: one status line, a short summary, exit 0/1/2/3.

    0 OK (healthy), 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no usable input, bad usage).
    """
    from poolwatch.ingest.parse import ingest
    from poolwatch.render.json import render
    from poolwatch.render.terminal import STATUS, check_report

    if paths.count(STDIN) > 1:
        raise _PluginUsageError("'-' (standard input) can be given only once")
    try:
        config = _config(config_path)
    except click.UsageError as err:
        raise _PluginUsageError(err.message) from err
    result = ingest(paths)
    if not (result.files["status"] == "read").any():
        click.echo("POOLWATCH UNKNOWN - no usable input: every path was skipped")
        sys.exit(3)
    findings = _diagnose(result, config)
    click.echo(render(findings) if as_json else check_report(findings), nl=not as_json)
    sys.exit(STATUS[findings.verdict][1])


def _formats(text: str) -> tuple[str, ...]:
    """The ``--format`` list, checked."""
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in _FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown format {unknown[0]!r}" if unknown else "no format given",
            param_hint=f"--format (one or more of: {', '.join(_FORMATS)})",
        )
    return chosen


def _config(path: Path | None) -> Config:
    """The effective configuration, or a usage error naming the file."""
    from poolwatch.config import ConfigError, load

    try:
        return load(path)
    except ConfigError as err:
        raise click.UsageError(str(err)) from err


def _diagnose(result: Ingest, config: Config, command: str = "") -> Findings:
    """Findings, dated by ``SOURCE_DATE_EPOCH`` when it is set (reproducible reports)."""
    from poolwatch.analyze.diagnose import diagnose

    return diagnose(result, config, now=_now(), command=command)


def _now() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` (seconds since 1970) when the environment sets it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError as err:
            raise click.UsageError(f"SOURCE_DATE_EPOCH={epoch!r}: not a number of seconds") from err
    return datetime.now(UTC)


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

    click.echo(describe(_config(config_path)))


@main.command()
@click.option(
    "--scenario",
    type=click.Choice(
        ["healthy", "overloaded", "memory-pressure", "timeouts", "sequential-excessive"]
    ),
    default="healthy",
    show_default=True,
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
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory to write.")
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def simulate(
    *,
    scenario: str,
    instances: int,
    runs: int,
    seed: int,
    size: str | None,
    live: bool,
    monitor_style: str,
    out: Path,
    force: bool,
) -> None:
    """Write realistic console logs, run logs and a monitor log for a scenario."""
    from poolwatch.simulate import simulate as run_simulation

    try:
        size_bytes = parse_size(size) if size else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--size") from err
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise click.BadParameter(
            f"{out} is not empty (its files could be overwritten); use --force to write there",
            param_hint="--out",
        )
    with _simulate_bar(size_bytes) as progress:
        result = run_simulation(
            scenario, out, instances=instances, runs=runs, seed=seed,
            size_bytes=size_bytes, live=live, monitor_style=monitor_style, progress=progress,
        )  # fmt: skip
    click.echo(
        f"wrote {len(result.files)} files, {result.bytes:,} bytes, {result.lines:,} lines, "
        f"{len(result.runs)} runs to {out}"
    )


@contextmanager
def _simulate_bar(total: int | None) -> Iterator[Progress | None]:
    """A tqdm bar over bytes written, on a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="B", unit_scale=True, desc="writing", leave=False) as bar:
        yield bar.update
