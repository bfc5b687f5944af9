"""The ``poolwatch`` command line: parse arguments, call the pipeline, set exit codes."""

from __future__ import annotations

import functools
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from poolwatch import api
from poolwatch.domains import short
from poolwatch.errors import PoolwatchError, UsageError, shown
from poolwatch.history.span import MOST_DAYS
from poolwatch.sizes import parse_size

if TYPE_CHECKING:
    from poolwatch.api import Steps
    from poolwatch.findings import Findings
    from poolwatch.history.store import Store
    from poolwatch.ingest.parse import Ingest
    from poolwatch.render.mail import Smtp

# The pipeline (poolwatch.api, and through it pandas and polars) is imported by the
# commands that use it: ``--help`` stays fast, and worker processes, which import this
# module again, stay small.


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the installed version (looked up only when asked for)."""
    if value and not ctx.resilient_parsing:
        import poolwatch

        click.echo(f"poolwatch, version {poolwatch.__version__}")
        ctx.exit()


class _Failure(click.ClickException):
    """A user's error on its way out: one line, names escaped, the error's exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(shown(message))
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def _one_line(err: Exception) -> _Failure:
    """The one error path: what a user can cause becomes a one-line failure."""
    if isinstance(err, PoolwatchError):
        return _Failure(str(err), err.exit_code)
    if isinstance(err, click.ClickException):
        return _Failure(err.format_message(), err.exit_code)
    assert isinstance(err, OSError)
    where = f"{os.fsdecode(err.filename)}: " if err.filename is not None else ""
    return _Failure(f"cannot use {where}{err.strerror or err}")


class _Command(click.Command):
    """A poolwatch command, whose user errors all leave through :func:`_one_line` (a
    usage error as click shows one, with the command's usage)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as err:
            raise click.UsageError(shown(str(err)), ctx) from err
        except (PoolwatchError, OSError) as err:
            raise _one_line(err) from err


class _Commands(click.Group):
    """poolwatch's commands."""

    command_class = _Command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Turn run_card.sh / run_batt.py fleet logs into incident reports."""


def _voice(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """Remember ``--quiet`` or ``--verbose`` for the messages of this command."""
    if value:
        ctx.meta[f"poolwatch.{param.name}"] = True


def _voice_options(command: Callable[..., None]) -> Callable[..., None]:
    """``-q/--quiet`` and ``-v/--verbose``, for the commands a cron job runs."""
    quiet = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_voice,
                         help="Print nothing but errors (skipped inputs are listed in "
                         "the report's inputs).")  # fmt: skip
    verbose = click.option("--verbose", "-v", is_flag=True, expose_value=False,
                           callback=_voice, help="Also say how many duplicate inputs "
                           "(tee copies, the same file twice) were counted once.")  # fmt: skip
    return quiet(verbose(command))


def _told(name: str) -> bool:
    """Whether the running command was given ``--quiet`` or ``--verbose``."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(f"poolwatch.{name}"))


def _say(text: str, *, err: bool = False) -> None:
    """Print lines that may quote log text (names in tables are escaped as they are read):
    each line with its controls escaped; nothing under ``--quiet``."""
    if not _told("quiet"):
        click.echo("\n".join(shown(line) for line in text.split("\n")), err=err)


def _say_line(text: str, *, err: bool = False) -> None:
    """Print one line that names paths: escaped whole; nothing under ``--quiet``."""
    if not _told("quiet"):
        click.echo(shown(text), err=err)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="events.parquet or events.csv: the events table; DIR/: every table as Parquet.",
)
@_voice_options
def parse(*, paths: tuple[str, ...], out: Path | None) -> None:
    """Read logs (files, directories, globs, - for stdin) into tables.

    Compressed files (.gz, .bz2, .xz) are read transparently; each file's family
    (run log, run_card console, monitor log, thread snapshot) is told from its content.
    """
    result = _ingest(paths)  # first: it loads pandas while it reads

    if out is not None:
        from poolwatch.render.output import OutputError
        from poolwatch.render.tables import write_tables

        try:
            written = write_tables(result, out, given=paths)
        except OutputError as err:
            raise click.UsageError(str(err)) from err
    from poolwatch.render.terminal import parse_summary

    _say(parse_summary(result))
    if out is not None:
        _say_line("wrote " + ", ".join(str(p) for p in written))


def _ingest(paths: tuple[str, ...]) -> Ingest:
    """Ingest the paths with a progress bar on a terminal; fail when nothing is usable."""
    from poolwatch import api

    return api.read(paths, steps=_steps(), seen=_notes)


def _notes(result: Ingest) -> None:
    """Say what was skipped and why (poolwatch's own outputs, and the duplicates counted
    once, only with -v)."""
    from poolwatch.render.terminal import input_notes

    files = result.files
    for line in input_notes(files, own_outputs=_told("verbose")):
        _say_line(line, err=True)
    duplicates = int((files["status"] == "duplicate").sum())
    if duplicates and _told("verbose"):
        _say_line(
            f"poolwatch: {duplicates} duplicate input(s) counted once "
            "(the same file, the same content, or a tee copy of a console run)",
            err=True,
        )


def _warn(message: str) -> None:
    """A warning of the pipeline's, on stderr (nothing under ``--quiet``)."""
    _say_line(f"poolwatch: {message}", err=True)


def _steps() -> Steps | None:
    """Progress bars on a terminal; None (no bar) when stderr is not one."""
    return _bar if sys.stderr.isatty() else None


@contextmanager
def _bar(what: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar of a step, cleared when it ends."""
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, unit_scale=unit == "B", desc=what, leave=False) as bar:
        yield bar.update


def _config_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--config`` option of the commands that judge."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A poolwatch.toml (default: ./poolwatch.toml if present).",
    )(command)


def _format_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--format`` option of the commands that write reports."""
    return click.option(
        "--format",
        "formats",
        default=",".join(api.FORMATS),
        show_default=True,
        help="Comma-separated formats to write: html (report.html), pdf (report.pdf), "
        "json (summary.json), md (ticket.md).",
    )(command)


def _mail_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--mail-to``, ``--smtp``, ``--smtp-starttls`` and ``--mail-from``, checked and
    handed to the command as one ``mail`` argument (None when no mail is asked for)."""

    @functools.wraps(command)
    def checked(
        *,
        mail_to: tuple[str, ...],
        smtp_text: str | None,
        smtp_starttls: bool,
        mail_from: str | None,
        **given: Any,
    ) -> None:
        command(mail=_mail(mail_to, smtp_text, smtp_starttls, mail_from), **given)

    options = (
        click.option("--mail-to", "mail_to", multiple=True,
                     help="Mail ticket.md (body) and report.pdf (attached) to this address "
                     "(repeatable)."),
        click.option("--smtp", "smtp_text", default=None, metavar="HOST:PORT",
                     help="The SMTP server to send through; credentials come from "
                     "POOLWATCH_SMTP_USER and POOLWATCH_SMTP_PASSWORD."),
        click.option("--smtp-starttls", is_flag=True, help="Upgrade the SMTP connection to TLS."),
        click.option("--mail-from", "mail_from", default=None,
                     help="Sender address (default: poolwatch@<this host's name>)."),
    )  # fmt: skip
    decorated: Callable[..., None] = checked
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


@dataclass(frozen=True)
class _Mail:
    """Where to mail a report, checked before any work is done."""

    to: tuple[str, ...]
    smtp: Smtp
    sender: str | None


def _mail(
    to: tuple[str, ...], smtp_text: str | None, starttls: bool, sender: str | None
) -> _Mail | None:
    """The mail options, checked; None when no mail is asked for."""
    if not to:
        if smtp_text:
            raise click.UsageError("--smtp is given without --mail-to")
        return None
    from poolwatch.render.mail import Smtp

    if not smtp_text:
        raise click.UsageError("--mail-to needs --smtp HOST:PORT")
    try:
        return _Mail(to, Smtp.parse(smtp_text, starttls=starttls), sender)
    except ValueError as err:
        raise click.UsageError(str(err)) from err


def _send(mail: _Mail, findings: Findings, folder: Path) -> None:
    """Mail ticket.md as the body with report.pdf attached (the files just written)."""
    api.mail(findings, folder, smtp=mail.smtp, to=mail.to, sender=mail.sender)
    _say_line(f"mailed {', '.join(mail.to)} through {mail.smtp.endpoint}")


def _store_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--store`` option of the commands that use the history."""
    return click.option(
        "--store",
        "store_path",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="The history store's directory (default: $XDG_DATA_HOME/poolwatch).",
    )(command)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory to write the report files into.",
)
@_format_option
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
@_store_option
@_mail_options
@_config_option
@_voice_options
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
    mail: _Mail | None,
) -> None:
    """Diagnose the fleet the logs come from and write the report files into --out.

    With --baseline or --baseline-days, the report compares these logs (after) with
    earlier ones (before): a post-deployment review.
    """
    chosen = _formats(formats)
    settings = api.config(config_path)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    files = api.targets(out, chosen)
    api.refuse(list(files.values()), paths)
    if baseline_paths and baseline_days:
        raise click.UsageError("give --baseline or --baseline-days, not both")
    if inside := api.inside_inputs(out, paths):
        _warn(inside)
    findings = api.report(
        paths, settings=settings, baseline=baseline_paths, baseline_days=baseline_days,
        store=store_path, command=_command_line(), steps=_steps(), seen=_notes, warn=_warn,
    )  # fmt: skip
    api.write(findings, files, paper=paper.lower(), steps=_steps())
    if findings.baseline is not None:
        _say(findings.baseline.conclusion)
    _say(f"{findings.verdict}: {findings.summary}")
    _say_line("wrote " + ", ".join(str(path) for path in files.values()))
    if mail is not None:
        _send(mail, findings, out)


def _command_line() -> str:
    """The command as typed, for the report's provenance (program name normalised; control
    characters and bytes that are not UTF-8 escaped, as in the tables)."""
    return shown(shlex.join(["poolwatch", *sys.argv[1:]]))


class _PluginCommand(click.Command):
    """A command that fails as monitoring plugins do: a usage error, a user's error and
    a crash alike print one UNKNOWN status line and exit 3 (a crash keeps its traceback
    on stderr)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise _PluginUsageError(err.message, ctx) from err

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except (PoolwatchError, OSError, click.ClickException) as err:
            message = _one_line(err).message
        except Exception as err:  # a crash: still UNKNOWN, never WARNING
            import traceback

            traceback.print_exc()
            message = f"internal error ({type(err).__name__}); the traceback is on stderr"
        click.echo(f"POOLWATCH UNKNOWN - {message}")
        sys.exit(3)


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
    from poolwatch.render.json import render
    from poolwatch.render.terminal import check_report

    findings = api.check(paths, api.config(config_path))
    if as_json:
        click.echo(render(findings), nl=False)
    else:
        _say(check_report(findings))
    sys.exit(api.status(findings))


def _formats(text: str) -> tuple[str, ...]:
    """The ``--format`` list, checked (in any case: ``HTML,PDF``)."""
    parts = (part.strip().lower() for part in text.split(","))
    chosen = tuple(dict.fromkeys(part for part in parts if part))
    unknown = [f for f in chosen if f not in api.FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown format {unknown[0]!r}" if unknown else "no format given",
            param_hint=f"--format (one or more of: {', '.join(api.FORMATS)})",
        )
    return chosen


def _zone(name: str | None) -> tzinfo:
    """The ``--tz`` timezone (default: the machine's own): a zone's name, never a path."""
    import warnings

    from dateutil import tz

    if name is None:
        return tz.tzlocal()
    if not name.strip():
        raise click.BadParameter("empty (leave it out for the machine's zone)", param_hint="--tz")
    if name.startswith(("/", ":", ".")) or ".." in name.split("/") or "\x00" in name:
        raise click.BadParameter(f"{short(name)} is not a path: give a zone's name "
                                 "(e.g. UTC, Europe/Paris)", param_hint="--tz")  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            zone = tz.gettz(name)
    except (OSError, ValueError, Warning):
        zone = None
    if zone is None:
        raise click.BadParameter(f"unknown timezone {short(name)} (e.g. UTC, Europe/Paris)",
                                 param_hint="--tz")  # fmt: skip
    return zone


def _day(text: str, zone: tzinfo) -> date:
    """``--day``: YYYY-MM-DD, ``today`` or ``yesterday`` (in the ``--tz`` timezone), from
    2000-01-01 to tomorrow in that zone (history/span.py)."""
    from poolwatch.history.span import FIRST_DAY, last_day

    today = datetime.now(zone).date()
    if text in ("today", "yesterday"):
        return today - timedelta(days=text == "yesterday")
    try:
        day = date.fromisoformat(text)
    except ValueError as err:
        raise click.BadParameter(f"{short(text)} is not YYYY-MM-DD, today or yesterday",
                                 param_hint="--day") from err  # fmt: skip
    if not FIRST_DAY <= day <= last_day(today):
        raise click.BadParameter(f"{day} is not between {FIRST_DAY} and {last_day(today)} "
                                 "(tomorrow in the --tz zone)", param_hint="--day")  # fmt: skip
    return day


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
@_store_option
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
@_format_option
@_mail_options
@_config_option
@_voice_options
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
    mail: _Mail | None,
) -> None:
    """Summarise one day: record it in the history store and write its report with
    its changes against the day before and the trailing 7-day median."""
    zone = _zone(tz_name)
    day = _day(day_text, zone)
    chosen = _formats(formats)
    settings = api.config(config_path)
    findings = api.daily(
        paths, day=day, zone=zone, out=out, store=_store(store_path), keep=keep,
        formats=chosen, settings=settings, command=_command_line(), steps=_steps(),
        seen=_notes, warn=_warn,
    )  # fmt: skip
    folder = out / day.isoformat()
    _say(f"{day}: {findings.verdict}: {findings.summary}")
    _say_line(f"wrote {folder}/ and {out / 'index.html'}")
    if mail is not None:
        _send(mail, findings, folder)


@main.command(name="history")
@_store_option
@click.option(
    "--days",
    type=click.IntRange(1, MOST_DAYS),
    default=30,
    show_default=True,
    help="Days to show, up to the last recorded one.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print the trend table as CSV.")
def history_command(*, store_path: Path | None, days: int, as_csv: bool) -> None:
    """Print the recorded days' verdicts and key metrics (the trend table)."""
    from poolwatch.render.terminal import trend_table

    store = _store(store_path)
    recorded = store.days()
    if not recorded:
        raise click.ClickException(f"{store.path}: no day recorded yet (run poolwatch daily)")
    trend = store.trend(days, recorded[-1])
    click.echo(trend.to_csv(index=False) if as_csv else trend_table(trend), nl=not as_csv)


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
@_voice_options
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
    verbose = _told("verbose")
    run(options, say=_say_line, note=lambda line: _say_line(line, err=True) if verbose else None)


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
    type=click.Choice(_SCENARIOS),
    default="healthy",
    show_default=True,
    help="The guide's production pattern or diagnostic scenario (deadlock: runs that hang "
    "silently and are killed at the timeout; degraded: the healthy mix with a fallback "
    "line on every task of a degraded run, as dense as real degraded logs).",
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
    scenario: str,
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
    with _bar("writing", size_bytes, "B") if sys.stderr.isatty() else nullcontext() as progress:
        result = run_simulation(
            scenario, out, instances=instances, runs=runs, seed=seed,
            size_bytes=size_bytes, live=live, monitor_style=monitor_style, version=version,
            snapshots=snapshots, copied=copied, progress=progress,
        )  # fmt: skip
    click.echo(
        f"wrote {len(result.files)} files, {result.bytes:,} bytes, {result.lines:,} lines, "
        f"{len(result.runs)} runs to {out}"
    )
