"""A base install: ``pip install pytest-pitstop``, no extras, as a user installs it.

The plugin loads and keeps out of the way of a suite that does not use it; a test that needs
the embedded stack, and ``pitstop serve``, say which extra to install (``[stack]``), with no
traceback. The environment is built for real, once per run: a fresh virtualenv with the project
installed from a copy of its sources (``pip install <folder>``: a regular install, build
isolation and all, its base dependencies through pip's index and cache), so nothing of the
``[stack]`` extra is in it.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from harness.engine.payments import Payments
from harness.errors import BadInput
from harness.stack import extras
from harness.stripe_wire import stripe_event
from tests.test_wheel import ROOT, _copy_sources

INSTALL_S = 900  # a fresh venv and pip install of the base dependencies (from pip's cache: well under)
RUN_S = 120  # one pytest or pitstop command in that venv
# Libraries of the [stack] extra only: a base install has none of them.
STACK_ONLY = ("stripe", "pgserver", "uvicorn", "fastapi", "localstripe")
STACK_FIX = "pip install 'pytest-pitstop[stack]'"
# What the commands in the venv must not inherit: a target, pytest's or Python's settings, the venv.
INHERITED = re.compile(r"(PITSTOP_|PYTEST_|STRIPE_|SUPABASE_|PG|COV_CORE_|PYTHON).*|DATABASE_URL|VIRTUAL_ENV")
# A frame of a traceback in pitstop's code, as pytest or Python prints one.
HARNESS_FRAME = re.compile(r"harness[/\\][\w/\\]+\.py[:\"]")
# The suites run in the base install: one that does not use pitstop, one with a test that does.
PLAIN_TESTS = """\
def test_adds():
    assert 1 + 1 == 2


def test_joins():
    assert " ".join("ab") == "a b"
"""
NEEDS_PITSTOP = """\
def test_uses_pitstop(pitstop):
    pass


def test_plain():
    pass
"""


def _run(command: list[str], *, cwd: Path, timeout: float = RUN_S) -> subprocess.CompletedProcess[str]:
    """``command`` in ``cwd``, its temporary files in ``tmp`` beside it (pip's too: none in /tmp)."""
    tmp = cwd.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {name: value for name, value in os.environ.items() if not INHERITED.fullmatch(name)}
    env["TMPDIR"] = str(tmp)
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _build(where: Path) -> None:
    """A virtualenv in ``where/venv`` with the project installed from a copy of its sources, no extras."""
    source, venv = where / "source", where / "venv"
    _copy_sources(source)
    started = time.perf_counter()
    for command in (
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        # This environment's pip installs into the new venv (--python): a base install, no extras.
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", str(source)],
    ):
        result = _run(command, cwd=source, timeout=INSTALL_S)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-4000:]}")
    (where / "seconds").write_text(f"{time.perf_counter() - started:.1f}\n")


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of the base install, built once per run: under pytest-xdist the first
    worker to ask builds it in the run's shared temporary folder while the others wait."""
    base = tmp_path_factory.getbasetemp()
    where = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "base-install"
    where.mkdir(exist_ok=True)
    failed, timed = where / "failed", where / "seconds"  # timed: built, and how long that took
    with open(where / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not failed.exists() and not timed.exists():
            try:
                _build(where)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                failed.write_text(str(exc))
    if failed.exists():
        pytest.fail(f"building the base install failed: {failed.read_text()}", pytrace=False)
    return where / "venv" / "bin"


def _files(folder: Path) -> set[str]:
    """What ``folder`` holds, but for Python's and pytest's caches."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if not {"__pycache__", ".pytest_cache"} & set(p.relative_to(folder).parts)
    }


def _suite(folder: Path, tests: str) -> Path:
    """A project of its own with one test file (its pytest.ini: no configuration above it is read)."""
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_suite.py").write_text(tests)
    return folder


# -- in the base install -----------------------------------------------------------------------


def test_the_base_install_has_pitstop_and_none_of_the_stack_extra(venv_bin: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, harness, pytest\n"
        "print(harness.__file__)\n"
        f"print([m for m in {STACK_ONLY!r} if importlib.util.find_spec(m)])\n"
    )
    (tmp_path / "probe").mkdir()
    result = _run([str(venv_bin / "python"), "-c", probe], cwd=tmp_path / "probe")
    assert result.returncode == 0, result.stderr
    where, found = result.stdout.splitlines()
    site = venv_bin.parent / "lib"
    assert Path(where).is_relative_to(site) and "site-packages" in where, where  # installed, not the sources
    assert found == "[]", f"a base install has libraries of the [stack] extra: {found}"


def test_a_plain_suite_passes_with_the_plugin_loaded_and_nothing_written(
    venv_bin: Path, tmp_path: Path
) -> None:
    suite = _suite(tmp_path / "plain", PLAIN_TESTS)
    before = _files(suite)
    result = _run([str(venv_bin / "pytest")], cwd=suite)
    out = result.stdout + result.stderr
    assert "INTERNALERROR" not in out and "Traceback" not in out, out
    assert result.returncode == 0, out
    assert re.search(r"^plugins: .*\bpitstop-", out, re.M), out  # the pytest11 entry point, loaded
    assert re.search(r"\b2 passed\b", out), out
    assert _files(suite) == before, "the run wrote files: no report for a suite that does not use pitstop"


def test_a_suite_that_needs_the_embedded_stack_is_a_usage_error_saying_which_extra(
    venv_bin: Path, tmp_path: Path
) -> None:
    suite = _suite(tmp_path / "needs", NEEDS_PITSTOP)
    result = _run([str(venv_bin / "pytest")], cwd=suite)
    out = result.stdout + result.stderr
    assert "INTERNALERROR" not in out and "Traceback" not in out, out
    assert result.returncode == 4, out  # pytest's usage error, before any test runs
    assert re.search(r"^ERROR: pitstop: .*\[stack\] extra", out, re.M), out  # pitstop's message
    assert STACK_FIX in out, out  # ... and the extra to install
    assert not HARNESS_FRAME.search(out), out  # no traceback into pitstop's code


def test_pitstop_serve_exits_2_saying_which_extra(venv_bin: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"  # no [tool.pitstop] configuration: the defaults
    project.mkdir()
    result = _run([str(venv_bin / "pitstop"), "serve"], cwd=project)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"^pitstop: error: .*\[stack\]", result.stderr, re.M), result.stderr
    assert f"fix: {STACK_FIX}" in result.stderr, result.stderr
    assert result.stdout == ""  # no stack info: nothing started
    helped = _run([str(venv_bin / "pitstop"), "--help"], cwd=project)  # a light command works
    assert helped.returncode == 0 and "serve" in helped.stdout, helped.stdout + helped.stderr


# -- here: the checks themselves ---------------------------------------------------------------


def test_the_stack_check_covers_every_requirement_of_the_stack_extra() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        stack = tomllib.load(file)["project"]["optional-dependencies"]["stack"]
    names = {re.split(r"[\[<>=!~;\s]", requirement)[0].lower() for requirement in stack}
    assert names <= set(extras.STACK_MODULES), sorted(names - set(extras.STACK_MODULES))
    assert set(STACK_ONLY) <= {m for modules in extras.STACK_MODULES.values() for m in modules}


def test_require_stack_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert extras.installed("json") and not extras.installed("no_such_module_pitstop")
    extras.require_stack()  # this environment has the [stack] extra
    monkeypatch.setattr(extras, "installed", lambda module: module not in ("stripe", "pgserver", "multipart"))
    with pytest.raises(BadInput) as raised:
        extras.require_stack()
    assert raised.value.message.endswith("not installed: pgserver, stripe"), raised.value.message
    assert raised.value.fix == STACK_FIX
    with pytest.raises(BadInput) as raised:
        extras.require_stack(postgres=False)  # a database is given: no PostgreSQL of its own
    assert raised.value.message.endswith("not installed: stripe"), raised.value.message


def test_paying_through_stripe_without_the_library_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "stripe", None)  # `import stripe` raises ImportError
    for call in (lambda: Payments(secret_key="sk_test_pitstop"), lambda: stripe_event("x.y", {})):
        with pytest.raises(BadInput) as raised:
            call()
        assert raised.value.message == "paying through Stripe needs the stripe library"
        assert raised.value.fix is not None and raised.value.fix.startswith(STACK_FIX)
