"""Options several commands share, and the checks of option values."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from poolwatch import api
from poolwatch.domains import short

if TYPE_CHECKING:
    from poolwatch.deliver.mail import Smtp


def config_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--config`` option of the commands that judge."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A poolwatch.toml (default: ./poolwatch.toml if present).",
    )(command)


def format_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--format`` option of the commands that write reports."""
    return click.option(
        "--format",
        "formats",
        default=",".join(api.FORMATS),
        show_default=True,
        help="Comma-separated formats to write: html (report.html), pdf (report.pdf), "
        "json (summary.json), md (ticket.md).",
    )(command)


def mail_options(command: Callable[..., None]) -> Callable[..., None]:
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
class Mail:
    """Where to mail a report, checked before any work is done."""

    to: tuple[str, ...]
    smtp: Smtp
    sender: str | None


def _mail(
    to: tuple[str, ...], smtp_text: str | None, starttls: bool, sender: str | None
) -> Mail | None:
    """The mail options, checked; None when no mail is asked for."""
    if not to:
        if smtp_text:
            raise click.UsageError("--smtp is given without --mail-to")
        return None
    from poolwatch.deliver.mail import Smtp

    if not smtp_text:
        raise click.UsageError("--mail-to needs --smtp HOST:PORT")
    try:
        return Mail(to, Smtp.parse(smtp_text, starttls=starttls), sender)
    except ValueError as err:
        raise click.UsageError(str(err)) from err


def cluster_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--scheduler`` and ``--workers``: where the logs are read, handed to the command
    as one ``cluster`` argument (None: here, in threads)."""

    @functools.wraps(command)
    def checked(*, scheduler: str | None, workers: int | None, **given: Any) -> None:
        command(cluster=api.cluster_of(scheduler, workers), **given)

    options = (
        click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="Read the files on this Dask scheduler's workers (default: "
                     "$POOLWATCH_SCHEDULER; needs poolwatch[dask]; the workers must reach "
                     "the inputs: a shared filesystem or s3:// URLs)."),
        click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Read the files on a local Dask cluster of N worker processes."),
    )  # fmt: skip
    decorated: Callable[..., None] = checked
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def host_option(command: Callable[..., None]) -> Callable[..., None]:
    """``--host-from``: where each file's path names its host, checked before any work is
    done and handed to the command as ``host_from`` (None: the default rule)."""

    @functools.wraps(command)
    def checked(*, host_from: str | None, **given: Any) -> None:
        api.host_pattern(host_from)
        command(host_from=host_from, **given)

    return click.option(
        "--host-from",
        "host_from",
        default=None,
        metavar="PATTERN",
        help="Tell each file's host by its path: a glob with a {host} field, e.g. "
        "'logs/{host}/*' (matching the end of the path) or '/archive/{host}/batch/*.log' "
        "(the whole path); ** crosses directories. Files it does not match are skipped. "
        "Default: the first directory under an input that holds several hosts' directories.",
    )(checked)


def store_option(command: Callable[..., None]) -> Callable[..., None]:
    """The ``--store`` option of the commands that use the history."""
    return click.option(
        "--store",
        "store_path",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="The history store's directory (default: $XDG_DATA_HOME/poolwatch).",
    )(command)


def chosen_formats(text: str) -> tuple[str, ...]:
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


def zone_named(name: str | None) -> tzinfo:
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


def day_named(text: str, zone: tzinfo) -> date:
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
