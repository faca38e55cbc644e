"""Parallel scaling: the same 8 UI flows with pytest-xdist ``-n 1`` and ``-n 2``."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable

from benchmarks.figures import Figure, Part, Target
from benchmarks.target import Bench, InnerRun


def run(bench: Bench) -> Part:
    flows = bench.n(8, 4)
    # Alternate the order between rounds, so that a noisy neighbour hurts both sides alike.
    rounds = [(1, 2), (2, 1)][: bench.n(2, 1)]
    runs: dict[int, list[InnerRun]] = {1: [], 2: []}
    for order in rounds:
        for workers in order:
            repeat = {"PITSTOP_BENCH_REPEAT": str(flows)}
            runs[workers].append(bench.pytest("-n", str(workers), "-k", "ui_flow", env=repeat))

    def median(of: Callable[[InnerRun], float]) -> dict[int, float]:
        return {n: statistics.median(of(r) for r in v) for n, v in runs.items()}

    wall, span = median(lambda r: r.wall_s), median(_tests_span)
    startup, tail, first = median(lambda r: r.startup_s), median(lambda r: r.tail_s), median(_first_setup)
    cpu, load = median(lambda r: r.cpu_s / flows), median(lambda r: r.busy)
    part = Part("parallel")
    part.figures += [
        Figure(
            "parallel.speedup", f"{flows} UI flows, -n 1 vs -n 2, throughput ratio (whole run)",
            wall[1] / wall[2], "x", Target(">=", 1.6, "x"),
        ),
        Figure("parallel.tests_speedup", "the same, tests only (first test start to last test end)",
               span[1] / span[2], "x"),
        Figure("parallel.startup_s", "pytest start to the first test, -n 2 (start-up, workers)",
               startup[2], "s"),
    ]  # fmt: skip
    part.extra |= {
        "flows": flows,
        "wall_n1_s": wall[1],
        "wall_n2_s": wall[2],
        "tests_n1_s": span[1],
        "tests_n2_s": span[2],
        "startup_n1_s": startup[1],
        "startup_n2_s": startup[2],
        "first_setup_n1_s": first[1],
        "first_setup_n2_s": first[2],
        "tail_n1_s": tail[1],
        "tail_n2_s": tail[2],
        "cpu_s_per_flow_n1": cpu[1],
        "cpu_s_per_flow_n2": cpu[2],
        "machine_busy_n1": load[1],
        "machine_busy_n2": load[2],
    }
    part.notes.append(
        f"parallel: {flows} runs of the shipped UI flow, one pytest run each with `-n 1` and `-n 2` "
        f"(median of {len(rounds)} rounds, order alternated); whole run = the pytest process's wall time "
        f"(start-up, workers, browsers, tests): {wall[1]:.1f} s vs {wall[2]:.1f} s; tests only: "
        f"{span[1]:.1f} s vs {span[2]:.1f} s. Not divided by workers: start-up to the first test "
        f"{startup[1]:.1f} s vs {startup[2]:.1f} s, the first test's setup (browser launch, two "
        f"sign-ins, the users made) {first[1]:.1f} s vs {first[2]:.1f} s, and the last test's end to "
        f"exit {tail[1]:.1f} s vs {tail[2]:.1f} s. The machine's CPU time per flow (every process, "
        f"others' too): {cpu[1]:.2f} CPU-s with -n 1, {cpu[2]:.2f} with -n 2; its "
        f"{os.cpu_count()} cores were {load[1]:.0%} / {load[2]:.0%} busy."
    )
    return part


def _tests_span(inner: InnerRun) -> float:
    tests = inner.timings.values()
    return max(float(t["stop"]) for t in tests) - min(float(t["start"]) for t in tests)


def _first_setup(inner: InnerRun) -> float:
    return float(min(inner.timings.values(), key=lambda t: float(t["start"]))["setup"])
