"""The full UI flow and the webhook-payment flow, as two browser users, through pytest and the plugin."""

from __future__ import annotations

from typing import Any

from benchmarks.figures import Figure, Part, Target, percentile
from benchmarks.target import Bench

STEPS = ("payment_ms", "accept_ms", "chat_latency_ms", "end_ms")


def run(bench: Bench) -> Part:
    repeat = bench.n(12, 2)
    inner = bench.pytest("-k", "ui_flow or webhook_flow", env={"PITSTOP_BENCH_REPEAT": str(repeat)})
    part = Part("flow")
    for variant, target in (("ui", Target("<=", 4, "s")), ("webhook", Target("<=", 2.5, "s"))):
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
        f"Step p50s (ms): ui {part.extra['ui_steps_p50_ms']}; webhook {part.extra['webhook_steps_p50_ms']}. "
        "The webhook payment step includes localstripe's fixed 1 s wait before it sends any webhook."
    )
    checkout(bench, part, repeat)
    return part


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
