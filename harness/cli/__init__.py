"""The ``pitstop`` command: ``main(argv) -> int``; exit codes in ``harness.errors.ExitCode``.

The parser (``parser``) names each command's function: the commands on a target
(``commands``), the embedded stack (``serve``), the shipped scenarios (``scenarios``),
the run reports (``reports``: report merge).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from harness.cli.parser import build_parser
from harness.errors import PitstopError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        # `pitstop run` hands what it does not know to pytest (`pitstop run -k full_flow --headed`).
        args, unknown = parser.parse_known_args(argv)
        if unknown and not hasattr(args, "pytest_args"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:  # argparse has printed the usage error
        return int(exit_.code or 0)
    if unknown:
        args.pytest_args = unknown
    try:
        command: Callable[[argparse.Namespace], int] = args.command
        return command(args)
    except PitstopError as exc:
        print(f"pitstop: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("pitstop: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
