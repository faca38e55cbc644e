"""The full UI flow and the webhook-payment flow, as two browser users, through pytest and the plugin."""

from __future__ import annotations

import shutil
import statistics
from typing import Any

from benchmarks.figures import Figure, Part, Target, percentile
from benchmarks.target import Bench, InnerRun

STEPS = ("payment_ms", "accept_ms", "chat_latency_ms", "end_ms")
# The full browser, for the CPU comparison: what a headless run drove before it took the
# headless shell (harness.engine.browsers.find_chromium).
FULL_CHROMIUM = "chromium"


def run(bench: Bench) -> Part:
    repeat = bench.n(12, 2)
    inner = bench.pytest("-k", "ui_flow or webhook_flow", env={"PITSTOP_BENCH_REPEAT": str(repeat)})
    part = Part("flow")
    for variant, target in (("ui", Target("<=", 2.5, "s")), ("webhook", Target("<=", 1.0, "s"))):
        calls = inner.calls_s(f"test_{variant}_flow")
        label = "full UI flow" if variant == "ui" else "webhook-payment flow"
        part.figures += [
            Figure(f"flow.{variant}_p50_s", f"{label}, p50 (n={len(calls)})", percentile(calls, 50), "s",
                   target),
            Figure(f"flow.{variant}_p95_s", f"{label}, p95", percentile(calls, 95), "s"),
        ]  # fmt: skip
        part.extra[f"{variant}_runs"] = len(calls)
        part.extra[f"{variant}_steps_p50_ms"] = steps_p50(inner.report, f"test_{variant}_flow")
    part.notes.append(
        f"{repeat} runs of each flow, interleaved, in one pytest run against one embedded stack; a flow's "
        "time is its test's call phase (new browser contexts, signed in from the saved storage state, "
        "are set up before it). UI: the shipped scenario test_full_flow (card form, accept, 2 chat "
        "messages, end, history check); webhook: payment through the Stripe API, then the same steps. "
        f"Step p50s (ms): ui {part.extra['ui_steps_p50_ms']}; webhook {part.extra['webhook_steps_p50_ms']}."
    )
    cpu(bench, part, inner)
    checkout(bench, part, repeat)
    return part


def cpu(bench: Bench, part: Part, inner: InnerRun) -> None:
    """CPU seconds per full UI flow, every process of it together; and the same with the full browser."""
    total, spent = cpu_per_flow(inner, "test_ui_flow")
    part.extra |= {"cpu_s_per_flow": round(total, 3), "cpu_s_per_flow_by_part": spent}
    label = "CPU per full UI flow (all its processes), p50"
    full = shutil.which(FULL_CHROMIUM)
    if full is None:
        part.figures.append(Figure("flow.cpu_s_per_flow", label, total, "CPU-s"))
        return
    runs = bench.n(6, 2)
    env = {"PITSTOP_BENCH_REPEAT": str(runs), "PITSTOP_BROWSER_EXECUTABLE": full}
    total_full, spent_full = cpu_per_flow(bench.pytest("-k", "ui_flow", env=env), "test_ui_flow")
    part.extra |= {
        "cpu_s_per_flow_full_chromium": round(total_full, 3),
        "cpu_s_per_flow_full_chromium_by_part": spent_full,
    }
    part.figures += [
        Figure("flow.cpu_s_per_flow", label, total, "CPU-s",
               f"≤ {total_full / 2:.2f} CPU-s (half the full browser's)", met=total <= total_full / 2),
        Figure("flow.cpu_s_per_flow_full_chromium", f"the same, driving the full Chromium, p50 (n={runs})",
               total_full, "CPU-s"),
    ]  # fmt: skip
    part.notes.append(
        "CPU per flow: each UI flow test's CPU time from its setup to the end of its teardown (new "
        "browser contexts, the flow, closing them), summed over this pytest process, its Playwright "
        "driver and browser, and the stack's app, PostgreSQL, Stripe front and localstripe "
        f"(benchmarks/inner_plugin.py); p50 by part (CPU-s): {spent}. The comparison drives the full "
        f"Chromium ({full}) headless, as pitstop did before it took the headless shell: {spent_full}."
    )


def cpu_per_flow(inner: InnerRun, test: str) -> tuple[float, dict[str, float]]:
    """The p50 CPU seconds of the passed tests named ``test``: in all, and by part (browser, app, …)."""
    tests = [t["cpu_s"] for n, t in inner.timings.items() if test in n and t["outcome"] == "passed"]
    parts = sorted({name for t in tests for name in t})
    by_part = {name: round(statistics.median(t.get(name, 0.0) for t in tests), 3) for name in parts}
    return statistics.median(sum(t.values()) for t in tests), by_part


def checkout(bench: Bench, part: Part, repeat: int) -> None:
    """The same two flows on a stack whose app pays by Checkout Session (the hosted page)."""
    config = bench.workdir / "checkout.toml"
    config.write_text('[tool.pitstop.payments]\nkind = "checkout_session"\n', encoding="utf-8")
    with bench.other_stack(payment_kind="checkout_session") as stack:
        inner = bench.pytest(
            "-k", "ui_flow or webhook_flow", f"--pitstop-config={config}",
            env={"PITSTOP_BENCH_REPEAT": str(repeat)}, stack=stack,
        )  # fmt: skip
    for variant in ("ui", "webhook"):
        calls = inner.calls_s(f"test_{variant}_flow")
        label = "full UI flow" if variant == "ui" else "webhook-payment flow"
        part.figures.append(
            Figure(f"flow.{variant}_checkout_p50_s", f"{label}, Checkout Session, p50 (n={len(calls)})",
                   percentile(calls, 50), "s")
        )  # fmt: skip
        part.extra[f"{variant}_checkout_steps_p50_ms"] = steps_p50(inner.report, f"test_{variant}_flow")
    part.notes.append(
        "Checkout Session: the app creates a Checkout Session and redirects to the embedded Stripe's "
        "hosted page (UI), or the harness pays one over the API and delivers checkout.session.completed "
        f"at once (webhook). Step p50s (ms): ui {part.extra['ui_checkout_steps_p50_ms']}; webhook "
        f"{part.extra['webhook_checkout_steps_p50_ms']}."
    )


def steps_p50(report: dict[str, Any], test: str) -> dict[str, float]:
    """The p50 of each flow step that the tests named ``test`` recorded (from the pitstop report)."""
    flows = [f["steps"] for f in report["run"]["flows"] if test in f["test"]]
    return {
        step.removesuffix("_ms"): round(percentile([f[step] for f in flows if step in f], 50), 1)
        for step in STEPS
        if any(step in f for f in flows)
    }
