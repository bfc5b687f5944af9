"""Where alerts go besides the records: syslog and a command of the operator's.

``--syslog`` sends each alert through the standard library's
:class:`logging.handlers.SysLogHandler` to a local socket (``/dev/log``); the socket is
connected at start, so a host without one fails then, on one line. ``--on-alert CMD``
runs the operator's command once per alert, split into arguments as a shell would but
never run by one: the alert reaches it as ``POOLWATCH_ALERT_*`` environment variables
and as its JSON record on standard input, so no text from a log is ever interpolated
into a command line. A command that fails or takes more than 30 s (it is then killed)
is noted in the alert record; the monitor goes on.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import subprocess
from collections.abc import Sequence

from poolwatch.monitor.alerts import Alert
from poolwatch.monitor.records import Record, encode
from poolwatch.monitor.settings import MonitorError, check_syslog

#: Seconds an ``--on-alert`` command may take before it is killed.
COMMAND_TIMEOUT = 30.0
_LEVELS = {"warning": logging.WARNING, "critical": logging.CRITICAL}


class _Handler(logging.handlers.SysLogHandler):
    """A syslog handler whose failures reach the caller instead of standard error."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        raise  # noqa: PLE0704 (called by emit() inside its except block: re-raises its error)


class Syslog:
    """Alerts to the local syslog socket, as ``poolwatch-monitor`` with facility user."""

    def __init__(self, address: str) -> None:
        check_syslog(address)
        try:
            handler = _Handler(address=address, facility=logging.handlers.SysLogHandler.LOG_USER)
        except OSError as err:
            raise MonitorError(
                f"--syslog: {address}: cannot connect: {err.strerror or err}"
            ) from err
        handler.ident = "poolwatch-monitor: "
        self._handler = handler
        self._logger = logging.Logger("poolwatch.monitor.syslog")
        self._logger.addHandler(handler)
        self._logger.propagate = False

    def send(self, alert: Alert) -> str:
        """Send one alert; ``sent``, or ``failed: <why>``."""
        try:
            self._logger.log(_LEVELS[alert.rule.severity], "ALERT: %s", alert.message)
        except OSError as err:
            return f"failed: {err.strerror or err}"
        return "sent"

    def close(self) -> None:
        """Close the socket."""
        self._handler.close()


def environment(record: Record) -> dict[str, str]:
    """The ``POOLWATCH_ALERT_*`` variables of an alert record."""
    names = ("rule", "severity", "instance", "kind", "count", "threshold", "window",
             "message", "time", "hostname", "sample")  # fmt: skip
    return {
        f"POOLWATCH_ALERT_{name.upper()}": "" if record[name] is None else str(record[name])
        for name in names
    }


class Command:
    """The operator's ``--on-alert`` command, run once per alert without a shell."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)

    def run(self, record: Record) -> str:
        """Run it for one alert record; ``exit <code>``, ``timed out`` or ``failed: <why>``."""
        try:
            done = subprocess.run(
                self.argv,
                input=encode(record),
                env={**os.environ, **environment(record)},
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "timed out"
        except OSError as err:
            return f"failed: {err.strerror or err}"
        return f"exit {done.returncode}"
