"""The end-of-run check (tests/leftovers.py), on inner runs that leave processes behind."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import processes

REPO = Path(__file__).resolve().parents[1]
WAIT_S = 120

CONFTEST = 'pytest_plugins = ["tests.leftovers"]\n'
# No pitstop target in the inner runs: under xdist it would start an embedded stack.
OPTIONS = ("-p", "no:pitstop", "-p", "no:cacheprovider")

# One process left as a child of the run, one whose parent (sh) has exited: re-parented to init,
# as the Node driver of `python -m playwright run-server` was once its Python process was stopped.
LEAVES_TWO = """
import pathlib
import subprocess


def test_leaves_a_child_and_an_orphan():
    child = subprocess.Popen(["sleep", "61"])
    pathlib.Path("pids").write_text(str(child.pid) + "\\n")
    subprocess.run(["sh", "-c", "sleep 62 >/dev/null 2>&1 & echo $! >> pids"], check=True)
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.Pytester]:
    """An inner run with the check; afterwards nothing it wrote to ``pids`` is left running."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("PITSTOP_LEFTOVERS_GRACE_S", "1")
    pytester.makeconftest(CONFTEST)
    yield pytester
    pid_file = pytester.path / "pids"
    for line in pid_file.read_text().split() if pid_file.exists() else []:
        _kill_sleep(int(line))


def _kill_sleep(pid: int) -> None:
    """A safety net: the check should have ended it; only a ``sleep`` we started is signalled."""
    if processes.command_line(pid).startswith("sleep 6"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    found = processes.entry(pid)
    return found is None or not processes.wait_gone([found], 5)


def _pids(pytester: pytest.Pytester) -> list[int]:
    return [int(line) for line in (pytester.path / "pids").read_text().split()]


def test_a_process_left_running_fails_the_run_naming_it(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_leaves=LEAVES_TWO)
    result = inner.runpytest_subprocess("-p", "no:xdist", *OPTIONS, timeout=WAIT_S)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    child, orphan = _pids(inner)
    result.stdout.fnmatch_lines(
        [
            "*= 2 process(es) started by this run still running at its end (now killed) =*",
            f"pid {child} (parent *): sleep 61",
            f"pid {orphan} (parent *): sleep 62",
        ],
        consecutive=False,
    )
    assert _gone(child) and _gone(orphan)  # stopped by the check


def test_each_worker_checks_its_own(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_leaves=LEAVES_TWO)
    result = inner.runpytest_subprocess("-n", "1", *OPTIONS, timeout=WAIT_S)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    child, orphan = _pids(inner)
    result.stdout.fnmatch_lines(
        [
            f"pid {child} (parent *): sleep 61 [[]started by gw0]",
            f"pid {orphan} (parent *): sleep 62 [[]started by gw0]",
        ],
        consecutive=False,
    )
    assert _gone(child) and _gone(orphan)


def test_a_process_still_ending_is_given_time(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PITSTOP_LEFTOVERS_GRACE_S", "10")
    inner.makepyfile(
        test_ending="""
        import subprocess

        def test_starts_one_that_ends_soon():
            subprocess.Popen(["sleep", "1.5"])  # not waited for: still running when the run ends
        """
    )
    result = inner.runpytest_subprocess("-p", "no:xdist", *OPTIONS, timeout=WAIT_S)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "still running at its end" not in result.stdout.str()
