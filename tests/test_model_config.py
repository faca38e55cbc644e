"""Declaring the model: [tool.pitstop.model] read from the file the command line, the
environment or the folder names; every mistake is exit 2 with the fix, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from harness.errors import BadInput
from harness.rules.model import Model, load_model
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli


def test_an_empty_declaration_is_the_reference_apps_model() -> None:
    assert load_model({}) == Model() == load_model(None)
    assert Model().sessions.statuses == ("pending", "waiting", "live", "completed", "cancelled")
    assert Model().requests.statuses == ("pending", "accepted", "expired", "cancelled")


def test_the_declaration_round_trips_through_its_toml() -> None:
    import tomllib

    model = load_model(
        {
            "sessions": {"table": "garage.jobs", "customer": "customer_user_id",
                         "active": ["waiting", "live"], "open": ["waiting"]},
            "requests": {"table": "", "session": ""},
            "mechanics": {"table": "garage.mechanics", "user": "user_id"},
        }
    )  # fmt: skip
    again = load_model(tomllib.loads(model.to_toml())["tool"]["pitstop"]["model"])
    assert again == model and again.digest() == model.digest() != Model().digest()
    assert not again.has_requests and again.has_mechanics_table


@pytest.mark.parametrize(
    ("declaration", "says", "fix"),
    [
        ({"session": {}}, "unknown part session", "[tool.pitstop.model.sessions]"),
        ({"sessions": {"customer_column": "x"}}, "unknown key customer_column", "customer"),
        ({"sessions": {"customer": 3}}, "sessions.customer must be a string", 'customer = "customer_id"'),
        (
            {"sessions": {"scheduled_for": True}},
            "sessions.scheduled_for must be a string",
            'scheduled_for = ""',
        ),
        (
            {"sessions": {"cancel_assigned": "no"}},
            "sessions.cancel_assigned must be true or false",
            "cancel_assigned = true (or false)",
        ),
        ({"sessions": {"open": "waiting"}}, "sessions.open must be a list", 'open = ["pending", "waiting"]'),
        ({"sessions": {"open": ["waiting", ""]}}, "sessions.open must be a list", "open ="),
        ({"sessions": {"status": ""}}, "sessions.status may not be empty", 'status = "status"'),
        ({"sessions": {"table": "sessions"}}, "must be schema-qualified", 'table = "public.sessions"'),
        ({"requests": {"pending": ""}}, "requests.pending may not be empty", 'pending = "pending"'),
        ({"sessions": {"cancelled": "waiting"}}, "also an open or active status", "cancels"),
        ({"sessions": {"open": ["queued"]}}, "open must be part of active", "queued"),
        # A typo is named as one, before any advice to widen active.
        (
            {"sessions": {"open": ["pending", "waitng"]}},
            "'waitng' (did you mean 'waiting'?)",
            'open = ["pending", "waiting"]',
        ),
        (
            {"sessions": {"request": "request_id"}},
            "links requests to sessions twice",
            'set the other to ""',
        ),
        (
            {"mechanics": {"table": "public.mechanics", "email": ""}},
            "mechanics.email may not be empty",
            "email",
        ),
        ([], "must be a table", "[tool.pitstop.model.sessions]"),
    ],
)
def test_a_mistake_in_the_declaration_names_the_key_and_the_fix(
    declaration: object, says: str, fix: str
) -> None:
    with pytest.raises(BadInput) as refused:
        load_model(declaration)
    assert says in refused.value.message
    assert refused.value.fix and fix in refused.value.fix


def test_an_empty_part_needs_nothing_more() -> None:
    model = load_model({"requests": {"table": "", "pending": ""}, "mechanics": {"table": "", "id": ""}})
    assert not model.has_requests and not model.has_mechanics_table


# -- the command line -------------------------------------------------------------------


def _toml(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_the_cli_refuses_a_bad_declaration_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    config = _toml(tmp_path / "pitstop.toml", '[tool.pitstop.model.sessions]\ncustomer = ["x"]\n')
    code, _, err = run_cli(capsys, "sql", "--config", str(config))
    assert code == 2 and "sessions.customer must be a string" in err and "fix:" in err
    code, _, err = run_cli(capsys, "sql", "--config", str(tmp_path / "missing.toml"))
    assert code == 2 and "no configuration file" in err
    broken = _toml(tmp_path / "broken.toml", "[tool.pitstop.model\n")
    code, _, err = run_cli(capsys, "sql", "--config", str(broken))
    assert code == 2 and "is not valid TOML" in err


def test_the_config_comes_from_the_flag_the_environment_or_pyproject(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_target_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sql prints the model it rendered for (recorded in pitstop.settings)."""
    declared = '[tool.pitstop.model.sessions]\ncancelled = "{word}"\n'
    monkeypatch.chdir(tmp_path)
    _toml(tmp_path / "pyproject.toml", declared.format(word="from-pyproject"))
    flag = _toml(tmp_path / "flag.toml", declared.format(word="from-flag"))
    env = _toml(tmp_path / "env.toml", declared.format(word="from-env"))

    def rendered_for(*argv: str) -> str:
        code, out, _ = run_cli(capsys, "sql", *argv)
        assert code == 0
        return out

    assert "from-pyproject" in rendered_for()
    monkeypatch.setenv("PITSTOP_CONFIG", str(env))
    assert "from-env" in rendered_for()
    assert "from-flag" in rendered_for("--config", str(flag))


def test_install_with_a_model_that_does_not_fit_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None, postgres_db_url: str
) -> None:
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        store.connection.execute("drop schema pitstop cascade")
    config = _toml(
        tmp_path / "pitstop.toml",
        "[tool.pitstop.model.sessions]\n"
        'customer = "customer"\n'  # the column is customer_id
        'scheduled_for = "plan"\n'  # a text column, not a time
        'open = ["pending", "waiting", "scheduled"]\n'  # the check constraint does not allow it
        'active = ["pending", "waiting", "scheduled", "live"]\n'
        "[tool.pitstop.model.requests]\n"
        'table = "public.session_request"\n',  # the table is session_requests
    )
    code, _, err = run_cli(capsys, "install", "--database-url", postgres_db_url, "--config", str(config))
    assert code == 2
    assert "sessions.customer: public.sessions has no column customer (did you mean customer_id?)" in err
    assert "sessions.scheduled_for: public.sessions.plan is text, not timestamptz" in err
    assert "does not allow 'scheduled' (its check constraint)" in err and "'completed'" in err
    assert (
        "requests.table: there is no table public.session_request (did you mean public.session_requests"
        in err
    )
    with psycopg.connect(postgres_db_url) as conn:
        assert conn.execute("select to_regnamespace('pitstop')").fetchone() == (None,)


def test_a_store_configured_for_another_model_than_the_installed_one_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None, database_url: str
) -> None:
    config = _toml(
        tmp_path / "pitstop.toml", '[tool.pitstop.model.sessions]\nupdated_at = ""\nended_at = ""\n'
    )
    code, _, err = run_cli(capsys, "health", "--database-url", database_url, "--config", str(config))
    assert code == 2
    assert "installed for another model" in err and "pitstop install" in err
    code, out, _ = run_cli(capsys, "health", "--json", "--database-url", database_url)
    assert code == 0 and "sessions" in json.loads(out)


def test_a_store_configured_for_another_model_that_does_not_fit_says_what_install_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None, database_url: str
) -> None:
    config = _toml(tmp_path / "pitstop.toml", '[tool.pitstop.model.sessions]\ncustomer = "customer"\n')
    code, _, err = run_cli(capsys, "health", "--database-url", database_url, "--config", str(config))
    assert code == 2
    assert "installed for another model" in err and "install would refuse it" in err
    assert "sessions.customer: public.sessions has no column customer (did you mean customer_id?)" in err
    assert "fix: correct [tool.pitstop.model]" in err
