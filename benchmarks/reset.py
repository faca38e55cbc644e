"""Resetting two test users (~55 rows each): pitstop's purge vs the usual alternatives, and the api store.

One throwaway PostgreSQL serves the postgres store, TRUNCATE + re-seed and
CREATE DATABASE ... TEMPLATE; each run starts from the same state (a background
of other users' rows + the test rows). The purge on other models (a deep one,
and sessions offered through one or two declared queues) gets a throwaway
server per model. The api store (the app's debug endpoint) runs against the
shared embedded stack, as does the plugin-overhead run.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

import psycopg

from benchmarks import model_schema, queue_schema
from benchmarks.figures import ANCHOR_RESET, Figure, Part, Target, percentile
from benchmarks.target import Bench
from harness.engine.personas import Personas, TestUser
from harness.rules.sql import platform
from harness.stack.postgres import LocalPostgres
from harness.store import NewUser
from harness.store.api import ApiStore
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
TARGET_P50_MS, TARGET_SPEEDUP = 2.0, 10.0
TARGET_MODEL_P50_MS = 5.0
TARGET_OVERHEAD_MS = 10.0
# What one purge_user must report for one test user: 5 sessions x 11 rows, nothing kept.
PURGED = {"sessions": 5, "session_requests": 5, "session_participants": 10, "session_files": 5,
          "chat_messages": 30, "kept": 0}  # fmt: skip
# The queue models' figures: their JSON key and label, by the number of queues declared.
QUEUES = {
    1: ("one_queue", "1 declared queue (assignments)"),
    2: ("two_queues", "2 declared queues (+ offers)"),
}

Rows = dict[str, list[tuple[Any, ...]]]
Columns = Mapping[str, tuple[str, ...]]


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


def build_baseline(testers: int = 2) -> tuple[Rows, list[UUID], list[UUID]]:
    """16 customers with 4 sessions each, served by 4 mechanics; all users: (rows, mechanics, testers)."""
    baseline = empty_rows()
    mechanics = [add_user(baseline, "mechanic", test=False) for _ in range(4)]
    for _ in range(16):
        add_sessions(baseline, add_user(baseline, "customer", test=False), mechanics, 4)
    return baseline, mechanics, [add_user(baseline, "customer", test=True) for _ in range(testers)]


def test_rows(testers: list[UUID], mechanics: list[UUID]) -> Rows:
    """5 sessions per test user, with fresh ids each time, as a real test makes them. (Re-inserting
    the same ids makes every purge revisit all earlier dead versions of those keys: 1.5 -> 7.6 ms.)"""
    rows = empty_rows()
    for tester in testers:
        add_sessions(rows, tester, mechanics, 5)
    return rows


def copy_rows(conn: psycopg.Connection[Any], rows: Rows, columns: Columns = COLUMNS) -> None:
    """COPY every table's rows (the fast way to load), in the caller's transaction."""
    with conn.cursor() as cur:
        for table, data in rows.items():
            if data:
                with cur.copy(f"copy {table} ({', '.join(columns[table])}) from stdin") as copy:
                    for row in data:
                        copy.write_row(row)


def seed(conn: psycopg.Connection[Any], rows: Rows, columns: Columns = COLUMNS) -> None:
    with conn.transaction():
        copy_rows(conn, rows, columns)


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {t: int(conn.execute(f"select count(*) from {t}").fetchone()[0]) for t in COLUMNS}  # type: ignore[index]


def snapshot(conn: psycopg.Connection[Any], tables: Columns = COLUMNS) -> dict[str, list[str]]:
    """Every app row in full, to prove that a purge left the background exactly as it was."""
    return {t: [r[0] for r in conn.execute(f"select x::text from {t} x order by 1")] for t in tables}


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
    ms = [s / 1e6 for s in samples]
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "mean": statistics.fmean(ms)}


def bench_purge(
    store: PostgresStore,
    make_rows: Callable[[], Rows],
    users: list[UUID],
    runs: int,
    warmup: int,
    *,
    columns: Columns = COLUMNS,
    purged: Mapping[str, int] = PURGED,
) -> list[int]:
    """``purged``: what each user's purge must report, by answer key or by table (its ``tables``)."""
    conn = store.connection
    expected = snapshot(conn, columns)  # the baseline, before any test row exists
    results: list[list[dict[str, Any]]] = []
    samples = measure(
        runs,
        warmup,
        lambda: seed(conn, make_rows(), columns),
        lambda: results.append(store.purge_users(users)),
    )
    assert snapshot(conn, columns) == expected, "purge touched background rows or left test rows behind"
    for result in (r for run in results for r in run):  # every run, warm-up included
        answer = result.get("tables", {}) | result
        assert {k: answer[k] for k in purged} == purged, result
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


def bench_user_creation(store: PostgresStore, runs: int, warmup: int) -> tuple[list[int], list[int]]:
    """Making one test user: the database's part (user, identity, profile: one transaction), and the
    whole of it with the password's bcrypt hash (cost 10, as Supabase Auth's)."""
    personas = Personas(run_id="bench", worker_id="gw0", test_domain=DOMAIN)
    user, _ = personas.build("user", "customer")  # one hash, reused: the database part alone is timed
    made = iter(NewUser(**{**user, "email": personas.email(f"user{i}")}) for i in range(runs + warmup))
    database = measure(runs, warmup, lambda: None, lambda: store.create_test_user(next(made)))
    labels = iter(range(runs + warmup))
    whole = measure(
        max(10, runs // 10), 2, lambda: None,
        lambda: personas.create(store, f"whole{next(labels)}", "customer"),
    )  # fmt: skip
    with store.connection.transaction():
        for row in store.test_users():
            if row["metadata"].get("run") == "bench":
                store.delete_test_user(UUID(str(row["id"])))
    return database, whole


def make_template(pg: LocalPostgres, admin: psycopg.Connection[Any], baseline: Rows) -> None:
    admin.execute(f"create database {TEMPLATE_DB}")
    with PostgresStore(database_url=pg.url(TEMPLATE_DB)) as store:
        store.install(test_domain=DOMAIN, with_app_schema=True)
        seed(store.connection, baseline)
    # The store is closed here: a template must have no open connections while cloned.


# -- the part -------------------------------------------------------------------------


def run(bench: Bench) -> Part:
    part = Part("reset")
    runs, warmup = bench.n(200, 30), 5
    local(part, runs, warmup)
    model(part, runs, warmup)
    queues(part, runs, warmup)
    api(bench, part, bench.n(200, 30), warmup)
    plugin_overhead(bench, part, bench.n(200, 20))
    return part


def local(part: Part, runs: int, warmup: int) -> None:
    """The postgres store's purge, TRUNCATE + re-seed and a template clone, on one throwaway server."""
    baseline, mechanics, testers = build_baseline()
    make_rows = functools.partial(test_rows, testers, mechanics)
    with LocalPostgres() as pg, PostgresStore(database_url=pg.url()) as store:
        conn = store.connection
        store.install(test_domain=DOMAIN, with_app_schema=True)
        seed(conn, baseline)
        make_template(pg, conn, baseline)
        baseline_counts = counts(conn)
        rtt = measure(runs, warmup, lambda: None, lambda: conn.execute("select 1").fetchone())
        purge = stats_ms(bench_purge(store, make_rows, testers, runs, warmup))
        truncate = stats_ms(bench_truncate(conn, baseline, make_rows, runs, warmup))
        clone, create_only = bench_template(pg, conn, baseline_counts, runs, warmup)
        create_db, create_all = bench_user_creation(store, runs, warmup)
        knobs = ", ".join(
            f"{k}={conn.execute(f'show {k}').fetchone()[0]}"  # type: ignore[index]
            for k in ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        )
    template = stats_ms(clone)
    speedup = min(truncate["p50"], template["p50"]) / purge["p50"]
    rows = sum(len(v) for v in make_rows().values())
    part.figures += [
        Figure(
            "reset.postgres_p50_ms", f"reset 2 users, postgres store, p50 (n={runs})", purge["p50"], "ms",
            Target("<=", TARGET_P50_MS, "ms"), ANCHOR_RESET,
        ),
        Figure("reset.postgres_p95_ms", "reset 2 users, postgres store, p95", purge["p95"], "ms"),
        Figure("reset.truncate_p50_ms", "reset, TRUNCATE app tables + re-seed, p50", truncate["p50"], "ms"),
        Figure("reset.template_p50_ms", "reset, CREATE DATABASE … TEMPLATE, p50", template["p50"], "ms"),
        Figure(
            "reset.speedup", "postgres store vs the faster of TRUNCATE / template (p50)", speedup, "x",
            Target(">=", TARGET_SPEEDUP, "x"),
        ),
        Figure(
            "reset.user_create_p50_ms", "make a test user (Supabase Auth's shape, with identity), p50",
            stats_ms(create_db)["p50"], "ms",
        ),
    ]  # fmt: skip
    part.extra |= {
        "truncate_p95_ms": truncate["p95"],
        "template_p95_ms": template["p95"],
        "template_create_only_p50_ms": stats_ms(create_only)["p50"],
        "round_trip_p50_ms": stats_ms(rtt)["p50"],
        "speedup_truncate": truncate["p50"] / purge["p50"],
        "speedup_template": template["p50"] / purge["p50"],
        "user_create_p95_ms": stats_ms(create_db)["p95"],
        "user_create_with_hash_p50_ms": stats_ms(create_all)["p50"],
    }
    part.notes.append(
        f"postgres/TRUNCATE/template: one throwaway PostgreSQL ({knobs}); background "
        f"{sum(baseline_counts.values())} rows of 20 other users, {rows} test rows of 2 test users "
        f"re-seeded (untimed) before each of {runs} timed runs after {warmup} warm-ups; every purge "
        "is checked to leave the background row for row as it was. template = CREATE DATABASE … "
        "TEMPLATE then connecting to the clone (CREATE alone: p50 "
        f"{part.extra['template_create_only_p50_ms']:.1f} ms); "
        f"TRUNCATE … CASCADE of the 7 app tables + COPY of the background, one transaction. "
        f"A round trip (select 1) takes p50 {part.extra['round_trip_p50_ms']:.3f} ms."
    )


def model(part: Part, runs: int, warmup: int) -> None:
    """The purge on a model of our own: other names, an enum and a check constraint, 20 child tables
    up to depth 3 with every ON DELETE action (benchmarks/model_schema.py), and its install time."""
    with LocalPostgres() as pg, PostgresStore(database_url=pg.url(), model=model_schema.MODEL) as store:
        conn = store.connection
        conn.execute(platform().encode())
        conn.execute(model_schema.ddl().encode())
        background = model_schema.make_user(conn, test=False)
        background_rows = sum(model_schema.seed_jobs(conn, background) for _ in range(10))
        installs = measure(max(5, runs // 20), 1, lambda: None, lambda: store.install(test_domain=DOMAIN))
        testers = [model_schema.make_user(conn, test=True) for _ in range(2)]
        expected = {t: conn.execute(f"select count(*) from {t}").fetchone() for t in model_schema.tables()}
        seeded: list[int] = []
        results: list[list[dict[str, Any]]] = []

        def reseed() -> None:  # untimed: the rows a purge nulled go, then the test users' rows come back
            for table in model_schema.NULLED:
                conn.execute(f"delete from {table} where parent_id is null")
            seeded.append(sum(model_schema.seed_jobs(conn, u) for u in testers))

        samples = measure(runs, warmup, reseed, lambda: results.append(store.purge_users(testers)))
        for table in model_schema.NULLED:
            conn.execute(f"delete from {table} where parent_id is null")
        after = {t: conn.execute(f"select count(*) from {t}").fetchone() for t in model_schema.tables()}
    assert after == expected, "the purge touched other rows or left test rows behind"
    for rows, result in zip(seeded, results, strict=True):
        assert sum(n for r in result for n in r["tables"].values()) == rows, result
    purge, install = stats_ms(samples), stats_ms(installs)
    part.figures += [
        Figure(
            "reset.model_p50_ms", f"reset 2 users, model of 22 tables to depth 3, p50 (n={runs})",
            purge["p50"], "ms", Target("<=", TARGET_MODEL_P50_MS, "ms"),
        ),
        Figure("reset.model_install_p50_ms", "install the rules for that model, p50", install["p50"], "ms"),
    ]  # fmt: skip
    part.extra |= {"model_p95_ms": purge["p95"], "model_rows_per_reset": seeded[0]}
    part.notes.append(
        f"model: {len(model_schema.tables())} tables in schema {model_schema.SCHEMA} (20 children up to "
        f"depth 3; cascade, no action and set null keys), {seeded[0]} test rows of 2 test users re-seeded "
        f"(untimed) before each purge, {background_rows} rows of another user that must stay; install = "
        "catalog read, model check, render and apply, one transaction."
    )


def queues(part: Part, runs: int, warmup: int) -> None:
    """The purge on a model whose sessions reach mechanics through declared queues and no requests
    table (benchmarks/queue_schema.py): assignments keyed by session with no customer column, then
    offers too; each on a throwaway server of its own."""
    found: dict[int, dict[str, float]] = {}
    rows: dict[int, int] = {}
    background: dict[int, int] = {}
    for count in QUEUES:
        baseline, mechanics, testers = queue_schema.build_baseline(count)
        columns = {t: queue_schema.COLUMNS[t] for t in queue_schema.tables(count)}
        make_rows = functools.partial(queue_schema.test_rows, count, testers, mechanics)
        with (
            LocalPostgres() as pg,
            PostgresStore(database_url=pg.url(), model=queue_schema.model(count)) as store,
        ):
            conn = store.connection
            conn.execute(platform().encode())
            conn.execute(queue_schema.ddl(count).encode())
            store.install(test_domain=DOMAIN)
            seed(conn, baseline, columns)
            background[count] = sum(len(v) for t, v in baseline.items() if t != "auth.users")
            samples = bench_purge(
                store, make_rows, testers, runs, warmup, columns=columns, purged=queue_schema.purged(count)
            )
        found[count] = stats_ms(samples)
        rows[count] = sum(len(v) for v in make_rows().values())
        key, what = QUEUES[count]
        part.figures.append(
            Figure(f"reset.{key}_p50_ms", f"reset 2 users, {what}, p50 (n={runs})", found[count]["p50"], "ms")
        )
        part.extra |= {f"{key}_p95_ms": found[count]["p95"], f"{key}_rows_per_reset": rows[count]}
    part.notes.append(
        f"queues: schema {queue_schema.SCHEMA} with no requests table; sessions, 3 child tables and "
        "1 declared queue (assignments: keyed by session, no customer column; 2 rows for a completed "
        "session, 1 queued for a waiting one), then 2 (+ offers: 3 per session), each on a throwaway "
        f"PostgreSQL; {rows[1]} / {rows[2]} test rows of 2 test users (5 sessions each, 1 waiting) "
        f"re-seeded (untimed) before each purge, {background[1]} / {background[2]} rows of 20 other users "
        "that every purge is checked to leave row for row as they were; p95 "
        + " / ".join(f"{found[c]['p95']:.2f}" for c in QUEUES)
        + " ms."
    )


def api(bench: Bench, part: Part, runs: int, warmup: int) -> None:
    """The api store: the app's own ``POST /api/debug/cleanup-user-data``, once per signed-in user."""
    baseline, mechanics, _ = build_baseline(testers=0)
    with bench.store() as store:
        seed(store.connection, baseline)
        testers = bench.users(store, "customer", "customer")
        ids = [t.id for t in testers]
        make_rows = functools.partial(test_rows, ids, mechanics)
        purge, close, how = _api_purge(bench, testers)
        results: list[list[dict[str, Any]]] = []
        try:
            samples = measure(
                runs, warmup, lambda: seed(store.connection, make_rows()), lambda: results.append(purge())
            )
        finally:
            close()
        for result in (r for batch in results for r in batch):
            assert {k: result[k] for k in PURGED} == PURGED, result
        left = store.user_rows(ids)
        assert not left.get("sessions"), f"the api store left sessions behind: {left}"
    stats = stats_ms(samples)
    part.figures.append(
        Figure("reset.api_p50_ms", f"reset 2 users, api store, p50 (n={runs})", stats["p50"], "ms")
    )
    part.extra["api_p95_ms"] = stats["p95"]
    part.notes.append(f"api store: {how}; same rows, re-seeded before each run; counts checked.")


def _api_purge(
    bench: Bench, testers: list[TestUser]
) -> tuple[Callable[[], list[dict[str, Any]]], Callable[[], None], str]:
    """A purge of both users through the app (the api store), the way it closes, and how it is done."""
    store = ApiStore(app_url=bench.stack.app_url, admin_token=bench.stack.admin_token)
    ids = [store.sign_in(t.email, t.password) for t in testers]  # untimed: once per run, as the plugin
    assert ids == [t.id for t in testers]
    how = (
        "harness.store.api.ApiStore.purge_users: the app's POST /api/debug/cleanup-user-data, one "
        "request per user (it purges the signed-in user), one keep-alive HTTP connection, users "
        "signed in beforehand (untimed)"
    )
    return functools.partial(store.purge_users, ids), store.close, how


def plugin_overhead(bench: Bench, part: Part, repeat: int) -> None:
    """What the plugin adds to a test that uses a test user: reset before, leak check after."""
    inner = bench.pytest("-k", "trivial", env={"PITSTOP_BENCH_REPEAT": str(repeat)})

    def totals(name: str) -> list[float]:
        tests = sorted((t for n, t in inner.timings.items() if name in n), key=lambda t: float(t["start"]))
        # The first test of each kind pays once-per-run costs (creating the user, connecting).
        return [(t["setup"] + t["call"] + t["teardown"]) * 1000 for t in tests[1:]]

    with_user, without = totals("with_customer"), totals("without_user")
    overhead = percentile(with_user, 50) - percentile(without, 50)
    resets = inner.report["run"]["resets"]
    part.figures.append(
        Figure(
            "reset.plugin_overhead_p50_ms",
            f"plugin overhead per test (reset + leak check), p50 (n={len(with_user)})",
            overhead, "ms", Target("<=", TARGET_OVERHEAD_MS, "ms"),
        )
    )  # fmt: skip
    part.extra |= {
        "test_with_user_p50_ms": percentile(with_user, 50),
        "test_without_user_p50_ms": percentile(without, 50),
        "plugin_reset_p50_ms": resets["p50_ms"],
    }
    part.notes.append(
        f"plugin overhead: one pytest run of {repeat} trivial tests that take the `customer` fixture and "
        f"{repeat} identical ones that take no pitstop user, interleaved; a test's time is setup + call + "
        "teardown as pytest reports it; overhead = p50(with) - p50(without) "
        f"= {percentile(with_user, 50):.2f} - {percentile(without, 50):.2f} ms. It holds the purge "
        f"(run.resets p50 {resets['p50_ms']} ms), the health snapshot kept for evidence, and the leak check."
    )
