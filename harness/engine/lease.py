"""A run's lease in the target: proof of life that any machine can read.

A run registers in ``pitstop.runs`` when its target is known, renews the lease
from a thread of its own (its own connection) every quarter of its length, and
removes it when it ends. What a run made is swept once its lease has expired;
a run without one (an older pitstop, a store that cannot hold one) is judged by
its tags as before (``harness.engine.run``).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.errors import PitstopError
from harness.json_types import JSON
from harness.store.interface import RunInfo


def ci_job(env: Mapping[str, str] = os.environ) -> str | None:
    """The CI job this process runs in, where the environment names one: GitHub Actions, GitLab CI,
    CircleCI or Buildkite; None elsewhere."""
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_RUN_ID"):
        parts = [env.get("GITHUB_REPOSITORY", ""), env["GITHUB_RUN_ID"], env.get("GITHUB_JOB", "")]
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        return "github:" + "/".join(p for p in parts if p) + (f"#{attempt}" if attempt else "")
    for flag, kind, project, job in (
        ("GITLAB_CI", "gitlab", "CI_PROJECT_PATH", "CI_JOB_ID"),
        ("CIRCLECI", "circleci", "CIRCLE_PROJECT_REPONAME", "CIRCLE_BUILD_NUM"),
        ("BUILDKITE", "buildkite", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_JOB_ID"),
    ):
        if env.get(flag) == "true" and env.get(job):
            return f"{kind}:" + "/".join(p for p in (env.get(project, ""), env[job]) if p)
    return None


def run_info(run: str, lease_seconds: int, shard: str | None = None) -> RunInfo:
    """This process's run, as its lease says it."""
    return RunInfo(run, socket.gethostname(), os.getpid(), shard, ci_job(), lease_seconds)


@dataclass(frozen=True)
class Leases:
    """The leases in the target, as ``pitstop.runs()`` lists them, for judging what a run made."""

    by_run: dict[str, JSON]

    @classmethod
    def of(cls, runs: list[JSON]) -> Leases:
        return cls({str(r["run"]): r for r in runs})

    def alive(self, run: str | None) -> bool | None:
        """Whether ``run``'s lease is held; None when it has none (judge it by its tags)."""
        lease = self.by_run.get(run or "")
        return None if lease is None else bool(lease["alive"])

    def expired(self) -> list[str]:
        return [run for run, lease in self.by_run.items() if not lease["alive"]]


class Heartbeat:
    """Renews a lease every quarter of its length from a daemon thread until stopped.

    ``renew`` is called with nothing and must use a connection of its own (the
    run's is the main thread's). A renewal that fails is kept (``error``) and
    tried again at the next beat: the lease lasts four beats.
    """

    def __init__(self, renew: Callable[[], object], lease_seconds: int) -> None:
        self._renew = renew
        self._every = lease_seconds / 4
        self._stop = threading.Event()
        self.error: str | None = None
        self.beats = 0
        self._thread = threading.Thread(target=self._loop, name="pitstop-lease", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._renew()
                self.beats += 1
                self.error = None
            except Exception as exc:  # any failure: kept, and tried again (the thread must not die)
                said = exc.message if isinstance(exc, PitstopError) else f"{type(exc).__name__}: {exc}"
                self.error = f"{datetime.now(UTC).isoformat()}: {said}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every + 5)
