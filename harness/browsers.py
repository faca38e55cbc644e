"""Which Chromium to drive: Playwright's own where installed, else the system's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
