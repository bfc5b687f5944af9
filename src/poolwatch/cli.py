"""The ``poolwatch`` command line: parse arguments, call the pipeline, set exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from poolwatch import __version__
from poolwatch.ingest.sources import STDIN
from poolwatch.sizes import parse_size

if TYPE_CHECKING:
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
    from poolwatch.render.tables import OutputError, write_tables
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


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A poolwatch.toml (default: ./poolwatch.toml if present).",
)
def thresholds(*, config_path: Path | None) -> None:
    """Print the effective thresholds and settings, and where each came from."""
    from poolwatch.config import ConfigError, describe, load

    try:
        click.echo(describe(load(config_path)))
    except ConfigError as err:
        raise click.UsageError(str(err)) from err


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
