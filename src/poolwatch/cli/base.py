"""The command group and what every command shares: errors as one line and an exit
code, ``--quiet``/``--verbose``, messages, progress bars."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from poolwatch import allocators
from poolwatch.errors import PoolwatchError, UsageError, shown

if TYPE_CHECKING:
    from poolwatch.api import Steps


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
    allocators.settle()


def _voice(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """Remember ``--quiet`` or ``--verbose`` for the messages of this command."""
    if value:
        ctx.meta[f"poolwatch.{param.name}"] = True


def voice_options(command: Callable[..., None]) -> Callable[..., None]:
    """``-q/--quiet`` and ``-v/--verbose``, for the commands a cron job runs."""
    quiet = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_voice,
                         help="Print nothing but errors (skipped inputs are listed in "
                         "the report's inputs).")  # fmt: skip
    verbose = click.option("--verbose", "-v", is_flag=True, expose_value=False,
                           callback=_voice, help="Also say how many duplicate inputs "
                           "(tee copies, the same file twice) were counted once.")  # fmt: skip
    return quiet(verbose(command))


def told(name: str) -> bool:
    """Whether the running command was given ``--quiet`` or ``--verbose``."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(f"poolwatch.{name}"))


def say(text: str, *, err: bool = False) -> None:
    """Print lines that may quote log text (names in tables are escaped as they are read):
    each line with its controls escaped; nothing under ``--quiet``."""
    if not told("quiet"):
        click.echo("\n".join(shown(line) for line in text.split("\n")), err=err)


def say_line(text: str, *, err: bool = False) -> None:
    """Print one line that names paths: escaped whole; nothing under ``--quiet``."""
    if not told("quiet"):
        click.echo(shown(text), err=err)


def warn(message: str) -> None:
    """A warning of the pipeline's, on stderr (nothing under ``--quiet``)."""
    say_line(f"poolwatch: {message}", err=True)


def steps() -> Steps | None:
    """Progress bars on a terminal; None (no bar) when stderr is not one."""
    return bar if sys.stderr.isatty() else None


@contextmanager
def bar(what: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar of a step, cleared when it ends."""
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, unit_scale=unit == "B", desc=what, leave=False) as bar:
        yield bar.update


def command_line() -> str:
    """The command as typed, for the report's provenance (program name normalised; control
    characters and bytes that are not UTF-8 escaped, as in the tables)."""
    return shown(shlex.join(["poolwatch", *sys.argv[1:]]))


class PluginCommand(click.Command):
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
