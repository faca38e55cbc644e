"""Errors that carry their exit code and the change that fixes them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The CLI's exit codes; CI scripts depend on them."""

    OK = 0
    PROBLEMS = 1
    USAGE = 2
    REFUSED = 3
    UNREACHABLE = 4


class PitstopError(Exception):
    """An expected failure: reported as a message and a fix, never a traceback."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        message = message.rstrip()  # libpq's messages end in a newline: no blank line before the fix
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class BadInput(PitstopError):
    """Usage or bad input: not a uuid, an unknown user or session, an ended session."""


class Refused(PitstopError):
    """The safety guard said no: the target is not clearly a test target."""

    exit_code = ExitCode.REFUSED


class Unreachable(PitstopError):
    """The target did not answer."""

    exit_code = ExitCode.UNREACHABLE


class Unsupported(BadInput):
    """The store in use cannot do this (an app's debug API cannot create users); another store can."""
