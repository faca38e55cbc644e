"""Run localstripe with its state in its own memory, listening on loopback.

``python -m harness.localstripe_run --port N`` runs ``python -m localstripe
--port N --from-scratch`` in this process, through ``harness.loopback`` (its
wildcard bind kept on 127.0.0.1), after one change made here, in memory:

localstripe (1.15) pickles its whole store to one fixed file,
``/tmp/localstripe.pickle``, hard-coded in ``localstripe/resources.py``:
``Store.dump_to_disk()`` runs on every ``Store.__setitem__`` and
``__delitem__`` and again after every POST, PUT and DELETE
(``save_store_middleware`` in ``server.py``), and ``Store.try_load_from_disk()``
reads it at start unless ``--from-scratch``. That file is shared by every
localstripe on the machine (parallel runs, other checkouts, CI jobs), and
each dump costs time in proportion to everything in the store. So before
localstripe starts, this replaces those two methods of its ``Store`` class
with no-ops: each embedded Stripe keeps its objects to itself, in memory, for
as long as its process lives (which is what a stack wants: it starts empty
and is thrown away), and no write touches the disk.

localstripe (GPL-3.0) stays a separate program, unmodified on disk: it is
imported only here, in the child process that runs it, never in pitstop's
own process. If a localstripe release renames these methods, this refuses to
start rather than share state again.
"""

from __future__ import annotations

import importlib
import sys

from harness import loopback

STORE_MODULE = "localstripe.resources"
# The Store methods that read and write the shared file.
PERSISTENCE = ("dump_to_disk", "try_load_from_disk")


def _in_memory(self: object) -> None:
    """The store stays in this process's memory: nothing to load, nothing to write."""


def keep_in_memory() -> None:
    """Make localstripe's store memory-only (in this process)."""
    store = importlib.import_module(STORE_MODULE).Store
    missing = [name for name in PERSISTENCE if not callable(getattr(store, name, None))]
    if missing:
        sys.exit(
            f"harness.localstripe_run: localstripe's Store has no {', '.join(missing)}: this "
            "localstripe persists its state in a way pitstop does not know; refusing to share it"
        )
    for name in PERSISTENCE:
        setattr(store, name, _in_memory)


def main() -> None:
    keep_in_memory()
    args = sys.argv[1:]
    loopback.run_module("localstripe", [*args, *(["--from-scratch"] if "--from-scratch" not in args else [])])


if __name__ == "__main__":
    main()
