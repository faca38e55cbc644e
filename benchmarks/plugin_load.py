"""What the plugin costs a suite that does not use it: its entry module's import, and a plain run.

- import: ``harness.plugin``'s cumulative import time after pytest and pytest-playwright are
  loaded, as ``python -X importtime`` reports it, in a fresh interpreter each time (median);
- a plain suite (two trivial tests) run by pytest with the plugin and with ``-p no:pitstop``,
  in alternating rounds: the wall time the plugin adds to it.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.figures import Figure, Part, Target
from benchmarks.target import Bench

WAIT_S = 120
IMPORT = "import pytest, pytest_playwright; import harness.plugin"
PLAIN_SUITE = (
    "def test_one():\n    assert 1 + 1 == 2\n\n\ndef test_two(tmp_path):\n    assert tmp_path.is_dir()\n"
)


def import_ms() -> float:
    """One fresh interpreter's cumulative import time of ``harness.plugin``, in ms."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORT],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=True,
    )
    found = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| harness\.plugin$", result.stderr, re.M)
    assert found, result.stderr[-2000:]
    return int(found.group(1)) / 1000


def plain_run_s(folder: Path, *, with_plugin: bool) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    args += [] if with_plugin else ["-p", "no:pitstop"]
    started = time.perf_counter()
    subprocess.run(args, cwd=folder, capture_output=True, timeout=WAIT_S, check=True)
    return time.perf_counter() - started


def run(bench: Bench) -> Part:
    imports = [import_ms() for _ in range(bench.n(9, 5))]
    folder = bench.workdir / "plain-suite"
    folder.mkdir(exist_ok=True)
    (folder / "test_plain.py").write_text(PLAIN_SUITE, encoding="utf-8")
    rounds = bench.n(8, 3)
    with_plugin, without = [], []
    for _ in range(rounds):  # alternating, so that the machine's drift falls on both alike
        with_plugin.append(plain_run_s(folder, with_plugin=True))
        without.append(plain_run_s(folder, with_plugin=False))
    added_ms = (statistics.median(with_plugin) - statistics.median(without)) * 1000
    return Part(
        "plugin",
        figures=[
            Figure(
                "plugin.import_p50_ms",
                "plugin entry import, after pytest and pytest-playwright (p50)",
                statistics.median(imports),
                "ms",
                Target("<=", 20, "ms"),
            ),
            Figure(
                "plugin.plain_suite_added_ms",
                "what the installed plugin adds to a plain suite",
                added_ms,
                "ms",
            ),
        ],
        notes=[
            f"Plugin import: `python -X importtime -c '{IMPORT}'` in a fresh interpreter, {len(imports)} "
            f"times; the cumulative figure of harness.plugin (ms): {sorted(round(v, 2) for v in imports)}.",
            f"Plain suite: two trivial tests, pytest with the plugin and with -p no:pitstop, {rounds} "
            f"alternating rounds; medians {statistics.median(with_plugin):.3f} s and "
            f"{statistics.median(without):.3f} s (other installed plugins load in both).",
        ],
        extra={"import_ms": imports},
    )
