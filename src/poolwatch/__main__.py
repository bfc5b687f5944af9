"""``python -m poolwatch``."""

from poolwatch.cli import main

main()
