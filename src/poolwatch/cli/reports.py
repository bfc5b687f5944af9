"""The commands that read logs and report: parse, report, check, daily, history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from poolwatch import api
from poolwatch.cli.base import (
    PluginCommand,
    command_line,
    main,
    say,
    say_line,
    steps,
    told,
    voice_options,
    warn,
)
from poolwatch.cli.options import (
    Mail,
    chosen_formats,
    cluster_options,
    config_option,
    day_named,
    format_option,
    host_option,
    mail_options,
    store_option,
    zone_named,
)
from poolwatch.errors import shown
from poolwatch.history.span import MOST_DAYS
from poolwatch.states import FileStatus

if TYPE_CHECKING:
    from poolwatch.findings import Findings
    from poolwatch.history.store import Store
    from poolwatch.ingest.cluster import Cluster
    from poolwatch.ingest.parse import Ingest


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="events.parquet or events.csv: the events table; DIR/: every table as Parquet.",
)
@cluster_options
@host_option
@voice_options
def parse(
    *, paths: tuple[str, ...], out: Path | None, cluster: Cluster | None, host_from: str | None
) -> None:
    """Read logs (files, directories, globs, s3:// URLs, - for stdin) into tables.

    Compressed files (.gz, .bz2, .xz) are read transparently; each file's family
    (run log, run_card console, monitor log, thread snapshot) is told from its content.
    """
    result = _ingest(paths, cluster, host_from)  # first: it loads pandas while it reads

    if out is not None:
        from poolwatch.render.output import OutputError
        from poolwatch.render.tables import write_tables

        try:
            written = write_tables(result, out, given=paths)
        except OutputError as err:
            raise click.UsageError(str(err)) from err
    from poolwatch.render.terminal import parse_summary

    say(parse_summary(result))
    if out is not None:
        say_line("wrote " + ", ".join(str(p) for p in written))


def _ingest(paths: tuple[str, ...], cluster: Cluster | None, host_from: str | None) -> Ingest:
    """Ingest the paths with a progress bar on a terminal; fail when nothing is usable."""
    from poolwatch import api

    return api.read(paths, steps=steps(), seen=_notes, cluster=cluster, host_from=host_from)


def _notes(result: Ingest) -> None:
    """Say what was skipped and why (poolwatch's own outputs, the duplicates counted
    once, and every input of a reason many share, only with -v)."""
    from poolwatch.render.terminal import input_notes

    files = result.files
    for line in input_notes(files, own_outputs=told("verbose"), each=told("verbose")):
        say_line(line, err=True)
    duplicates = int((files["status"] == FileStatus.DUPLICATE).sum())
    if duplicates and told("verbose"):
        say_line(
            f"poolwatch: {duplicates} duplicate input(s) counted once "
            "(the same file, the same content, or a tee copy of a console run)",
            err=True,
        )


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory to write the report files into.",
)
@format_option
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"], case_sensitive=False),
    default="a4",
    show_default=True,
    help="Page size of report.pdf (and of report.html when printed).",
)
@click.option(
    "--baseline",
    "baseline_paths",
    multiple=True,
    help="Logs from before a deployment (repeatable): adds a before/after section.",
)
@click.option(
    "--baseline-days",
    type=click.IntRange(1, MOST_DAYS),
    default=None,
    help="Compare with the median of this many recorded days of the store instead.",
)
@store_option
@mail_options
@cluster_options
@host_option
@config_option
@voice_options
def report(
    *,
    paths: tuple[str, ...],
    out: Path,
    formats: str,
    paper: str,
    config_path: Path | None,
    baseline_paths: tuple[str, ...],
    baseline_days: int | None,
    store_path: Path | None,
    mail: Mail | None,
    cluster: Cluster | None,
    host_from: str | None,
) -> None:
    """Diagnose the fleet the logs come from and write the report files into --out.

    With --baseline or --baseline-days, the report compares these logs (after) with
    earlier ones (before): a post-deployment review.
    """
    chosen = chosen_formats(formats)
    settings = api.config(config_path)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    files = api.targets(out, chosen)
    api.refuse(list(files.values()), paths)
    if baseline_paths and baseline_days:
        raise click.UsageError("give --baseline or --baseline-days, not both")
    if inside := api.inside_inputs(out, paths):
        warn(inside)
    findings = api.report(
        paths, settings=settings, baseline=baseline_paths, baseline_days=baseline_days,
        store=store_path, command=command_line(), steps=steps(), seen=_notes, warn=warn,
        cluster=cluster, host_from=host_from,
    )  # fmt: skip
    api.write(findings, files, paper=paper.lower(), steps=steps())
    if findings.baseline is not None:
        say(findings.baseline.conclusion)
    say(f"{findings.verdict}: {findings.summary}")
    say_line("wrote " + ", ".join(str(path) for path in files.values()))
    if mail is not None:
        _send(mail, findings, out)


def _send(mail: Mail, findings: Findings, folder: Path) -> None:
    """Mail ticket.md as the body with report.pdf attached (the files just written)."""
    api.mail(findings, folder, smtp=mail.smtp, to=mail.to, sender=mail.sender)
    say_line(f"mailed {', '.join(mail.to)} through {mail.smtp.endpoint}")


@main.command(cls=PluginCommand)
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead.")
@cluster_options
@host_option
@config_option
def check(
    *,
    paths: tuple[str, ...],
    as_json: bool,
    config_path: Path | None,
    cluster: Cluster | None,
    host_from: str | None,
) -> None:
    """Monitoring-plugin check: one status line, a short summary, exit 0/1/2/3.

    0 OK (healthy), 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no usable input, bad usage).
    """
    findings = api.check(paths, api.config(config_path), cluster=cluster, host_from=host_from)
    if as_json:  # summary.json's model (pydantic) is loaded only for it
        from poolwatch.render.json import render

        click.echo(render(findings), nl=False)
    else:
        from poolwatch.render.terminal import check_report

        say(check_report(findings))
    sys.exit(api.status(findings))


def _store(path: Path | None) -> Store:
    """The history store at ``path`` (or the default), its skipped rows warned of (even
    under ``--quiet``: a day left out of the history)."""

    def warn(message: str) -> None:
        click.echo(shown(f"poolwatch: warning: {message}"), err=True)

    return api.history(path, warn=warn)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--day",
    "day_text",
    default="yesterday",
    show_default=True,
    help="The day to summarise: YYYY-MM-DD, today or yesterday.",
)
@click.option(
    "--tz",
    "tz_name",
    default=None,
    help="Timezone of the days (default: the machine's own), e.g. UTC, Europe/Paris.",
)
@store_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("daily"),
    show_default=True,
    help="Directory of the daily reports (one folder per day).",
)
@click.option(
    "--keep",
    type=click.IntRange(1, MOST_DAYS),
    default=None,
    help="Keep only this many days in the store (older days are pruned).",
)
@format_option
@mail_options
@cluster_options
@host_option
@config_option
@voice_options
def daily(
    *,
    paths: tuple[str, ...],
    day_text: str,
    tz_name: str | None,
    store_path: Path | None,
    out: Path,
    keep: int | None,
    formats: str,
    config_path: Path | None,
    mail: Mail | None,
    cluster: Cluster | None,
    host_from: str | None,
) -> None:
    """Summarise one day: record it in the history store and write its report with
    its changes against the day before and the trailing 7-day median."""
    zone = zone_named(tz_name)
    day = day_named(day_text, zone)
    chosen = chosen_formats(formats)
    settings = api.config(config_path)
    findings = api.daily(
        paths, day=day, zone=zone, out=out, store=_store(store_path), keep=keep,
        formats=chosen, settings=settings, command=command_line(), steps=steps(),
        seen=_notes, warn=warn, cluster=cluster, host_from=host_from,
    )  # fmt: skip
    folder = out / day.isoformat()
    say(f"{day}: {findings.verdict}: {findings.summary}")
    say_line(f"wrote {folder}/ and {out / 'index.html'}")
    if mail is not None:
        _send(mail, findings, folder)


@main.command(name="history")
@store_option
@click.option(
    "--days",
    type=click.IntRange(1, MOST_DAYS),
    default=30,
    show_default=True,
    help="Days to show, up to the last recorded one.",
)
@click.option(
    "--host",
    metavar="NAME",
    help="One host's days (logs of several hosts keep a row per host and day); "
    "without it, the fleet's.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print the trend table as CSV.")
def history_command(*, store_path: Path | None, days: int, host: str | None, as_csv: bool) -> None:
    """Print the recorded days' verdicts and key metrics (the trend table)."""
    from poolwatch.render.terminal import hosts_line, trend_table

    store = _store(store_path)
    recorded = store.days()
    if not recorded:
        raise click.ClickException(f"{store.path}: no day recorded yet (run poolwatch daily)")
    hosts = store.hosts()
    if host is not None and host not in hosts:
        raise click.ClickException(f"{store.path}: no day recorded for host {host!r} "
                                   f"({hosts_line(hosts)})")  # fmt: skip
    trend = store.trend(days, recorded[-1], host)
    if as_csv:
        click.echo(trend.to_csv(index=False), nl=False)
        return
    click.echo(trend_table(trend))
    if host is None and hosts:
        click.echo(f"{hosts_line(hosts)}: a day of several hosts shows its worst host's row "
                   "here; --host NAME shows one host's days")  # fmt: skip
