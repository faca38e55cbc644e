"""Runs' leases in the target (issue 19, part 1): proof of life that any machine can read.

A run holds a lease in ``pitstop.runs`` while it runs; what a run made is swept
once its lease has expired (at any age, on any machine) or ended, and never
while it is held; runs without one keep the rule by tags and age. On a real
PostgreSQL with the rules installed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from psycopg.types.json import Jsonb

from harness.config.settings import RunConfig, Settings
from harness.engine.lease import Heartbeat, ci_job, run_info
from harness.engine.run import Run, Target
from harness.errors import BadInput, Unsupported
from harness.store.api import ApiStore
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli

LONG_AGO = "2020-01-01T00:00:00+00:00"


@pytest.fixture
def leases(store: PostgresStore) -> Iterator[PostgresStore]:
    store.connection.execute("delete from pitstop.runs")
    yield store
    store.connection.execute("delete from pitstop.runs")


def _user(store: PostgresStore, label: str, meta: dict[str, Any]) -> UUID:
    """A test user of another run, made just now (younger than any sweep threshold by age)."""
    row = store.connection.execute(
        "insert into auth.users (id, email, raw_user_meta_data, created_at)"
        " values (gen_random_uuid(), %s, %s, now()) returning id",
        (f"{label}@pitstop.test", Jsonb({"pitstop": True, **meta})),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def _expire(store: PostgresStore, run: str) -> None:
    store.connection.execute(
        "update pitstop.runs set heartbeat_at = now() - make_interval(secs => lease_seconds + 1)"
        " where run = %s",
        (run,),
    )


def _run_on(store: PostgresStore) -> Run:
    settings = Settings.load(database_url=store.connection.info.dsn, app_url="http://127.0.0.1:9", env={})
    return Run(RunConfig(settings=settings), run_id="thisrun", target=Target(settings, "given"))


def _emails(store: PostgresStore) -> set[str]:
    return {r[0] for r in store.connection.execute("select email from auth.users").fetchall()}


def test_a_lease_is_held_renewed_listed_and_ended(leases: PostgresStore) -> None:
    info = run_info("run-a", 120, shard="2/4")
    first = leases.hold_run(info)
    [listed] = leases.runs()
    assert listed["run"] == "run-a" and listed["alive"] is True
    assert (listed["host"], listed["pid"], listed["shard"], listed["lease_seconds"]) == (
        socket.gethostname(),
        info.pid,
        "2/4",
        120,
    )
    assert (listed["users"], listed["mechanics"]) == (0, 0)
    time.sleep(0.01)
    renewed = leases.hold_run(info)
    assert renewed["heartbeat_at"] > first["heartbeat_at"]
    # A sweep ends an expired lease only while it is expired: a held one stays.
    assert leases.end_run("run-a", expired=True)["ended"] is False
    _expire(leases, "run-a")
    assert leases.runs()[0]["alive"] is False
    assert leases.end_run("run-a") == {"run": "run-a", "ended": True}
    assert leases.runs() == []
    assert leases.end_run("run-a")["ended"] is False


def test_a_lease_counts_what_its_run_still_owns(leases: PostgresStore) -> None:
    leases.hold_run(run_info("run-b", 120))
    _user(leases, "b1", {"run": "run-b", "leased": True})
    _user(leases, "b2", {"run": "run-b", "leased": True})
    _user(leases, "other", {"run": "run-c"})
    assert leases.runs()[0]["users"] == 2


def test_a_bad_lease_is_refused_naming_what_is_wrong(leases: PostgresStore) -> None:
    with pytest.raises(BadInput, match="positive length"):
        leases.hold_run(run_info("run-z", 120).__class__("run-z", "h", 1, None, None, 0))
    assert leases.runs() == []


def test_a_sweep_follows_the_leases_before_tags_and_age(leases: PostgresStore) -> None:
    here = socket.gethostname()
    leases.hold_run(run_info("held", 120))
    leases.hold_run(run_info("expired", 120))
    _expire(leases, "expired")
    # Young users, of a dead pid on this host (the tags alone would say dead, but too young by age).
    dead_pid = {"host": here, "pid": 2**22 + 7}
    _user(leases, "held", {"run": "held", "leased": True, **dead_pid})
    _user(leases, "expired", {"run": "expired", "leased": True, **dead_pid})
    _user(leases, "ended", {"run": "ended", "leased": True, **dead_pid})  # its run ended its lease
    _user(leases, "legacy", {"run": "legacy", **dead_pid})  # a run from before leases: by age
    foreign = _user(leases, "foreign", {"run": "far", "host": "elsewhere", "pid": 1})  # a day old: by age
    leases.connection.execute("update auth.users set created_at = %s where id = %s", (LONG_AGO, foreign))
    run = _run_on(leases)
    try:
        swept = run.sweep()
    finally:
        run.close(delete_users=False)
    assert sorted(swept) == ["ended@pitstop.test", "expired@pitstop.test", "foreign@pitstop.test"]
    assert _emails(leases) == {"held@pitstop.test", "legacy@pitstop.test"}
    # The expired run owns nothing any more: its lease is gone; the held one stays.
    assert [r["run"] for r in leases.runs()] == ["held"]


def test_an_expired_lease_whose_user_cannot_go_stays_listed_with_what_it_owns(leases: PostgresStore) -> None:
    conn = leases.connection
    conn.execute("create table if not exists public.reviews (author uuid references auth.users (id))")
    try:
        leases.hold_run(run_info("stuck", 120))
        _expire(leases, "stuck")
        author = _user(leases, "stuck", {"run": "stuck", "leased": True})
        conn.execute("insert into public.reviews (author) values (%s)", (author,))
        run = _run_on(leases)
        try:
            assert run.sweep() == []
        finally:
            run.close(delete_users=False)
        [lease] = leases.runs()
        assert (lease["run"], lease["alive"], lease["users"]) == ("stuck", False, 1)
        assert "public.reviews" in run.left[0]["reason"]
    finally:
        conn.execute("drop table public.reviews")


def test_a_run_holds_its_lease_while_it_runs_and_ends_it(leases: PostgresStore) -> None:
    """A run that starts its own target (here: a given one, checked and leased as a controller does)."""
    settings = Settings.load(database_url=leases.connection.info.dsn, app_url="http://127.0.0.1:9", env={})
    run = Run(RunConfig(settings=settings, reset="user", lease_seconds=8), run_id="mine")
    try:
        target = run.target()
        assert target.leased and json.loads(json.dumps(target.to_json()))["leased"] is True
        [lease] = leases.runs()
        assert (lease["run"], lease["alive"], lease["lease_seconds"]) == ("mine", True, 8)
        user = run.user("customer")
        meta = leases.connection.execute(
            "select raw_user_meta_data from auth.users where id = %s", (user.id,)
        ).fetchone()
        assert meta is not None and meta[0]["leased"] is True and meta[0]["run"] == "mine"
        # The heartbeat renews it every quarter of its length (2 s here).
        first = lease["heartbeat_at"]
        deadline = time.monotonic() + 10
        while leases.runs()[0]["heartbeat_at"] == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert leases.runs()[0]["heartbeat_at"] > first
    finally:
        run.close(delete_users=True)
    assert leases.runs() == []


def test_the_heartbeat_keeps_a_failed_renewal_and_tries_again() -> None:
    calls: list[float] = []
    failed = threading.Event()

    def renew() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            failed.set()
            raise ConnectionResetError("the database went away")  # not pitstop's: kept all the same

    beat = Heartbeat(renew, lease_seconds=8).start()
    try:
        assert failed.wait(10)
        deadline = time.monotonic() + 10
        while beat.beats < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert beat.beats >= 1 and beat.error is None and len(calls) >= 2
    finally:
        beat.stop()


def test_the_lease_is_at_least_eight_seconds() -> None:
    with pytest.raises(
        BadInput, match="--pitstop-lease-seconds or PITSTOP_LEASE_SECONDS: 4 seconds is too short"
    ):
        RunConfig(lease_seconds=4)


@pytest.mark.parametrize(
    ("env", "job"),
    [
        (
            {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "9", "GITHUB_JOB": "e2e",
             "GITHUB_RUN_ATTEMPT": "2"},
            "github:o/r/9/e2e#2",
        ),
        ({"GITLAB_CI": "true", "CI_PROJECT_PATH": "g/p", "CI_JOB_ID": "77"}, "gitlab:g/p/77"),
        ({"CIRCLECI": "true", "CIRCLE_BUILD_NUM": "5"}, "circleci:5"),
        (
            {"BUILDKITE": "true", "BUILDKITE_PIPELINE_SLUG": "e2e", "BUILDKITE_JOB_ID": "abc"},
            "buildkite:e2e/abc",
        ),
        ({"CI": "true"}, None),
    ],
    ids=["github", "gitlab", "circleci", "buildkite", "unknown"],
)  # fmt: skip
def test_the_ci_job_is_named_where_the_environment_says(env: dict[str, str], job: str | None) -> None:
    assert ci_job(env) == job


def test_pitstop_runs_lists_the_leases(
    leases: PostgresStore, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    url = leases.connection.info.dsn
    code, out, _ = run_cli(capsys, "runs", "--database-url", url)
    assert (code, out.splitlines()[1:]) == (0, ["  no run holds a lease"])
    leases.hold_run(run_info("alive-run", 120))
    leases.hold_run(run_info("dead-run", 60))
    _expire(leases, "dead-run")
    _user(leases, "d", {"run": "dead-run", "leased": True})
    code, out, _ = run_cli(capsys, "runs", "--database-url", url, "--json")
    runs = {r["run"]: r for r in json.loads(out)["runs"]}
    assert code == 0 and (runs["alive-run"]["alive"], runs["dead-run"]["alive"]) == (True, False)
    assert runs["dead-run"]["users"] == 1
    code, out, _ = run_cli(capsys, "runs", "--database-url", url)
    assert code == 0
    assert "  dead-run  EXPIRED (lease 60 s" in out and "    owns 1 test users, 0 test mechanics" in out
    assert "  alive-run  alive (lease 120 s" in out


def test_the_api_store_says_plainly_that_it_cannot_hold_a_lease(api_store: ApiStore) -> None:
    with pytest.raises(Unsupported, match="cannot do this: holding a run's lease") as refused:
        api_store.hold_run(run_info("r", 120))
    assert "24 hours" in refused.value.message


def test_a_run_that_starts_while_a_sweep_reads_the_leases_keeps_its_users(leases: PostgresStore) -> None:
    """A run takes its lease and makes a user after the sweep read the leases (four runs starting at
    once): the sweep must not take that user for one of a run whose lease has ended."""
    run = _run_on(leases)
    store = run.cleanup().store
    read_leases = store.runs

    def runs_then_a_new_run_starts() -> list[Any]:
        listed = read_leases()
        if not _emails(leases):  # once: the sweep reads the leases again to end expired ones
            leases.hold_run(run_info("late", 120))
            _user(leases, "late", {"run": "late", "leased": True})
        return listed

    store.runs = runs_then_a_new_run_starts  # type: ignore[method-assign]
    try:
        assert run.sweep() == []
    finally:
        run.close(delete_users=False)
    assert _emails(leases) == {"late@pitstop.test"}


def test_a_user_another_sweep_deleted_first_is_not_left(leases: PostgresStore) -> None:
    """Two runs sweep the same dead run's users at once: the one that comes second finds a user gone,
    and does not report it as left (the report's ``users_left`` would name a user that is not there)."""
    _user(leases, "dead", {"run": "ended", "leased": True})
    run = _run_on(leases)
    store = run.cleanup().store
    list_users = store.test_users

    def listed_then_swept_by_another_run() -> list[Any]:
        listed = list_users()
        with PostgresStore(database_url=leases.connection.info.dsn) as other:
            for user in listed:
                other.delete_test_user(UUID(str(user["id"])))
        return listed

    store.test_users = listed_then_swept_by_another_run  # type: ignore[method-assign]
    try:
        assert run.sweep() == []  # the other run swept it
    finally:
        run.close(delete_users=False)
    assert run.left == [] and _emails(leases) == set()
