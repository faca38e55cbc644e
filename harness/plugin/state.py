"""What the plugin holds in one pytest process: the options, read once, and the run, made on first use.

Light: reading the options imports no store, browser or stack; the run (``harness.engine.run``)
is imported when a fixture or a hook first needs it, so a suite that uses no pitstop fixture
never pays for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from harness.config.settings import RunConfig
from harness.engine.identity import new_run_id

if TYPE_CHECKING:
    from harness.engine.run import Run
    from harness.plugin.xdist import TargetBroker


class State:
    """This process's pitstop: ``config`` (the options), ``run`` (made on first use), ``engaged``.

    On an xdist worker ``worker`` is what the controller handed over (the run's id and pid, and
    how to ask for the target); on the controller, ``broker`` answers the workers.
    """

    def __init__(
        self, config: RunConfig, *, engaged: bool = False, worker: dict[str, Any] | None = None
    ) -> None:
        self.config = config
        # A pitstop option was given (command line, ini or a PITSTOP_ variable): the run uses pitstop
        # even in a test that asks for no pitstop fixture (``base_url`` goes through the guard).
        self.engaged = engaged
        # Engaged, or a collected test asks for a pitstop fixture (``hooks.pytest_collection_finish``):
        # pitstop's overrides of pytest-playwright's fixtures apply only then.
        self.used = engaged
        self.worker = worker
        self.run_id = worker["run_id"] if worker else new_run_id()
        self.run_pid = int(worker["run_pid"]) if worker else os.getpid()
        self.broker: TargetBroker | None = None
        self._run: Run | None = None

    @property
    def run(self) -> Run:
        """The run of this process, made on first use (importing the engine then)."""
        if self._run is None:
            from harness.engine.run import Run

            if self.worker is None:
                self._run = Run(self.config, run_id=self.run_id, run_pid=self.run_pid)
            else:
                from harness.plugin.xdist import fetch

                wire = self.worker["target"]
                self._run = Run.for_worker(
                    self.config,
                    run_id=self.run_id,
                    run_pid=self.run_pid,
                    worker_id=self.worker["worker_id"],
                    fetch_target=lambda: fetch(wire),
                )
        return self._run

    @property
    def made_run(self) -> Run | None:
        """The run if one was made in this process (None: no test needed pitstop here)."""
        return self._run
