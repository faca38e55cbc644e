"""Signing a persona in: on the login page (``mode = "ui"``) or with a Supabase session and no page
(``mode = "supabase"``), and the full UI flow's run with each."""

from __future__ import annotations

from benchmarks.figures import Figure, Part, percentile
from benchmarks.target import Bench, InnerRun

MODES = ("ui", "supabase")


def run(bench: Bench) -> Part:
    part = Part("signin")
    repeat, flows = bench.n(30, 3), bench.n(8, 2)
    for mode in MODES:
        inner = bench.pytest("-k", "test_sign_in", env=_env(bench, mode, repeat))
        calls_ms = [s * 1000 for s in inner.calls_s("test_sign_in")]
        part.figures.append(
            Figure(f"signin.{mode}_p50_ms", f"sign-in of one persona, {mode}, p50 (n={len(calls_ms)})",
                   percentile(calls_ms, 50), "ms")
        )  # fmt: skip
        part.extra[f"{mode}_p95_ms"] = round(percentile(calls_ms, 95), 1)
    for mode in MODES:
        inner = bench.pytest("-k", "test_ui_flow", env=_env(bench, mode, flows))
        part.figures.append(
            Figure(f"signin.flow_{mode}_s", f"full UI flow signed in {mode}, whole run per flow (n={flows})",
                   inner.wall_s / flows, "s")
        )  # fmt: skip
        part.extra |= _flow_extra(mode, inner)
    part.notes.append(
        f"Sign-in: {repeat} new test users each way, one per test, in one pytest run against the shared "
        "stack as a given target; the figure is the test's call phase, which is what a page fixture does "
        "for a persona the first time (`Pitstop.storage_state`). ui: a new browser context, the login "
        "form (Flows.sign_in), the context's storage state; supabase: the session's rows in auth.sessions, "
        "auth.refresh_tokens and auth.mfa_amr_claims, an access token signed with the JWT secret, and the "
        "@supabase/ssr cookies, with no browser at all. Flow: the shipped full UI flow "
        f"{flows} times in one run each way; the whole run's wall time (pytest's start-up included) per "
        "flow. Signing in happens once per worker and persona, so it shows in the first test's setup "
        f"(ui {part.extra['flow_ui_first_setup_s']} s, "
        f"supabase {part.extra['flow_supabase_first_setup_s']} s) "
        f"and not in the flow's own steps (call p50 ui {part.extra['flow_ui_call_p50_s']} s, supabase "
        f"{part.extra['flow_supabase_call_p50_s']} s)."
    )
    return part


def _env(bench: Bench, mode: str, repeat: int) -> dict[str, str]:
    """The stack as a given target, as a team's Supabase project (its URL, its JWT secret); ``mode``."""
    info = bench.stack
    return {
        "PITSTOP_BENCH_REPEAT": str(repeat),
        "PITSTOP_AUTH_MODE": mode,
        "SUPABASE_URL": info.supabase_url,
        "SUPABASE_JWT_SECRET": info.jwt_secret,
    }


def _flow_extra(mode: str, inner: InnerRun) -> dict[str, float]:
    first = min(inner.timings.values(), key=lambda t: float(t["start"]))
    return {
        f"flow_{mode}_first_setup_s": round(float(first["setup"]), 3),
        f"flow_{mode}_call_p50_s": round(percentile(inner.calls_s("test_ui_flow"), 50), 3),
        f"flow_{mode}_wall_s": round(inner.wall_s, 2),
    }
