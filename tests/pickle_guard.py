"""A watch on localstripe's shared file, for the tests that start an embedded Stripe.

localstripe, unpatched, opens the fixed path ``/tmp/localstripe.pickle`` at
start (to load it) and on every write to its store (to dump it). Whether a
process did so cannot be told from the file afterwards: other runs on the
machine write it too. So the guard watches from inside each Python process
started while it is on: it puts a ``sitecustomize`` module on ``PYTHONPATH``
that installs an audit hook (PEP 578), which sees every ``open()`` of that
path, records it in the guard's own directory and refuses it (so even a
broken wrapper never touches the shared file during the test). Each process
also records that the hook is in place, so a test can tell "never opened"
from "never watched".
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_PICKLE = "/tmp/localstripe.pickle"

SITECUSTOMIZE = """\
# Installed by tests/pickle_guard.py: watch for opens of the shared pickle.
import os
import sys

_DIR = @DIR@
_SHARED = @SHARED@
open(os.path.join(_DIR, "watched-%d" % os.getpid()), "w").close()


def _pitstop_pickle_guard(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.path.abspath(os.fsdecode(args[0])) == _SHARED:
            with open(os.path.join(_DIR, "opened-%d" % os.getpid()), "a") as record:
                record.write("%s\\n" % (args[1],))
            raise PermissionError(_SHARED + " is shared by every localstripe on the machine")


sys.addaudithook(_pitstop_pickle_guard)
"""


class PickleGuard:
    """``PickleGuard(tmp_path, monkeypatch)``: Python processes started afterwards are watched."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        code = SITECUSTOMIZE.replace("@DIR@", repr(str(directory))).replace("@SHARED@", repr(SHARED_PICKLE))
        (directory / "sitecustomize.py").write_text(code)
        monkeypatch.setenv("PYTHONPATH", str(directory))

    def watched(self, pid: int) -> bool:
        """Whether the process ran with the hook installed."""
        return (self.directory / f"watched-{pid}").exists()

    def opened(self) -> dict[int, list[str]]:
        """The processes that opened the shared file, with the modes they opened it in."""
        return {
            int(path.name.split("-", 1)[1]): path.read_text().split()
            for path in self.directory.glob("opened-*")
        }
