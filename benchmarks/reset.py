"""Benchmark: resetting two test users (~55 rows each) with pitstop's purge vs the usual alternatives.

Run from the project root: ``python benchmarks/reset.py [--runs N] [--json PATH]``. One throwaway
PostgreSQL serves all three methods; each run starts from the same state (baseline + the test rows).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg

from harness.postgres_server import LocalPostgres
from harness.store.postgres import PostgresStore

DOMAIN = "pitstop.test"
TEMPLATE_DB, CLONE_DB = "pitstop_base", "pitstop_clone"
# Insertion order is FK order, for COPY; created_at etc. are left to their defaults.
COLUMNS: dict[str, tuple[str, ...]] = {
    "auth.users": ("id", "email", "raw_user_meta_data"),
    "public.profiles": ("id", "role", "full_name"),
    "public.sessions": ("id", "customer_id", "mechanic_id", "plan", "status", "payment_intent_id"),
    "public.session_requests": ("id", "session_id", "customer_id", "plan", "status", "accepted_by"),
    "public.session_participants": ("session_id", "user_id", "role"),
    "public.session_files": ("id", "session_id", "uploaded_by", "file_name", "storage_path"),
    "public.chat_messages": ("id", "session_id", "sender_id", "body"),
}
TARGET_P50_MS, TARGET_SPEEDUP = 3.0, 10.0
# What one purge_user must report for one test user: 5 sessions x 11 rows, nothing kept.
PURGED = {"sessions": 5, "session_requests": 5, "session_participants": 10, "session_files": 5,
          "chat_messages": 30, "kept": 0}  # fmt: skip
ANCHORS = "DatabaseCleaner deletion ~25-47 ms | template clones ~40-80 ms | `supabase db reset` ~1 min"

Rows = dict[str, list[tuple[Any, ...]]]


def empty_rows() -> Rows:
    return {table: [] for table in COLUMNS}


def add_user(rows: Rows, role: str, *, test: bool) -> UUID:
    uid = uuid4()
    email = f"{role}-{uid.hex[:8]}@{DOMAIN if test else 'example.com'}"
    rows["auth.users"].append((uid, email, '{"pitstop": true}' if test else "{}"))
    rows["public.profiles"].append((uid, role, f"{role.title()} {uid.hex[:8]}"))
    return uid


def add_sessions(rows: Rows, customer: UUID, mechanics: list[UUID], count: int) -> None:
    """``count`` completed sessions, each with 1 request, 2 participants, 1 file, 6 messages (11 rows)."""
    for i in range(count):
        sid, mechanic = uuid4(), mechanics[i % len(mechanics)]
        rows["public.sessions"].append((sid, customer, mechanic, "Quick Chat", "completed", f"pi_{sid.hex}"))
        rows["public.session_requests"].append((uuid4(), sid, customer, "Quick Chat", "accepted", mechanic))
        rows["public.session_participants"] += [(sid, customer, "customer"), (sid, mechanic, "mechanic")]
        rows["public.session_files"].append((uuid4(), sid, customer, "photo.jpg", f"sessions/{sid}.jpg"))
        rows["public.chat_messages"] += [
            (uuid4(), sid, (customer, mechanic)[m % 2], f"message {m}") for m in range(6)
        ]


def build_baseline() -> tuple[Rows, list[UUID], list[UUID]]:
    """16 customers with 4 sessions each, served by 4 mechanics; all users: (rows, mechanics, testers)."""
    baseline = empty_rows()
    mechanics = [add_user(baseline, "mechanic", test=False) for _ in range(4)]
    for _ in range(16):
        add_sessions(baseline, add_user(baseline, "customer", test=False), mechanics, 4)
    return baseline, mechanics, [add_user(baseline, "customer", test=True) for _ in range(2)]


def test_rows(testers: list[UUID], mechanics: list[UUID]) -> Rows:
    """5 sessions per test user, with fresh ids each time, as a real test makes them. (Re-inserting
    the same ids makes every purge revisit all earlier dead versions of those keys: 1.5 -> 7.6 ms.)"""
    rows = empty_rows()
    for tester in testers:
        add_sessions(rows, tester, mechanics, 5)
    return rows


def copy_rows(conn: psycopg.Connection[Any], rows: Rows) -> None:
    """COPY every table's rows (the fast way to load), in the caller's transaction."""
    with conn.cursor() as cur:
        for table, data in rows.items():
            if data:
                with cur.copy(f"copy {table} ({', '.join(COLUMNS[table])}) from stdin") as copy:
                    for row in data:
                        copy.write_row(row)


def seed(conn: psycopg.Connection[Any], rows: Rows) -> None:
    with conn.transaction():
        copy_rows(conn, rows)


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {t: int(conn.execute(f"select count(*) from {t}").fetchone()[0]) for t in COLUMNS}  # type: ignore[index]


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Every app row in full, to prove that a purge left the background exactly as it was."""
    return {t: [r[0] for r in conn.execute(f"select x::text from {t} x order by 1")] for t in COLUMNS}


def measure(runs: int, warmup: int, setup: Callable[[], object], timed: Callable[[], object]) -> list[int]:
    """Nanoseconds of ``timed`` for each run after the warm-up; ``setup`` runs untimed before each."""
    samples = []
    for i in range(warmup + runs):
        setup()
        start = time.perf_counter_ns()
        timed()
        if i >= warmup:
            samples.append(time.perf_counter_ns() - start)
    return samples


def stats_ms(samples: list[int]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] / 1e6, "p95": cuts[94] / 1e6, "mean": statistics.fmean(samples) / 1e6}


def bench_purge(
    store: PostgresStore, make_rows: Callable[[], Rows], users: list[UUID], runs: int, warmup: int
) -> list[int]:
    conn = store.connection
    expected = snapshot(conn)  # the baseline, before any test row exists
    results: list[list[dict[str, Any]]] = []
    samples = measure(
        runs, warmup, lambda: seed(conn, make_rows()), lambda: results.append(store.purge_users(users))
    )
    assert snapshot(conn) == expected, "purge touched background rows or left test rows behind"
    for result in (r for run in results for r in run):  # every run, warm-up included
        assert {k: result[k] for k in PURGED} == PURGED, result
    return samples


def bench_truncate(
    conn: psycopg.Connection[Any], baseline: Rows, make_rows: Callable[[], Rows], runs: int, warmup: int
) -> list[int]:
    expected = counts(conn)
    statement = f"truncate {', '.join(COLUMNS)} cascade"

    def reset() -> None:
        with conn.transaction():  # one commit for truncate + reload, as a careful user would do
            conn.execute(statement)
            copy_rows(conn, baseline)

    samples = measure(runs, warmup, lambda: seed(conn, make_rows()), reset)
    assert counts(conn) == expected, "truncate + reseed did not restore the baseline"
    return samples


def bench_template(
    pg: LocalPostgres, admin: psycopg.Connection[Any], baseline: dict[str, int], runs: int, warmup: int
) -> tuple[list[int], list[int]]:
    """CREATE DATABASE ... TEMPLATE, then connect (a test needs a new connection to its clone).

    Returns (create + connect, create only). Dropping the previous clone is untimed.
    """
    created: list[int] = []
    clone: list[psycopg.Connection[Any]] = []

    def drop() -> None:
        while clone:
            clone.pop().close()
        admin.execute(f"drop database if exists {CLONE_DB}")

    def create_and_connect() -> None:
        start = time.perf_counter_ns()
        admin.execute(f"create database {CLONE_DB} template {TEMPLATE_DB}")
        created.append(time.perf_counter_ns() - start)
        clone.append(psycopg.connect(pg.url(CLONE_DB), autocommit=True))

    samples = measure(runs, warmup, drop, create_and_connect)
    assert counts(clone[0]) == baseline, "the clone does not hold the baseline"
    drop()
    return samples, created[warmup:]


def make_template(pg: LocalPostgres, admin: psycopg.Connection[Any], baseline: Rows) -> None:
    admin.execute(f"create database {TEMPLATE_DB}")
    with PostgresStore(database_url=pg.url(TEMPLATE_DB)) as store:
        store.install(test_domain=DOMAIN, with_app_schema=True)
        seed(store.connection, baseline)
    # The store is closed here: a template must have no open connections while cloned.


def machine(conn: psycopg.Connection[Any]) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    version = str(conn.execute("select version()").fetchone()[0])  # type: ignore[index]
    knobs = ", ".join(
        f"{k}={conn.execute(f'show {k}').fetchone()[0]}"  # type: ignore[index]
        for k in ("fsync", "synchronous_commit", "full_page_writes")
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; {version}; server: {knobs}"


def report(figures: dict[str, dict[str, float]], runs: dict[str, int], machine_text: str) -> dict[str, Any]:
    purge = figures["purge"]["p50"]
    print(f"machine: {machine_text}\n")
    print(f"{'method':<34}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'purge speedup':>16}")
    for name, f in figures.items():
        speedup = "" if name in ("purge", "round trip (select 1)") else f"{f['p50'] / purge:.1f}x"
        print(f"{name:<34}{runs[name]:>6}{f['p50']:>10.3f}{f['p95']:>10.3f}{f['mean']:>10.3f}{speedup:>16}")
    alternatives = [n for n in figures if n.startswith(("truncate", "template"))]
    worst = min(figures[n]["p50"] / purge for n in alternatives)
    met = purge <= TARGET_P50_MS and worst >= TARGET_SPEEDUP
    print("\ntemplate = CREATE DATABASE ... TEMPLATE, then connecting to the clone (CREATE alone: next row)")
    print(f"target: purge p50 <= {TARGET_P50_MS:g} ms, >= {TARGET_SPEEDUP:g}x faster than every alternative")
    print(f"        got p50 {purge:.3f} ms, smallest speedup {worst:.1f}x -> {'MET' if met else 'NOT MET'}")
    print(f"published anchors: {ANCHORS}")
    tmpl, trunc = figures["template (CREATE + connect)"], figures["truncate + reseed"]
    return {
        "machine": machine_text,
        "runs": runs,
        "purge_p50_ms": purge,
        "purge_p95_ms": figures["purge"]["p95"],
        "truncate_p50_ms": trunc["p50"],
        "truncate_p95_ms": trunc["p95"],
        "template_p50_ms": tmpl["p50"],
        "template_p95_ms": tmpl["p95"],
        "template_includes_connect": True,
        "template_create_only_p50_ms": figures["template (CREATE only)"]["p50"],
        "speedup_truncate": trunc["p50"] / purge,
        "speedup_template": tmpl["p50"] / purge,
        "target_met": met,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200, help="timed purge/truncate runs (default 200)")
    parser.add_argument("--template-runs", type=int, default=200, help="timed clones (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before each method (default 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if min(args.runs, args.template_runs) < 2 or args.warmup < 0:
        parser.error("percentiles need --runs and --template-runs >= 2; --warmup must be >= 0")
    if args.runs < 200:
        print(f"note: {args.runs} runs (< 200): figures are indicative only", file=sys.stderr)
    started = time.perf_counter()
    baseline, mechanics, testers = build_baseline()
    make_rows = functools.partial(test_rows, testers, mechanics)
    with LocalPostgres() as pg, PostgresStore(database_url=pg.url()) as store:
        conn = store.connection
        store.install(test_domain=DOMAIN, with_app_schema=True)
        seed(conn, baseline)
        make_template(pg, conn, baseline)
        baseline_counts = counts(conn)
        rtt = measure(args.runs, args.warmup, lambda: None, lambda: conn.execute("select 1").fetchone())
        purge = bench_purge(store, make_rows, testers, args.runs, args.warmup)
        truncate = bench_truncate(conn, baseline, make_rows, args.runs, args.warmup)
        clone, create_only = bench_template(pg, conn, baseline_counts, args.template_runs, args.warmup)
        machine_text = machine(conn)
    samples = {
        "purge": purge,
        "truncate + reseed": truncate,
        "template (CREATE + connect)": clone,
        "template (CREATE only)": create_only,
        "round trip (select 1)": rtt,
    }
    figures = {name: stats_ms(s) for name, s in samples.items()}
    result = report(figures, {name: len(s) for name, s in samples.items()}, machine_text)
    tested = sum(len(v) for v in make_rows().values())
    print(f"rows: baseline {sum(baseline_counts.values())}, test rows {tested} ({len(testers)} users)")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
