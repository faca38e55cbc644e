"""localstripe as it ships, for the Stripe store benchmark, without touching the shared file.

``python -m benchmarks.localstripe_shipped --pickle PATH --port N``: localstripe
pickles its whole store to ``/tmp/localstripe.pickle`` on every write to it
and after every POST, PUT and DELETE. This does the same work, pickling the
whole store with the same protocol, to ``PATH`` instead (a private file), so
that the "before" figure is measured without writing the file that other
runs on the machine share. Run in its own process, like the wrapper the stack
uses (harness/stack/localstripe_run.py), and on loopback.
"""

from __future__ import annotations

import importlib
import pickle
import sys

from harness.stack import loopback


def main() -> None:
    args = sys.argv[1:]
    at = args.index("--pickle")
    path = args[at + 1]
    del args[at : at + 2]

    def dump_to_disk(self: object) -> None:  # localstripe's own, with the path changed
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    def try_load_from_disk(self: object) -> None:
        """Start empty (as --from-scratch does)."""

    store = importlib.import_module("localstripe.resources").Store
    store.dump_to_disk = dump_to_disk
    store.try_load_from_disk = try_load_from_disk
    loopback.run_module("localstripe", [*args, "--from-scratch"])


if __name__ == "__main__":
    main()
