"""Which store a target gets, and the guard on Supabase and app targets (before anything is sent)."""

from __future__ import annotations

import pytest

from harness.config.settings import Settings, store_kind
from harness.errors import BadInput, Refused
from harness.store.safety import check_supabase_key, check_url, jwt_claims, supabase_project_ref
from tests import recordings as rec

NO_ENV: dict[str, str] = {}


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ({"database_url": "postgresql://127.0.0.1/x"}, "postgres"),
        ({"database_url": "postgresql://127.0.0.1/x", "supabase_url": rec.URL}, "postgres"),
        ({"supabase_url": rec.URL, "admin_token": "t", "app_url": "http://127.0.0.1:3000"}, "supabase"),
        ({"app_url": "http://127.0.0.1:3000", "admin_token": "t"}, "api"),
        ({"store": "api", "database_url": "postgresql://127.0.0.1/x"}, "api"),
        ({"store": "supabase"}, "supabase"),
    ],
)
def test_the_store_is_the_one_named_else_chosen_by_what_is_given(given: dict[str, str], kind: str) -> None:
    assert store_kind(Settings.load(env=NO_ENV, **given)) == kind


def test_the_environment_selects_too() -> None:
    env = {"SUPABASE_URL": rec.URL, "SUPABASE_SERVICE_ROLE_KEY": rec.SERVICE_KEY}
    settings = Settings.load(env=env)
    assert store_kind(settings) == "supabase" and settings.supabase_key == rec.SERVICE_KEY
    assert store_kind(Settings.load(env={**env, "PITSTOP_STORE": "postgres"})) == "postgres"
    assert "service_role" not in repr(settings) and rec.SERVICE_KEY not in repr(settings)


def test_an_app_url_without_a_token_or_nothing_at_all_is_no_target() -> None:
    for given in ({}, {"app_url": "http://127.0.0.1:3000"}):
        with pytest.raises(BadInput, match="no target given") as caught:
            store_kind(Settings.load(env=NO_ENV, **given))
        assert caught.value.fix is not None and "--supabase-url" in caught.value.fix


def test_an_unknown_store_is_bad_input() -> None:
    with pytest.raises(BadInput, match="is not one of postgres, supabase, api"):
        Settings.load(store="mysql", env=NO_ENV)


# -- the Supabase key --------------------------------------------------------------------


def test_a_service_role_key_of_the_urls_project_passes() -> None:
    check_supabase_key(rec.SERVICE_KEY, rec.URL)
    check_supabase_key(rec.LOCAL_KEY, "http://127.0.0.1:54321")  # supabase start: no ref to match
    check_supabase_key("sb_secret_abc123", rec.URL)


def test_an_anon_key_is_refused() -> None:
    with pytest.raises(Refused, match="'anon', not service_role"):
        check_supabase_key(rec.ANON_KEY, rec.URL)
    with pytest.raises(Refused, match="publishable"):
        check_supabase_key("sb_publishable_abc123", rec.URL)


def test_a_key_of_another_project_is_refused() -> None:
    with pytest.raises(Refused, match="belongs to project zzzzzzzzzzzzzzzzzzzz") as caught:
        check_supabase_key(rec.OTHER_PROJECT_KEY, rec.URL)
    assert caught.value.fix is not None and rec.REF in caught.value.fix


def test_a_key_that_is_no_key_is_bad_input() -> None:
    for key in ("hunter2", "a.b.c", "x.bm90IGpzb24.y"):
        assert jwt_claims(key) is None
        with pytest.raises(BadInput, match="neither a JWT"):
            check_supabase_key(key, rec.URL)


def test_project_refs_come_only_from_supabase_hosts() -> None:
    assert supabase_project_ref(rec.URL) == rec.REF
    assert supabase_project_ref("http://127.0.0.1:54321") is None
    assert supabase_project_ref("https://api.example.com") is None
    assert supabase_project_ref("https://evil.qwertyuiopasdfghjklz.supabase.co.example.com") is None


# -- the host of an http target ------------------------------------------------------------


def test_loopback_urls_pass_and_resolve() -> None:
    assert [e.address for e in check_url("http://localhost:3000", frozenset(), what="app")] != []
    check_url("http://[::1]:3000/x", frozenset(), what="app")
    check_url("http://127.0.0.1:54321", frozenset(), what="Supabase")


def test_remote_urls_are_refused_unless_allow_listed() -> None:
    with pytest.raises(Refused, match=r"app at 192\.0\.2\.10 is not on this machine") as caught:
        check_url("https://192.0.2.10", frozenset(), what="app")
    assert caught.value.fix is not None and "--allow-host 192.0.2.10" in caught.value.fix
    with pytest.raises(Refused, match="does not resolve"):
        check_url("https://preview-123.invalid", frozenset(), what="app")
    check_url(rec.URL, frozenset({f"{rec.REF}.supabase.co"}), what="Supabase")


def test_a_url_that_is_no_http_url_is_bad_input() -> None:
    for url in ("ftp://127.0.0.1", "127.0.0.1:3000", "http://", "http://127.0.0.1:port"):
        with pytest.raises(BadInput):
            check_url(url, frozenset(), what="app")
