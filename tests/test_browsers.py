"""Which Chromium pitstop drives, and how its launch options merge with pytest-playwright's."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.browsers import QUIET_ARGS, find_chromium, launch_args
from harness.errors import PitstopError


def test_an_explicit_executable_wins(tmp_path: Path) -> None:
    chrome = tmp_path / "chrome"
    chrome.write_text("")
    assert find_chromium(None, env={"PITSTOP_BROWSER_EXECUTABLE": str(chrome)}) == str(chrome)


def test_an_explicit_executable_that_is_missing_says_so() -> None:
    with pytest.raises(PitstopError, match="is not a file"):
        find_chromium(None, env={"PITSTOP_BROWSER_EXECUTABLE": "/nowhere/chrome"})


def test_playwrights_own_build_is_used_when_installed(tmp_path: Path) -> None:
    own = tmp_path / "chrome"
    own.write_text("")
    assert find_chromium(str(own), env={}) is None


def test_a_system_chromium_on_path_otherwise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chromium = tmp_path / "chromium-browser"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium("/missing/playwright/chrome", env={}) == str(chromium)


def test_no_chromium_names_both_ways_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PitstopError) as missing:
        find_chromium("/missing/playwright/chrome", env={})
    assert "playwright install chromium" in str(missing.value)
    assert "apt-get install chromium" in str(missing.value)


def test_launch_args_keep_headed_and_the_users_own_arguments() -> None:
    base = {"headless": False, "args": ["--lang=de", "--no-first-run"], "slow_mo": 50}
    merged = launch_args(base, "/usr/bin/chromium")
    assert merged["headless"] is False and merged["slow_mo"] == 50
    assert merged["executable_path"] == "/usr/bin/chromium"
    assert merged["args"][:2] == ["--lang=de", "--no-first-run"]
    assert set(QUIET_ARGS) <= set(merged["args"])
    assert merged["args"].count("--no-first-run") == 1
    assert base["args"] == ["--lang=de", "--no-first-run"]  # not changed in place


def test_launch_args_leave_playwrights_own_build_alone() -> None:
    assert launch_args({"headless": True}, None) == {"headless": True}


def test_a_users_own_executable_is_kept() -> None:
    merged = launch_args({"executable_path": "/opt/chrome"}, "/usr/bin/chromium")
    assert merged["executable_path"] == "/opt/chrome"


def _on_path(monkeypatch: pytest.MonkeyPatch, folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


def test_a_headless_run_takes_the_systems_headless_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on_path(monkeypatch, tmp_path, "chromium", "chromium-headless-shell")
    assert find_chromium(None, env={}) == str(tmp_path / "chromium-headless-shell")
    assert find_chromium(None, env={}, headless=False) == str(tmp_path / "chromium")


def test_without_a_headless_shell_a_headless_run_takes_the_full_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on_path(monkeypatch, tmp_path, "chromium")
    assert find_chromium(None, env={}) == str(tmp_path / "chromium")


def test_an_explicit_executable_wins_over_a_headless_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on_path(monkeypatch, tmp_path, "chromium-headless-shell", "mine")
    chosen = {"PITSTOP_BROWSER_EXECUTABLE": str(tmp_path / "mine")}
    assert find_chromium(None, env=chosen) == str(tmp_path / "mine")


# A test that reads the options the plugin gives Playwright, launching nothing.
OPTIONS_TEST = """
import json


def test_options(connect_options, browser_type_launch_args):
    launch = json.loads(connect_options["headers"]["x-playwright-launch-options"])
    assert "executablePath" not in launch and "executable_path" not in browser_type_launch_args
"""


def test_a_remote_browser_needs_no_local_chromium(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No Chromium of any kind here: none on PATH, Playwright's own looked for in an empty folder.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    monkeypatch.delenv("PITSTOP_BROWSER_EXECUTABLE", raising=False)
    pytester.makepyfile(test_options=OPTIONS_TEST)
    args = ("-p", "no:cacheprovider", "-p", "no:randomly", "--pitstop-reset=none")
    # The server launches its own browser: nothing local is needed, nothing local is named.
    remote = pytester.runpytest_subprocess(*args, "--pitstop-browser-ws-endpoint=ws://127.0.0.1:9/")
    remote.assert_outcomes(passed=1)
    # A local browser, though, must be there.
    local = pytester.runpytest_subprocess(*args)
    local.assert_outcomes(errors=1)
    local.stdout.fnmatch_lines(["*no Chromium to drive*"])
