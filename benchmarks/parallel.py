"""Parallel scaling: the same 8 UI flows with pytest-xdist ``-n 1`` and ``-n 2``."""

from __future__ import annotations

import os
import statistics

from benchmarks.figures import Figure, Part, Target
from benchmarks.target import Bench, InnerRun


def run(bench: Bench) -> Part:
    flows = bench.n(8, 4)
    # Alternate the order between rounds, so that a noisy neighbour hurts both sides alike.
    rounds = [(1, 2), (2, 1)][: bench.n(2, 1)]
    walls: dict[int, list[float]] = {1: [], 2: []}
    spans: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    busy: dict[int, list[float]] = {1: [], 2: []}
    for order in rounds:
        for workers in order:
            repeat = {"PITSTOP_BENCH_REPEAT": str(flows)}
            inner = bench.pytest("-n", str(workers), "-k", "ui_flow", env=repeat)
            walls[workers].append(inner.wall_s)
            spans[workers].append(_tests_span(inner))
            cpus[workers].append(inner.cpu_s)
            busy[workers].append(inner.busy)
    wall = {n: statistics.median(v) for n, v in walls.items()}
    span = {n: statistics.median(v) for n, v in spans.items()}
    cpu = {n: statistics.median(v) / flows for n, v in cpus.items()}
    load = {n: statistics.median(v) for n, v in busy.items()}
    part = Part("parallel")
    part.figures += [
        Figure(
            "parallel.speedup", f"{flows} UI flows, -n 1 vs -n 2, throughput ratio (whole run)",
            wall[1] / wall[2], "x", Target(">=", 1.6, "x"),
        ),
        Figure("parallel.tests_speedup", "the same, tests only (first test start to last test end)",
               span[1] / span[2], "x"),
    ]  # fmt: skip
    part.extra |= {
        "flows": flows,
        "wall_n1_s": wall[1],
        "wall_n2_s": wall[2],
        "tests_n1_s": span[1],
        "tests_n2_s": span[2],
        "cpu_s_per_flow_n1": cpu[1],
        "cpu_s_per_flow_n2": cpu[2],
        "machine_busy_n1": load[1],
        "machine_busy_n2": load[2],
    }
    part.notes.append(
        f"parallel: {flows} runs of the shipped UI flow, one pytest run each with `-n 1` and `-n 2` "
        f"(median of {len(rounds)} rounds, order alternated); whole run = the pytest process's wall time "
        f"(start-up, workers, browsers, tests): {wall[1]:.1f} s vs {wall[2]:.1f} s; tests only: "
        f"{span[1]:.1f} s vs {span[2]:.1f} s. CPU per flow (this run's pytest, workers, browsers, "
        f"and the stack): {cpu[1]:.2f} CPU-s with -n 1, {cpu[2]:.2f} with -n 2; the machine's "
        f"{os.cpu_count()} cores were {load[1]:.0%} / {load[2]:.0%} busy (all processes, others' too)."
    )
    return part


def _tests_span(inner: InnerRun) -> float:
    tests = inner.timings.values()
    return max(float(t["stop"]) for t in tests) - min(float(t["start"]) for t in tests)
