"""The plugin costs nothing until used: its entry imports no heavy module, and a suite that asks
for no pitstop fixture loads neither the engine nor a store, a browser or the embedded stack.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What a run that uses pitstop loads, and a run that does not must not: the engine, the stores,
# the stack, and the libraries they bring.
HEAVY = ("psycopg", "jinja2", "bcrypt", "stripe", "supabase", "pgserver", "uvicorn", "fastapi", "starlette")
HEAVY_HARNESS = ("harness.engine.run", "harness.store", "harness.stack", "harness.flows", "harness.rules.sql")
# Light by design: the options, the settings they make and the model's declaration (harness.config,
# harness.rules.model.declaration), the report's recorder, the plugin's own modules.
WAIT_S = 120


def heavy(modules: set[str]) -> list[str]:
    """The heavy modules among ``modules``."""
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in HEAVY or any(m == h or m.startswith(h + ".") for h in HEAVY_HARNESS)
    )


def test_the_entry_module_imports_only_harness_and_the_standard_library() -> None:
    code = (
        "import json, sys\n"
        "import pytest, pytest_playwright\n"
        "before = set(sys.modules)\n"
        "import harness.plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT_S, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "harness.plugin" in loaded
    foreign = {m for m in loaded if m.split(".")[0] not in ("harness", *sys.stdlib_module_names)}
    assert foreign == set()
    assert heavy(loaded) == []


def test_the_check_names_a_heavy_module() -> None:
    assert heavy({"harness.plugin", "psycopg.pq", "harness.store.postgres", "json"}) == [
        "harness.store.postgres",
        "psycopg.pq",
    ]


PLAIN_SUITE = """
def test_one():
    assert 1 + 1 == 2

def test_two(tmp_path):
    assert tmp_path.is_dir()
"""
# Writes what the process imported when the session ends (controller and workers alike).
RECORD_MODULES = """
import json, sys

def pytest_sessionfinish(session):
    name = getattr(session.config, "workerinput", {}).get("workerid", "main")
    with open(f"modules-{name}.json", "w") as out:
        json.dump(sorted(sys.modules), out)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_suite_that_uses_no_pitstop_fixture_loads_nothing_heavy_and_writes_no_report(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(test_plain=PLAIN_SUITE)
    pytester.makeconftest(RECORD_MODULES)
    runs = {}
    for plugin in ("with", "without"):
        pitstop = [] if plugin == "with" else ["-p", "no:pitstop"]
        result = pytester.runpytest_subprocess(*workers, *pitstop, "-p", "no:cacheprovider", timeout=WAIT_S)
        result.assert_outcomes(passed=2)
        runs[plugin] = {
            path.stem.removeprefix("modules-"): set(json.loads(path.read_text()))
            for path in pytester.path.glob("modules-*.json")
        }
        for path in pytester.path.glob("modules-*.json"):
            path.unlink()
    assert set(runs["with"]) == ({"main", "gw0", "gw1"} if workers else {"main"})
    for process, modules in runs["with"].items():
        added = modules - runs["without"][process]
        assert "harness.plugin.hooks" in added, process  # pitstop was loaded, and configured
        assert heavy(added) == [], process
    assert not (pytester.path / "pitstop-health.json").exists()


def test_a_suite_without_pitstop_gets_its_base_url_as_given(pytester: pytest.Pytester) -> None:
    # A remote app (192.0.2.0/24: documentation only), never reached: no pitstop fixture, no option.
    pytester.makepyfile(test_url="def test_url(base_url):\n    assert base_url == 'http://192.0.2.10/app/'\n")
    result = pytester.runpytest_subprocess("--base-url", "http://192.0.2.10/app/", timeout=WAIT_S)
    result.assert_outcomes(passed=1)
    # With a pitstop option the run uses pitstop, and the guard stands first (tests/test_plugin.py).


def test_a_suite_without_playwright_loads_with_pitstop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:playwright", "-p", "no:cacheprovider", timeout=WAIT_S)
    result.assert_outcomes(passed=2)


def test_pitstop_s_own_modules_are_not_assertion_rewritten_but_its_scenarios_are(
    pytester: pytest.Pytester,
) -> None:
    """pytest marks every module of an installed plugin's distribution for rewriting (an editable
    checkout's too little to show it): marked as pytest marks them, pitstop's are unmarked by its
    plugin, while the shipped scenarios, test files, are still rewritten."""
    pytester.makepyfile(
        test_marks="""
        import sys
        from _pytest.assertion.rewrite import AssertionRewritingHook, assertstate_key
        from harness.plugin import _leave_own_modules_unrewritten

        def test_marks(pytestconfig):
            hook = next(f for f in sys.meta_path if isinstance(f, AssertionRewritingHook))
            state = pytestconfig.stash[assertstate_key]
            hook.mark_rewrite("harness")  # as for a distribution installed from a wheel
            assert hook._is_marked_for_rewrite("harness.stack.postgres", state)
            _leave_own_modules_unrewritten()
            assert not hook._is_marked_for_rewrite("harness.engine.run", state)
            import harness.scenarios.test_full_flow as scenario
            assert hook._should_rewrite("harness.scenarios.test_full_flow", scenario.__file__, state)
        """
    )
    pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist").assert_outcomes(passed=1)
