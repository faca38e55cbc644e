"""``python -m harness``: the same as the ``pitstop`` command."""

from harness.cli import run

run()
