"""``[tool.pitstop.payments]``: read and checked, carried in Settings, and paid by the fast path.

The end-to-end tests start the embedded stack through a ``Run`` (as the plugin
does) with ``kind = "checkout_session"``: the reference app then sends its
customers to Stripe Checkout, and ``Pitstop.pay_by_webhook`` pays a real
Checkout Session on the embedded Stripe.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
import stripe

from harness.config.contract import load_contract
from harness.config.payments import DEFAULT_METADATA, PaymentConfig, PaymentValues, load_payments
from harness.config.settings import RunConfig, Settings
from harness.engine.data import load
from harness.engine.handle import Pitstop
from harness.engine.payments import Payments
from harness.engine.run import Run, Target
from harness.errors import BadInput, PitstopError, Refused, Unsupported
from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack
from harness.stack.postgres import LocalPostgres
from tests.conftest import run_cli

VEHICLE = load("vehicles")[0]
CARDS = load("cards")


def values(**changes: str) -> PaymentValues:
    customer = str(uuid4())
    base = PaymentValues.of(
        plan=load("plans")[0], customer_id=customer, customer_email="c@pitstop.test", vehicle=VEHICLE
    )
    return dataclasses.replace(base, **changes)


# -- the table --------------------------------------------------------------------------------


def test_without_a_table_the_reference_apps_payment_intents_are_paid_as_before() -> None:
    config = load_payments(None)
    assert config == PaymentConfig() == load_payments({})
    assert (config.kind, config.webhook_path) == ("payment_intent", "/api/stripe/webhook")
    filled = values()
    vehicle = {k: VEHICLE[k] for k in ("year", "make", "model", "mileage")}
    assert config.render(filled) == {  # what Payments.pay set before the table existed
        "customer_id": filled.customer_id,
        "plan": "quick-chat",
        "vehicle": json.dumps(vehicle, separators=(",", ":")),
        "description": VEHICLE["description"],
    }


def test_a_checkout_session_table_with_its_templates() -> None:
    config = load_payments(
        {
            "kind": "checkout_session",
            "webhook_path": "/api/webhooks/stripe",
            "metadata": {
                "plan": "{plan}",
                "plan_id": "{plan_slug}",
                "supabase_user_id": "{customer.id}",
                "email": "{customer.email}",
                "intake_id": "{intake_id}",
                "source": "pitstop {{test}}",
            },
        }
    )
    assert (config.kind, config.webhook_path) == ("checkout_session", "/api/webhooks/stripe")
    filled = values()
    assert config.render(filled) == {  # intake_id renders empty: left out
        "plan": "Quick Chat",
        "plan_id": "quick-chat",
        "supabase_user_id": filled.customer_id,
        "email": "c@pitstop.test",
        "source": "pitstop {test}",
    }
    assert config.render(dataclasses.replace(filled, intake_id="in_1"))["intake_id"] == "in_1"
    # The kind's defaults when no metadata table is given: the reference app's Checkout metadata.
    defaults = load_payments({"kind": "checkout_session"})
    assert defaults.templates == DEFAULT_METADATA["checkout_session"]
    assert set(defaults.render(filled)) == {"plan", "supabase_user_id", "vehicle", "description"}


@pytest.mark.parametrize(
    ("table", "message", "fix"),
    [
        ({"kind": "checkout"}, "kind must be one of payment_intent, checkout_session, not 'checkout'",
         'kind = "checkout_session"'),
        ({"kinds": "payment_intent"}, "unknown key kinds in [tool.pitstop.payments]",
         "use only kind, webhook_path, metadata"),
        ({"webhook_path": "api/stripe"}, "webhook_path must be a path starting with /", "webhook_path = "),
        ({"metadata": {"plan": "{plan.name}"}}, "names {plan.name}, which pitstop does not fill in",
         "{customer.id}"),
        ({"metadata": {"plan": "{plan!r}"}}, "names {plan}", "use only"),
        ({"metadata": {"plan": "{plan:>9}"}}, "names {plan}", "use only"),
        ({"metadata": {"plan": "{plan"}}, "is not a template", "write {{ for a brace"),
        ({"metadata": {"plan": 3}}, "plan must be a string template", 'plan = "{plan}"'),
        ({"metadata": {"k" * 41: "x"}}, "longer than Stripe's 40 characters", None),
        ({"metadata": "plan"}, "must be a table of templates", None),
        ("checkout_session", "[tool.pitstop.payments] must be a table", None),
    ],
)  # fmt: skip
def test_a_mistake_is_bad_input_naming_the_fix(table: object, message: str, fix: str | None) -> None:
    with pytest.raises(BadInput) as refused:
        load_payments(table)
    assert message in refused.value.message
    if fix is not None:
        assert refused.value.fix is not None and fix in refused.value.fix


def test_the_table_travels_in_settings_and_the_contract_leaves_it_alone() -> None:
    table = {"customer_login_path": "/login", "payments": {"kind": "checkout_session"}}
    assert load_contract(table).customer_login_path == "/login"
    settings = Settings.load(payments=load_payments(table["payments"]), env={})
    assert settings.payments.kind == "checkout_session"
    assert Settings.load(env={}).payments == PaymentConfig()
    assert EmbeddedStack(settings=settings).payment_kind == "checkout_session"  # not started
    assert EmbeddedStack(settings=settings, payment_kind="payment_intent").payment_kind == "payment_intent"
    with pytest.raises(BadInput, match="unknown payment kind 'card'"):
        EmbeddedStack(settings=settings, payment_kind="card")


def test_the_embedded_app_ui_comes_from_pitstop_app_ui_and_the_second_needs_checkout_sessions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkout = Settings.load(payments=load_payments({"kind": "checkout_session"}), env={})
    monkeypatch.delenv("PITSTOP_APP_UI", raising=False)
    assert EmbeddedStack(settings=checkout).app_ui == "classic"  # not started
    monkeypatch.setenv("PITSTOP_APP_UI", "second")
    assert EmbeddedStack(settings=checkout).app_ui == "second"
    assert EmbeddedStack(settings=checkout, app_ui="classic").app_ui == "classic"
    with pytest.raises(BadInput, match="pays by Checkout Session only") as refused:
        EmbeddedStack(settings=Settings.load(env={}))
    assert refused.value.fix == 'set [tool.pitstop.payments] kind = "checkout_session"'
    with pytest.raises(BadInput, match=r"unknown reference app UI 'modern' \(PITSTOP_APP_UI\)"):
        EmbeddedStack(settings=checkout, app_ui="modern")


def _toml(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_command_line_reads_it_and_a_mistake_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    good = _toml(tmp_path / "good.toml", '[tool.pitstop.payments]\nkind = "checkout_session"\n')
    code, out, _ = run_cli(capsys, "sql", "--config", good)
    assert code == 0 and "create schema" in out.lower()
    bad = _toml(tmp_path / "bad.toml", '[tool.pitstop.payments]\nkind = "stripe_checkout"\n')
    code, _, err = run_cli(capsys, "sql", "--config", bad)
    assert code == 2
    assert "kind must be one of payment_intent, checkout_session, not 'stripe_checkout'" in err
    assert 'fix: kind = "payment_intent"' in err


def test_serve_starts_the_stack_with_the_configured_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    no_target_environment: None,
) -> None:  # fmt: skip
    started: list[dict[str, object]] = []

    class Stack:  # stands in for EmbeddedStack: records how it was made, then "Ctrl-C"
        def __init__(self, **options: object) -> None:
            started.append(options)

        def __enter__(self) -> None:
            raise KeyboardInterrupt

        def __exit__(self, *exc_info: object) -> None:
            pass

    monkeypatch.setattr("harness.cli.serve.EmbeddedStack", Stack)
    monkeypatch.setattr("harness.cli.serve.signal.signal", lambda *args: None)
    config = _toml(tmp_path / "c.toml", '[tool.pitstop.payments]\nkind = "checkout_session"\n')
    code, _, _ = run_cli(capsys, "serve", "--config", config)
    assert code == 0 and started[0]["payment_kind"] == "checkout_session"


def test_the_plugin_reads_it_from_pitstop_config(pytester: pytest.Pytester, tmp_path: Path) -> None:
    config = _toml(
        tmp_path / "pitstop.toml",
        '[tool.pitstop.payments]\nkind = "checkout_session"\nwebhook_path = "/hooks/stripe"\n'
        '[tool.pitstop.payments.metadata]\nuser = "{customer.id}"\n',
    )
    pytester.makepyfile(
        test_read="""
        def test_read(pytestconfig):
            from harness.plugin.stash_keys import STATE
            payments = pytestconfig.stash[STATE].config.settings.payments
            assert (payments.kind, payments.webhook_path) == ("checkout_session", "/hooks/stripe")
            assert payments.templates == (("user", "{customer.id}"),)
        """
    )
    result = pytester.runpytest_subprocess("--pitstop-config", config, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    bad = _toml(tmp_path / "bad.toml", '[tool.pitstop.payments]\nkind = "card"\n')
    result = pytester.runpytest_subprocess("--pitstop-config", bad, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pitstop: [[]tool.pitstop.payments[]] kind must be one of*"])


# -- the fast path refuses what it cannot do --------------------------------------------------


def test_a_checkout_session_on_stripe_itself_is_refused_before_any_call() -> None:
    payments = Payments(secret_key="sk_test_" + "x" * 24)  # api.stripe.com: never reached here
    with pytest.raises(Unsupported) as refused:
        payments.pay_checkout_session(
            product="Quick Chat", amount=1900, currency="usd", metadata={}, customer_email="c@pitstop.test",
            client_reference_id="c", card=CARDS["visa"], name="C", return_url="http://127.0.0.1:9/",
        )  # fmt: skip
    assert "Stripe's hosted Checkout page can only be paid in a browser" in refused.value.message
    assert refused.value.fix is not None and "--pitstop-payment=ui" in refused.value.fix
    with pytest.raises(Refused):
        Payments(secret_key="sk_live_" + "x" * 24)


# -- end to end: the embedded stack with kind = "checkout_session" -----------------------------


@pytest.fixture(scope="module")
def checkout_run(postgres: LocalPostgres) -> Iterator[Run]:
    """A run on the embedded stack (started as the plugin starts it) whose app pays by Checkout."""
    name = f"checkout_{uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    payments = load_payments({"kind": "checkout_session"})
    run = Run(RunConfig(settings=Settings.load(database_url=postgres.url(name), payments=payments, env={})))
    try:
        yield run
    finally:
        run.close(delete_users=True)
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


def _stripe(target: Target) -> stripe.StripeClient:
    return stripe.StripeClient(
        STRIPE_SECRET_KEY, base_addresses={"api": target.stripe_api_base or ""}, max_network_retries=0
    )


def test_the_fast_path_pays_a_real_checkout_session_and_the_app_fulfils_it_without_waiting(
    checkout_run: Run,
) -> None:
    pitstop = Pitstop(checkout_run)
    customer = checkout_run.user("customer")
    plan = load("plans")[1]
    started = time.monotonic()
    session = pitstop.pay_by_webhook(customer, plan=plan, vehicle=VEHICLE, card=CARDS["visa"])
    took = time.monotonic() - started
    assert session["status"] == "waiting" and session["request_id"]
    checkout = _stripe(pitstop.target).v1.checkout.sessions.retrieve(session["checkout_session_id"]).to_dict()
    assert (checkout["status"], checkout["payment_status"], checkout["amount_total"]) == (
        "complete",
        "paid",
        3900,
    )
    assert checkout["payment_intent"] == session["payment_intent_id"]
    assert (
        checkout["client_reference_id"] == str(customer.id) and checkout["customer_email"] == customer.email
    )
    metadata = checkout["metadata"]
    assert (metadata["plan"], metadata["supabase_user_id"]) == ("standard-video", str(customer.id))
    assert "intake_id" not in metadata  # unknown to the test: left out
    rows = pitstop.store.user_rows([customer.id])
    assert [(str(s["id"]), s["plan"]) for s in rows["sessions"]] == [(str(session["id"]), "Standard Video")]
    # Not localstripe's 1 s webhook delay: pitstop delivers the signed event itself, at once.
    assert took < 1.0, took
    pitstop.cleanup.reset_user(customer.id)


def test_the_embedded_stripes_own_event_reaches_the_app_too(checkout_run: Run) -> None:
    # Without the app's webhook secret pitstop cannot sign an event: the embedded Stripe's own
    # checkout.session.completed (the stack registered the app for it) must make the session.
    target = checkout_run.target()
    unsigned = Run(checkout_run.config, target=dataclasses.replace(target, stripe_webhook_secret=None))
    try:
        pitstop, customer = Pitstop(unsigned), unsigned.user("customer")
        session = pitstop.pay_by_webhook(customer, plan=load("plans")[0], vehicle=VEHICLE, card=CARDS["visa"])
        assert session["status"] == "waiting"
        pitstop.cleanup.reset_user(customer.id)
    finally:
        unsigned.close(delete_users=True)


def test_the_apps_metadata_comes_from_the_templates_and_a_declined_card_is_stripes_message(
    checkout_run: Run,
) -> None:
    named = load_payments(
        {"kind": "checkout_session", "metadata": {"plan": "{plan}", "supabase_user_id": "{customer.id}"}}
    )
    config = dataclasses.replace(checkout_run.config, settings=dataclasses.replace(
        checkout_run.config.settings, payments=named))  # fmt: skip
    run = Run(config, target=checkout_run.target())
    try:
        pitstop, customer = Pitstop(run), run.user("customer")
        with pytest.raises(
            PitstopError, match=re.escape("refused the payment (402): Your card was declined.")
        ):
            pitstop.pay_by_webhook(customer, plan=load("plans")[2], vehicle=VEHICLE, card=CARDS["declined"])
        assert pitstop.store.user_rows([customer.id])["sessions"] == []
        # The plan by its name ("Full Diagnostic"), as the template says: the app finds it.
        session = pitstop.pay_by_webhook(customer, plan=load("plans")[2], vehicle=VEHICLE, card=CARDS["visa"])
        checkout = _stripe(pitstop.target).v1.checkout.sessions.retrieve(session["checkout_session_id"])
        assert checkout.to_dict()["metadata"] == {
            "plan": "Full Diagnostic",
            "supabase_user_id": str(customer.id),
        }
        assert pitstop.store.user_rows([customer.id])["sessions"][0]["plan"] == "Full Diagnostic"
        pitstop.cleanup.reset_user(customer.id)
    finally:
        run.close(delete_users=True)
