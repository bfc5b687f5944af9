"""poolwatch: turns the logs of a run_card.sh / run_batt.py fleet into incident reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("poolwatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
