"""The ``poolwatch`` command line: parse arguments, call ``poolwatch.api``, print, and
exit with the code of what happened. Each module holds a part: ``base`` the group and
what every command shares, ``options`` the shared options, ``reports`` and ``tools``
the commands.

Nothing of the pipeline (pandas, polars) loads with it: ``poolwatch.api`` imports each
stage inside the function that uses it, so ``--help`` is fast and worker processes,
which import this package again, stay small.
"""

from poolwatch.cli import reports, tools
from poolwatch.cli.base import main
from poolwatch.cli.tools import simulate

__all__ = ["main", "reports", "simulate", "tools"]
