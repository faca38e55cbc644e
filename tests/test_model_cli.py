"""The ``pitstop`` command on a schema we did not design (tests/schemas/garage.sql, the app pitstop
was first written for) with ``--config tests/schemas/garage.toml``: install, reset, cleanup,
force-cancel and health do what the rules say in the model's words; a model that does not fit
is exit 2, names what is wrong and writes nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli
from tests.model_worlds import SCHEMAS, World, create_database, drop_database, has_pitstop, keyof, model_of

CONFIG = str(SCHEMAS / "garage.toml")


@pytest.fixture
def garage_url(postgres: LocalPostgres) -> Iterator[str]:
    """A database of its own with the garage's tables and no pitstop."""
    url = create_database(postgres.url(), "garage")
    yield url
    drop_database(postgres.url(), url)


def pitstop(
    capsys: pytest.CaptureFixture[str], url: str, *argv: str, config: str = CONFIG
) -> tuple[int, str, str]:
    return run_cli(capsys, *argv, "--config", config, "--database-url", url)


def test_the_commands_on_the_garage_in_its_words(
    garage_url: str, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    code, out, err = pitstop(capsys, garage_url, "install")
    assert (code, err) == (0, "")
    assert "installed the pitstop functions" in out
    with PostgresStore(database_url=garage_url, model=model_of("garage")) as store:
        w = World(store.connection, store.model)
        customer = w.user(email="cli-customer@pitstop.test")
        mechanic = w.mechanic()
        live = w.session(customer, status="live", mechanic=mechanic, request="accepted")
        w.conn.execute(
            "insert into public.chat_messages (session_id, sender_id) values (%s, %s)",
            (live.session, customer),
        )
        stale = w.session(w.user(), status="waiting", age_minutes=15.1)  # and its pending request
        orphan = w.session(w.user(), status="pending", age_minutes=20.1, request=None)
        scheduled = w.session(w.user(), status="scheduled", age_minutes=240, request=None)
        before = w.snapshot()

        code, out, _ = pitstop(capsys, garage_url, "cleanup", "--dry-run")
        assert code == 0
        assert out.splitlines() == [
            "would expire 1 pending requests older than 15 min; would cancel 2 sessions (2 orphaned)",
            "would change: sessions 2, session_requests 1",
            "dry run: nothing was changed",
        ]
        assert w.snapshot() == before

        code, out, _ = pitstop(capsys, garage_url, "cleanup", "--json")
        assert code == 0
        assert json.loads(out) == {
            "requests_expired": 1,
            "requests_cancelled": 0,
            "sessions_cancelled": 2,
            "orphans_cancelled": 2,
            "dry_run": False,
        }
        assert (w.status(stale.session), w.status(orphan.session)) == ("cancelled", "cancelled")
        assert (
            stale.request is not None and w.request_status(stale.request) == "cancelled"
        )  # expired = cancelled

        code, out, _ = pitstop(capsys, garage_url, "force-cancel", str(scheduled.session))
        assert code == 0
        assert (
            out.strip()
            == f"cancelled session {scheduled.session} (was scheduled); 0 pending requests cancelled"
        )
        code, _, err = pitstop(capsys, garage_url, "force-cancel", str(scheduled.session))
        assert code == 2 and f"session {scheduled.session} has already ended (cancelled)" in err

        code, out, _ = pitstop(capsys, garage_url, "health", "--json")
        assert code == 0
        health = json.loads(out)
        assert set(health["sessions"]) == {
            "pending",
            "waiting",
            "live",
            "scheduled",
            "completed",
            "cancelled",
        }
        assert health["sessions"]["waiting"] == {"total": 0, "stale": 0, "veryStale": 0}
        assert health["sessions"]["live"] == {"total": 1} and health["sessions"]["cancelled"] == {"total": 3}
        assert health["requests"] == {
            "pending": {"total": 0, "stale": 0},
            "accepted": {"total": 1},
            "cancelled": {"total": 1},
        }
        assert health["problems"] == [] and health["orphans"] == 0

        code, out, _ = pitstop(capsys, garage_url, "reset", "--user", "cli-customer@pitstop.test", "--json")
        assert code == 0
        assert json.loads(out) == {
            "user_id": str(customer),
            "kept": 0,
            "sessions": 1,
            "session_requests": 1,
            "chat_messages": 1,
            "message_reads": 0,
            "request_offers": 0,
            "session_payments": 0,
            "tables": {
                "public.sessions": 1,
                "public.session_requests": 1,
                "public.chat_messages": 1,
                "public.message_reads": 0,
                "public.request_offers": 0,
                "public.session_payments": 0,
            },
            "dry_run": False,
        }
        assert keyof(live.session) not in w.snapshot()["public.sessions"]

        w.session(customer, status="waiting")
        code, out, err = pitstop(capsys, garage_url, "reset", "--user", "cli-customer@pitstop.test")
        assert (code, err) == (0, "")
        assert out.strip() == (
            f"purged test user cli-customer@pitstop.test ({customer}): sessions 1, session_requests 1, "
            "chat_messages 0, message_reads 0, request_offers 0, session_payments 0"
        )


def _model(tmp_path: Path, old: str, new: str) -> str:
    text = Path(CONFIG).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "pitstop.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


def test_a_misspelled_column_is_exit_2_naming_it_and_the_candidates_and_nothing_is_written(
    garage_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    config = _model(tmp_path, 'customer = "customer_user_id"', 'customer = "customer_userid"')
    code, out, err = pitstop(capsys, garage_url, "install", config=config)
    assert (code, out) == (2, "")
    assert "sessions.customer: public.sessions has no column customer_userid" in err
    assert "did you mean customer_user_id?" in err
    assert "nothing was written" in err
    assert not has_pitstop(garage_url)


def test_a_status_word_the_check_constraint_does_not_allow_is_exit_2_naming_the_allowed_words(
    garage_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    config = _model(tmp_path, 'expired = "cancelled"', 'expired = "expired"')
    code, out, err = pitstop(capsys, garage_url, "install", config=config)
    assert (code, out) == (2, "")
    assert "public.session_requests.status does not allow 'expired' (its check constraint)" in err
    assert "use the words it allows: 'pending', 'accepted', 'cancelled'" in err
    assert not has_pitstop(garage_url)


def test_cleanup_and_health_say_what_they_protected_and_why(
    garage_url: str, capsys: pytest.CaptureFixture[str], no_target_environment: None, tmp_path: Path
) -> None:
    """The garage's app never touches a session with a mechanic: ``cancel_assigned = false``."""
    config = tmp_path / "pitstop.toml"
    text = Path(CONFIG).read_text(encoding="utf-8")
    config.write_text(text.replace("cancel_assigned = true", "cancel_assigned = false", 1))
    code, _, err = pitstop(capsys, garage_url, "install", config=str(config))
    assert (code, err) == (0, "")
    model = model_of("garage")
    with PostgresStore(
        database_url=garage_url,
        model=dataclasses.replace(model, sessions=dataclasses.replace(model.sessions, cancel_assigned=False)),
    ) as store:
        w = World(store.connection, store.model)
        assigned = w.session(w.user(test=False), status="waiting", age_minutes=40, mechanic=w.mechanic())
        stale = w.session(w.user(test=False), status="waiting", age_minutes=40)
        before = w.snapshot()

        code, out, _ = pitstop(capsys, garage_url, "cleanup", "--dry-run", config=str(config))
        assert code == 0
        assert out.splitlines() == [
            "would expire 1 pending requests older than 15 min; would cancel 1 sessions (1 orphaned)",
            "would change: sessions 1, session_requests 1",
            "protected: 1 session (1 with a mechanic assigned); kept 1 of their pending requests",
            "dry run: nothing was changed",
        ]
        assert w.snapshot() == before

        code, out, _ = pitstop(capsys, garage_url, "health", config=str(config))
        assert code == 0 and "  protected 1 session (1 with a mechanic assigned)" in out.splitlines()
        code, out, _ = pitstop(capsys, garage_url, "health", "--json", config=str(config))
        health = json.loads(out)
        assert list(health) == ["checked_at", "sessions", "requests", "orphans", "protected", "problems"]
        assert health["protected"] == {"scheduled": 0, "assigned": 1}
        assert health["sessions"]["waiting"] == {"total": 2, "stale": 1, "veryStale": 0}
        # The protected session's request is kept: only the other one is stale.
        assert {p["code"]: p["count"] for p in health["problems"]} == {
            "stale_waiting": 1,
            "stale_pending_requests": 1,
        }

        code, out, _ = pitstop(capsys, garage_url, "cleanup", "--json", config=str(config))
        assert code == 0
        assert json.loads(out) == {
            "requests_expired": 1,
            "requests_cancelled": 0,
            "sessions_cancelled": 1,
            "orphans_cancelled": 1,  # by customer: no pending request left
            "dry_run": False,
            "protected": {"scheduled": 0, "assigned": 1, "requests": 1},
        }
        assert (w.status(assigned.session), w.status(stale.session)) == ("waiting", "cancelled")
