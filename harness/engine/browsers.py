"""Which Chromium to drive: Playwright's own where installed, else the system's."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import PitstopError
from harness.stack import processes

SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium's headless shell: the browser without its desktop UI, which Playwright's own
# download uses when headless. Against a full Chromium in headless mode it costs about half
# the CPU per flow and a quarter per new browser context (benchmarks/RESULTS.md), so a
# headless run takes it when the system has one (Debian: the chromium-headless-shell package).
SYSTEM_HEADLESS_SHELLS = ("chromium-headless-shell", "chrome-headless-shell")
# Without these a system Chromium keeps dialling Google's hosts; on a closed
# network those connections are refused, many at a time.
QUIET_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium(
    playwright_chromium: str | None, env: Mapping[str, str] | None = None, *, headless: bool = True
) -> str | None:
    """The executable to launch, or None to let Playwright launch its own build.

    ``PITSTOP_BROWSER_EXECUTABLE`` wins; then Playwright's own Chromium when it is
    installed (None); then a system Chromium on PATH: its headless shell first when
    ``headless``, else the full browser.
    """
    env = os.environ if env is None else env
    chosen = env.get("PITSTOP_BROWSER_EXECUTABLE")
    if chosen:
        if not Path(chosen).is_file():
            raise PitstopError(
                f"PITSTOP_BROWSER_EXECUTABLE={chosen} is not a file",
                fix="point it at a Chromium executable, or unset it",
            )
        return chosen
    if playwright_chromium and Path(playwright_chromium).is_file():
        return None
    for name in (*SYSTEM_HEADLESS_SHELLS, *SYSTEM_CHROMIUMS) if headless else SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    raise PitstopError(
        "no Chromium to drive: Playwright's own is not installed and none was found on PATH",
        fix="run `playwright install chromium`, or install a system Chromium "
        "(Debian: apt-get install chromium) or set PITSTOP_BROWSER_EXECUTABLE",
    )


def launch_args(base: Mapping[str, Any], executable: str | None) -> dict[str, Any]:
    """Merge pitstop's launch options into pytest-playwright's, keeping the user's."""
    merged = dict(base)
    if executable is None:
        return merged
    merged.setdefault("executable_path", executable)
    args = list(merged.get("args") or [])
    merged["args"] = args + [a for a in QUIET_ARGS if a not in args]
    return merged


INSTALL_TIMEOUT_S = 600


def ensure_browser(*, log: Callable[[str], None] = print) -> str:
    """Make sure a Chromium can be driven; say which. Installs one if it can.

    Playwright's own build where it can be downloaded; otherwise a system
    Chromium already on PATH; otherwise, as root on Debian/Ubuntu, the
    distribution's ``chromium`` package. As root there, the distribution's
    headless shell is added beside a system Chromium where it is packaged: headless
    runs take it (``find_chromium``), ``--headed`` runs the full browser.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        own = playwright.chromium.executable_path
    if Path(own).is_file():
        return f"Playwright's Chromium ({own})"
    as_root = os.geteuid() == 0 and shutil.which("apt-get") is not None
    with contextlib.suppress(PitstopError):
        system = find_chromium(None, headless=False)
        if system:
            if as_root and not any(shutil.which(name) for name in SYSTEM_HEADLESS_SHELLS):
                _apt_install("chromium-headless-shell", update=True)  # where packaged
            return _system_chromium()
    log("pitstop: downloading Playwright's Chromium…")
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]) and Path(own).is_file():
        return f"Playwright's Chromium ({own})"
    if as_root:
        log("pitstop: no download; installing the distribution's chromium with apt-get…")
        if _apt_install("chromium", update=True):
            _apt_install("chromium-headless-shell")  # where packaged; the full browser otherwise
            return _system_chromium()
    return f"none: {find_chromium(None)}"  # raises, with both ways to get one


def _system_chromium() -> str:
    """What ``ensure_browser`` found on the system: the headless shell runs say which."""
    headed, headless = find_chromium(None, headless=False), find_chromium(None)
    if headless == headed:
        return f"system Chromium ({headed})"
    return f"system Chromium ({headed}; headless runs: {headless})"


def _apt_install(package: str, *, update: bool = False) -> bool:
    """``apt-get install`` a package quietly (after ``apt-get update`` when ``update``); if it worked."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if update and not _run(["apt-get", "update", "-qq"], env=env):
        return False
    return _run(["apt-get", "install", "-y", "-qq", package], env=env)


def _run(command: list[str], env: dict[str, str] | None = None) -> bool:
    """Run an installer, bounded; on timeout it is stopped with what it started (a Node driver)."""
    try:
        result = processes.run(command, timeout=INSTALL_TIMEOUT_S, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
