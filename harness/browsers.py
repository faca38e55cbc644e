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

from harness import processes
from harness.errors import PitstopError

SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without these a system Chromium keeps dialling Google's hosts; on a closed
# network those connections are refused, many at a time.
QUIET_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium(playwright_chromium: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The executable to launch, or None to let Playwright launch its own build.

    ``PITSTOP_BROWSER_EXECUTABLE`` wins; then Playwright's own Chromium when it is
    installed (None); then a system Chromium on PATH.
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
    for name in SYSTEM_CHROMIUMS:
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
    distribution's ``chromium`` package.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        own = playwright.chromium.executable_path
    if Path(own).is_file():
        return f"Playwright's Chromium ({own})"
    with contextlib.suppress(PitstopError):
        system = find_chromium(None)
        if system:
            return f"system Chromium ({system})"
    log("pitstop: downloading Playwright's Chromium…")
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]) and Path(own).is_file():
        return f"Playwright's Chromium ({own})"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("pitstop: no download; installing the distribution's chromium with apt-get…")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if _run(["apt-get", "update", "-qq"], env=env) and _run(
            ["apt-get", "install", "-y", "-qq", "chromium"], env=env
        ):
            system = find_chromium(None)
            if system:
                return f"system Chromium ({system})"
    return f"none: {find_chromium(None)}"  # raises, with both ways to get one


def _run(command: list[str], env: dict[str, str] | None = None) -> bool:
    """Run an installer, bounded; on timeout it is stopped with what it started (a Node driver)."""
    try:
        result = processes.run(command, timeout=INSTALL_TIMEOUT_S, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
