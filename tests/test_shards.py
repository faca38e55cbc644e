"""Shards of a suite (issue 19, part 3): ``--pitstop-shard K/N`` runs the K-th of every N collected
tests, so that the N jobs of a CI matrix run each test exactly once; the shard is named in the
run's lease and report. Through pytester, in one process and under xdist.
"""

from __future__ import annotations

import re

import pytest

from harness.config.settings import RunConfig
from harness.errors import BadInput
from harness.report.recorder import Recorder, build

SUITE = "\n".join(f"def test_{n:02d}():\n    pass\n" for n in range(11))


def _ran(result: pytest.RunResult) -> set[str]:
    """The tests that passed, as -v prints them (``…::test_03 PASSED``; xdist: ``PASSED …::test_03``)."""
    found = re.findall(r"::(test_\d\d) PASSED|PASSED \S+::(test_\d\d)", result.stdout.str())
    return {a or b for a, b in found}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_the_shards_run_every_test_exactly_once(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(test_suite=SUITE)
    shards = []
    for k in (1, 2, 3):
        result = pytester.runpytest_subprocess("-p", "no:randomly", "-v", f"--pitstop-shard={k}/3", *workers)
        # xdist's workers deselect: its controller counts only what ran.
        deselected = 0 if workers else 11 - len(_ran(result))
        result.assert_outcomes(passed=len(_ran(result)), deselected=deselected)
        shards.append(_ran(result))
    assert [len(s) for s in shards] == [4, 4, 3]
    assert set().union(*shards) == {f"test_{n:02d}" for n in range(11)}
    assert not (shards[0] & shards[1] or shards[0] & shards[2] or shards[1] & shards[2])


def test_the_shards_do_not_depend_on_the_order_tests_run_in(pytester: pytest.Pytester) -> None:
    """A plugin that reorders the tests (differently in each shard) changes nothing."""
    pytester.makepyfile(test_suite=SUITE)
    shards = []
    for k, backwards in ((1, False), (2, True), (3, False)):
        pytester.makeconftest(
            "def pytest_collection_modifyitems(items):\n    items.reverse()\n" if backwards else ""
        )
        shards.append(
            _ran(pytester.runpytest_subprocess("-p", "no:randomly", "-v", f"--pitstop-shard={k}/3"))
        )
    assert sorted(len(s) for s in shards) == [3, 4, 4]
    assert set().union(*shards) == {f"test_{n:02d}" for n in range(11)}


def test_the_shard_is_read_from_the_environment_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("PITSTOP_SHARD", "3/3")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-v")
    assert _ran(result) == {"test_02", "test_05", "test_08"}


@pytest.mark.parametrize("shard", ["0/3", "4/3", "2", "a/b", "2/0"])
def test_a_bad_shard_is_a_usage_error_naming_the_option(pytester: pytest.Pytester, shard: str) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(f"--pitstop-shard={shard}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--pitstop-shard or PITSTOP_SHARD: '{shard}' is not a shard*"])


def test_the_report_and_the_lease_name_the_shard() -> None:
    config = RunConfig(shard="2/4")
    assert (config.shard_label, config.shard_of) == ("2/4", (2, 4))
    assert RunConfig(split_shard="1/3").shard_label == "1/3"  # pytest-split's --group 1 --splits 3
    report = build({}, {}, Recorder(shard=config.shard_label))
    assert report["run"]["shard"] == "2/4"
    assert "shard" not in build({}, {}, Recorder())["run"]  # the whole suite: no shard
    with pytest.raises(BadInput, match="is not a shard"):
        RunConfig(shard="5/4")
