"""The scenarios act in the app only through ``Flows``: its fixtures are the override points,
``pitstop run`` applies the folder's conftest.py, and ``pay`` handles a hosted Checkout page.

Against a real app (one embedded stack for this module) and Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from playwright.sync_api import Browser, Page, Playwright, expect

from harness import cli
from harness.cli import scenarios as cli_scenarios
from harness.config.contract import AppContract
from harness.engine.data import load
from harness.flows.pages import EmbeddedCheckoutPage, payment_form
from harness.flows.probe import delivery_ms
from harness.flows.steps import Flows
from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack, StackInfo
from tests.browser_pages import fresh_page  # noqa: F401 (the fixture ``page``)

WAIT_S = 60
EXAMPLES = Path(__file__).parent / "examples"


@pytest.fixture(scope="module")
def stack() -> Iterator[StackInfo]:
    with EmbeddedStack() as info:
        yield info


@pytest.fixture(scope="module")
def bare_stack() -> Iterator[StackInfo]:
    """The reference app's classic pages without a single test id (``APP_UI=bare``)."""
    with EmbeddedStack(app_ui="bare") as info:
        yield info


def target(stack: StackInfo, report: Path) -> list[str]:
    return [
        "--base-url", stack.app_url,
        "--pitstop-database-url", stack.database_url,
        f"--pitstop-health={report}",
        "-p", "no:cacheprovider",
    ]  # fmt: skip


# -- the fixtures are the override points --------------------------------------------------------------


def test_the_scenarios_take_every_step_from_the_flows_class_a_conftest_gives(
    pytester: pytest.Pytester, stack: StackInfo
) -> None:
    shutil.copy(EXAMPLES / "flows_conftest.py", pytester.path / "conftest.py")
    shutil.copy(EXAMPLES / "test_flows_override.py", pytester.path / "test_flows_override.py")
    result = pytester.runpytest_subprocess(*target(stack, pytester.path / "r.json"), timeout=WAIT_S * 3)
    result.assert_outcomes(passed=1)
    steps = [(name, depth) for name, depth in json.loads((pytester.path / "steps.json").read_text())]
    asked = [name for name, depth in steps if depth == 0]
    # The page fixtures signed both users in through the subclass, before the scenario began.
    assert asked[:2] == ["sign_in", "sign_in"]
    assert set(asked[2:]) == {
        "paid_session", "open_dashboard", "expect_next_session", "open_requests", "expect_request",
        "accept", "join", "open_chat", "say", "expect_message", "messages", "end", "expect_ended",
        "expect_history", "expect_nothing_upcoming",
    }  # fmt: skip
    assert asked.count("say") == 2 and asked.count("expect_ended") == 2
    # A step's own steps are the subclass's too: override one, and every step built on it follows.
    assert {
        ("pay", 1),
        ("choose_plan", 2),
        ("describe", 2),
        ("pay_with_card", 2),
        ("expect_waiting", 1),
    } <= set(steps)
    assert ("send", 1) in steps and ("chat_probe", 1) in steps


# -- pitstop run ---------------------------------------------------------------------------------------


def test_pitstop_run_applies_the_conftest_of_the_folder_it_starts_from(
    stack: StackInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(EXAMPLES / "flows_conftest.py", tmp_path / "conftest.py")
    monkeypatch.chdir(tmp_path)
    code = cli.main(
        [
            "run",
            "--base-url",
            stack.app_url,
            "--database-url",
            stack.database_url,
            "-k",
            "lists_neither",
            "-q",
        ]
    )
    out = capfd.readouterr().out
    assert code == 0, out[-3000:]
    assert "1 passed, 7 deselected" in out
    steps = json.loads((tmp_path / "steps.json").read_text())
    assert [name for name, depth in steps if depth == 0] == [
        "sign_in", "open_requests", "expect_request", "expect_no_request", "expect_no_request",
    ]  # fmt: skip
    assert (tmp_path / "pitstop-health.json").is_file()


def _run_args(monkeypatch: pytest.MonkeyPatch, argv: list[str], timeout: float = 1800) -> list[str]:
    """The pytest arguments ``pitstop ARGV`` would run the scenarios with (and for how long)."""
    seen: list[tuple[list[str], float]] = []
    monkeypatch.setattr(
        cli_scenarios, "_pytest_scenarios", lambda args, timeout: seen.append((args, timeout)) or 0
    )
    assert cli.main(argv) == 0
    assert seen[0][1] == timeout
    return seen[0][0]


def test_pitstop_run_hands_pytest_what_it_does_not_know_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    args = _run_args(monkeypatch, ["run", "-k", "full_flow", "--headed"])
    assert args[-3:] == ["-k", "full_flow", "--headed"]
    assert args[args.index("--rootdir") + 1] == str(tmp_path)
    assert "--pitstop-conftest" not in args  # no conftest.py here
    # A failed test's Playwright traces are kept (under pytest-playwright's --output),
    # unless pytest is given --tracing, on the command line or in PYTEST_ADDOPTS.
    assert args.count("--tracing=retain-on-failure") == 1
    for tracing in (["--tracing", "on"], ["--tracing=off"]):
        args = _run_args(monkeypatch, ["run", *tracing])
        assert args[-len(tracing) :] == tracing and "--tracing=retain-on-failure" not in args
    monkeypatch.setenv("PYTEST_ADDOPTS", "-q --tracing=off")
    assert "--tracing=retain-on-failure" not in _run_args(monkeypatch, ["run"])
    monkeypatch.delenv("PYTEST_ADDOPTS")
    assert "--tracing=retain-on-failure" in _run_args(monkeypatch, ["demo"], timeout=900)

    (tmp_path / "conftest.py").write_text("")
    args = _run_args(
        monkeypatch,
        ["run", "--base-url", "http://127.0.0.1:3000", "--co", "-x", "--", "-n", "2", "--config", "x"],
    )
    assert args[args.index("--pitstop-conftest") + 1] == str(tmp_path / "conftest.py")
    assert args[args.index("--base-url") + 1] == "http://127.0.0.1:3000"
    # --co is pytest's (not an abbreviation of --config); after --, everything is pytest's.
    assert args[-6:] == ["--co", "-x", "-n", "2", "--config", "x"]
    assert "--pitstop-config" not in args

    # pitstop's own --timeout (seconds, 0: none) is not pytest's; after --, it is.
    args = _run_args(monkeypatch, ["run", "--timeout", "0", "-k", "x", "--", "--timeout", "5"], timeout=0)
    assert args[-4:] == ["-k", "x", "--timeout", "5"]
    assert _run_args(monkeypatch, ["demo", "--timeout", "2.5"], timeout=2.5)
    assert cli.main(["run", "--timeout", "-1"]) == 2

    # The other commands still refuse what they do not know.
    assert cli.main(["health", "-k", "x"]) == 2
    assert "unrecognized arguments: -k x" in capsys.readouterr().err


# -- the hosted Checkout page --------------------------------------------------------------------------


def _checkout_session(stack: StackInfo, **changes: Any) -> Any:
    client = stripe.StripeClient(
        STRIPE_SECRET_KEY,
        base_addresses={"api": stack.stripe_api_base},
        http_client=stripe.new_default_http_client(timeout=10),
        max_network_retries=0,
    )
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "usd", "unit_amount": 1900, "product_data": {"name": "Quick Chat"}},
             "quantity": 1}
        ],
        "success_url": f"{stack.app_url}/healthz?session_id={{CHECKOUT_SESSION_ID}}",
        **changes,
    }  # fmt: skip
    return client.v1.checkout.sessions.create(params=params)


@pytest.mark.parametrize("customer_email", ["", "dana@pitstop.test"], ids=["email-typed", "email-given"])
def test_pay_tells_the_embedded_hosted_page_apart_and_pays_on_it(
    stack: StackInfo, page: Page, customer_email: str
) -> None:
    session = _checkout_session(stack, **({"customer_email": customer_email} if customer_email else {}))
    page.goto(session.url)
    form = payment_form(page)
    assert isinstance(form, EmbeddedCheckoutPage)

    # A declined card: Stripe's message on the same page, which then takes a card that pays.
    declined = load("cards")["declined"]
    form.pay_with_card(declined, email="dana@pitstop.test", name="Dana Driver")
    payment_form(page).expect_declined(declined["message"])
    payment_form(page).pay_with_card(load("cards")["visa"], email="dana@pitstop.test", name="Dana Driver")
    page.wait_for_url(f"{stack.app_url}/healthz?session_id={session.id}")


# Stripe's hosted page as far as pitstop reads it: Stripe's own test id on Pay (never the app's attribute).
STRIPE_LIKE = (
    '<!doctype html><form><input name="cardNumber">'
    '<button data-testid="hosted-payment-submit-button">Pay</button></form>'
)
# The app's card form under its own test-id attribute, with a hosted page's test id in it as a decoy.
APP_CARD_FORM = (
    '<!doctype html><div data-qa="card-element"><input placeholder="number"></div>'
    '<button data-testid="hosted-payment-submit-button">Pay</button>'
)


@pytest.mark.parametrize(
    ("url", "body", "kind"),
    [
        ("https://checkout.stripe.com/c/pay/cs_test_a1", STRIPE_LIKE, "StripeCheckoutPage"),
        ("https://pay.garage.example/c/pay/cs_live_b2", STRIPE_LIKE, "StripeCheckoutPage"),  # custom domain
        ("https://garage.example/checkout", APP_CARD_FORM, "CheckoutPage"),
    ],
    ids=["stripe", "custom-domain", "app-card-form"],
)
def test_the_payment_page_is_told_apart_by_its_url(
    playwright: Playwright, browser: Browser, url: str, body: str, kind: str
) -> None:
    playwright.selectors.set_test_id_attribute("data-qa")  # the app's attribute, as [tool.pitstop] sets it
    context = browser.new_context()
    try:
        context.route("**/*", lambda route: route.fulfill(content_type="text/html", body=body))
        page = context.new_page()
        page.goto(url)
        assert type(payment_form(page)).__name__ == kind
    finally:
        context.close()
        playwright.selectors.set_test_id_attribute("data-testid")


@pytest.mark.usefixtures("no_target_environment")
def test_pitstop_demo_applies_the_conftest_of_the_folder_it_runs_from(tmp_path: Path) -> None:
    """As ``pitstop run`` does: the folder is the scenarios' rootdir and its conftest.py applies.
    This one keeps no test (so no stack starts) and says where it ran."""
    (tmp_path / "conftest.py").write_text(
        "def pytest_collection_modifyitems(config, items):\n"
        "    (config.rootpath / 'applied.txt').write_text(f'{len(items)} scenarios')\n"
        "    items[:] = []\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "harness", "demo", "--timeout", "120"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert (tmp_path / "applied.txt").read_text() == "8 scenarios", (
        result.stdout[-2000:] + result.stderr[-2000:]
    )


# -- a check that something is absent looks where it must be present -----------------------------


def _signed_in_without_test_ids(browser: Browser, stack: StackInfo, user: Any) -> Page:
    """A page signed in as ``user`` (a Supabase session) on ``stack``, whose pages carry no test ids."""
    from harness.engine import signin
    from harness.store.postgres import PostgresStore

    with PostgresStore(database_url=stack.database_url) as store:

        def write(session_id: Any, token: str) -> Any:
            return store.open_auth_session(
                user.id, session_id=session_id, refresh_token=token, user_agent="t"
            )

        session = signin.offline_session(write, secret=stack.jwt_secret, issuer=stack.supabase_url)
    state = signin.storage_state(session, supabase_url=stack.supabase_url, app_url=stack.app_url)
    context = browser.new_context(base_url=stack.app_url, storage_state=state)  # type: ignore[arg-type]
    return context.new_page()


@pytest.mark.parametrize("check", ["no request listed", "chat refused"])
def test_a_check_that_something_is_absent_fails_on_a_page_without_its_test_ids(
    browser: Browser, bare_stack: StackInfo, check: str
) -> None:
    """Without the test ids, 'the request is not listed' and 'no chat is shown' would hold of any page:
    each first finds what it looks in, and fails naming the step to override."""
    from harness.engine.personas import Personas
    from harness.flows.pages import ChatPage, MechanicDashboard
    from harness.store.postgres import PostgresStore
    from tests.seeding import Seeder

    with PostgresStore(database_url=bare_stack.database_url) as store:
        personas = Personas(run_id=f"absent{len(check)}", worker_id="t")
        mechanic = personas.create(store, "mechanic", "mechanic")
        customer = personas.create(store, "customer", "customer")
        other = Seeder(store.connection).session(Seeder(store.connection).user(), status="waiting")
    page = _signed_in_without_test_ids(
        browser, bare_stack, mechanic if check == "no request listed" else customer
    )
    try:
        if check == "no request listed":
            dashboard = MechanicDashboard(page).open()
            with pytest.raises(AssertionError, match=r"override Flows\.expect_no_request"):
                dashboard.expect_no_request(str(other.request))
        else:
            chat = ChatPage(page)
            with pytest.raises(AssertionError, match=r"override Flows\.expect_chat_refused"):
                chat.expect_refused(chat.visit(str(other.session)))
    finally:
        page.context.close()


# -- the chat-latency probe -------------------------------------------------------------------------

# Two pages of one origin that chat over a BroadcastChannel, with no test ids and no send button:
# Enter in the box sends. Also a page with the same chat under the app's test ids (data-qa) and a button.


def _chat(body: str, channel: str, sends: str) -> str:
    """A chat page: ``body``, and a script that shows what it or the other page sends (``post(text)``)."""
    return f"""<!doctype html><title>chat</title>
{body}
<script>
const channel = new BroadcastChannel('{channel}');
const show = text => {{
  const item = document.createElement('li');
  item.textContent = text;
  document.querySelector('ul, ol').append(item);
}};
const post = text => {{ channel.postMessage(text); show(text); }};
channel.onmessage = e => show(e.data);
{sends}
</script>"""


ENTER_CHAT = _chat(
    '<label>Message <input id="box"></label><ul aria-label="Messages"></ul>',
    "chat",
    """document.getElementById('box').addEventListener('keydown', e => {
  if (e.key === 'Enter') { post(e.target.value); e.target.value = ''; }
});""",
)
BUTTON_CHAT = _chat(
    '<textarea data-qa="chat-input"></textarea><button data-qa="chat-send">Send</button>\n'
    '<ol data-qa="chat-messages"></ol>',
    "button-chat",
    """document.querySelector('button').addEventListener('click', () => {
  const box = document.querySelector('textarea');
  post(box.value); box.value = '';
});""",
)


@pytest.fixture
def two_chat_pages(browser: Browser) -> Iterator[tuple[Page, Page, Any]]:
    """Two pages of one chat at http://chat.test/ (Enter) or /button (its test ids), and a page maker."""
    context = browser.new_context()
    bodies = {"http://chat.test/": ENTER_CHAT, "http://chat.test/button": BUTTON_CHAT}
    context.route(
        "http://chat.test/**",
        lambda route: route.fulfill(content_type="text/html", body=bodies[route.request.url]),
    )
    try:
        yield context.new_page(), context.new_page(), context.new_page
    finally:
        context.close()


def test_the_chat_probe_takes_locators_and_measures_a_send_on_enter(two_chat_pages: Any) -> None:
    from harness import ChatProbe, delivery_ms

    sender, receiver, new_page = two_chat_pages
    for page in (sender, receiver):
        page.goto("http://chat.test/")
    # No test ids, no send button: the list by its role and name, the box by its label; Enter sends.
    probe = ChatProbe(
        messages=lambda page: page.get_by_role("list", name="Messages"),
        input=lambda page: page.get_by_label("Message", exact=True),
    )

    def send(text: str) -> None:
        sender.get_by_label("Message", exact=True).fill(text)
        sender.get_by_label("Message", exact=True).press("Enter")

    latency = delivery_ms(sender, receiver, "over Enter", lambda: send("over Enter"), probe)
    assert 0 <= latency < 5_000
    with pytest.raises(AssertionError, match="already shows 'over Enter'"):
        delivery_ms(sender, receiver, "over Enter", lambda: send("over Enter"), probe)
    # Sent by the page's own script: neither a click on a send control nor Enter in the box.
    with pytest.raises(AssertionError, match="saw no send: Enter was not pressed in"):
        delivery_ms(
            sender, receiver, "scripted", lambda: sender.evaluate("channel.postMessage('scripted')"), probe
        )
    elsewhere = new_page()
    elsewhere.goto("http://chat.test/")
    elsewhere.context.set_default_timeout(1_000)
    nowhere = ChatProbe(messages="ol.none")
    with pytest.raises(AssertionError, match=r"no message list \('ol.none'\) on the receiver's page"):
        delivery_ms(sender, elsewhere, "x", lambda: None, nowhere)


def test_the_chat_probe_waits_for_an_element_not_there_yet_and_refuses_two(two_chat_pages: Any) -> None:
    from harness import ChatProbe, delivery_ms

    sender, receiver, _ = two_chat_pages
    for page in (sender, receiver):
        page.goto("http://chat.test/")
    box = "#box"

    def send(text: str) -> None:
        sender.locator(box).fill(text)
        sender.locator(box).press("Enter")

    # The receiver's list is back 300 ms after the probe first looks: it waits for it, as an action would.
    receiver.evaluate("const list = document.querySelector('ul'); list.remove(); "
                      "setTimeout(() => document.body.append(list), 300)")  # fmt: skip
    latency = delivery_ms(
        sender, receiver, "late list", lambda: send("late list"), ChatProbe(messages="ul", input=box)
    )
    assert 0 <= latency < 5_000
    with pytest.raises(
        AssertionError, match=r"more than one message box \('#box, ul'\) on the sender's page"
    ):
        delivery_ms(sender, receiver, "two", lambda: send("two"), ChatProbe(messages="ul", input="#box, ul"))
    with pytest.raises(
        AssertionError, match="the receiver's page navigated, reloaded or closed before 'gone'"
    ):
        delivery_ms(sender, receiver, "gone", receiver.reload, ChatProbe(messages="ul", input=box))


def test_the_default_chat_probe_reads_the_configured_test_id_attribute(
    playwright: Playwright, two_chat_pages: Any
) -> None:
    playwright.selectors.set_test_id_attribute("data-qa")  # as the plugin sets it from [tool.pitstop]
    try:
        sender, receiver, _ = two_chat_pages
        for page in (sender, receiver):
            page.goto("http://chat.test/button")
        flows = Flows(
            pitstop=None, pages=lambda user: None, contract=AppContract(test_id_attribute="data-qa")
        )  # type: ignore[arg-type]

        def send(text: str) -> None:
            sender.get_by_test_id("chat-input").fill(text)
            sender.get_by_test_id("chat-send").click()

        assert (
            0 <= delivery_ms(sender, receiver, "clicked", lambda: send("clicked"), flows.chat_probe()) < 5_000
        )
    finally:
        playwright.selectors.set_test_id_attribute("data-testid")


# -- readiness: a state the page shows, or an event it saw ------------------------------------------


def test_readiness_waits_on_a_frame_a_response_a_url_a_locator_or_the_teams_function(
    browser: Browser, bare_stack: StackInfo
) -> None:
    """On the reference app's chat with every test id stripped: each kind of wait, and what each says
    when what it waits for never comes. An event counts from the page's last navigation, also when it
    came before the wait (during an earlier step)."""
    from harness import Ready
    from harness.engine.personas import Personas
    from harness.store.postgres import PostgresStore
    from tests.seeding import Seeder

    with PostgresStore(database_url=bare_stack.database_url) as store:
        personas = Personas(run_id="ready", worker_id="t")
        customer = personas.create(store, "customer", "customer")
        mechanic = personas.create(store, "mechanic", "mechanic")
        seeded = Seeder(store.connection).full_session(customer.id, mechanic.id, status="live")
    page = _signed_in_without_test_ids(browser, bare_stack, customer)
    page.set_default_timeout(2_000)
    chat = f"/session/{seeded.session}"

    def subscribed(payload: str | bytes) -> bool:
        return json.loads(payload).get("type") == "ready"

    try:
        frame = Ready.frame(subscribed, timeout_ms=1_500)
        response = Ready.response(lambda r: r.url.endswith(chat) and r.status == 200, timeout_ms=1_500)
        for wait in (frame, response):
            wait.arm(page)
        page.goto(chat)
        page.get_by_role("button", name="Send").wait_for()  # the frame may well have come by now
        frame.wait(page)
        response.wait(page)
        Ready.url(re.compile(re.escape(chat) + "$")).wait(page)
        Ready.shown(lambda p: p.get_by_role("button", name="Send")).wait(page)
        Ready.attribute("#chat", "data-status", "live").wait(page)
        given: list[Page] = []
        Ready.when(given.append).wait(page)
        assert given == [page]

        # A predicate that raises is no match, not an error in every event.
        with pytest.raises(AssertionError, match="no WebSocket frame matching"):
            broken = Ready.frame(lambda payload: 1 / 0 == 0, timeout_ms=500)
            broken.arm(page)
            page.reload()
            broken.wait(page)

        page.goto("/healthz")  # no chat, no socket: what came before this navigation no longer counts
        with pytest.raises(AssertionError, match=r"no WebSocket frame matching .*subscribed within 1500 ms"):
            frame.wait(page)
        with pytest.raises(AssertionError, match="no HTTP response matching"):
            response.wait(page)
        with pytest.raises(AssertionError, match=r"the page stayed at .*/healthz"):
            Ready.url(re.compile(re.escape(chat) + "$")).wait(page)
        with pytest.raises(AssertionError, match="not ready: 'role=button' is not shown"):
            Ready.shown("role=button").wait(page)
    finally:
        page.context.close()


def test_the_bare_ui_renders_no_test_id_anywhere(browser: Browser, bare_stack: StackInfo) -> None:
    """Every page the scenarios visit, and the rows its scripts add from their templates."""
    from harness.engine.personas import Personas
    from harness.store.postgres import PostgresStore
    from tests.seeding import Seeder

    with PostgresStore(database_url=bare_stack.database_url) as store:
        personas = Personas(run_id="bare", worker_id="t")
        customer = personas.create(store, "customer", "customer")
        mechanic = personas.create(store, "mechanic", "mechanic")
        seeded = Seeder(store.connection).full_session(customer.id, mechanic.id, status="live")
    # Each page, the heading that shows it is that page (not a login or error page), and whether it
    # has templates its scripts fill in.
    pages = {
        customer: [
            ("/customer/dashboard", "Welcome", True),
            ("/onboarding/pricing", "Pick a plan", False),
            ("/onboarding/intake?plan=quick-chat", "Your vehicle", False),
        ],
        mechanic: [
            ("/mechanic/dashboard", "Incoming requests", True),
            (f"/session/{seeded.session}", "with", True),
        ],
    }
    for user, paths in pages.items():
        page = _signed_in_without_test_ids(browser, bare_stack, user)
        try:
            for path, heading, scripted in paths:
                response = page.goto(path)
                assert response is not None and response.ok and "/login" not in page.url, path
                expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
                assert "data-testid" not in page.content(), path
                templates = page.eval_on_selector_all("template", "ts => ts.map(t => t.innerHTML).join('')")
                assert (templates != "") == scripted and "data-testid" not in templates, path
        finally:
            page.context.close()


# -- guesses never compete with test ids, nor pick a namesake --------------------------------------

CLASSIC_ROWS = """<table data-testid="request-list"><tbody>
<tr data-testid="request-other"><td data-testid="request-customer">{name}</td>
<td data-testid="request-plan">Quick Chat</td><td><button data-testid="accept-other">Accept</button></td></tr>
</tbody></table>"""
BARE_ROWS = """<ul>
<li><article><span>{name}</span> <span>Quick Chat</span> <button>Accept</button></article></li>
<li><article><span>Dana Lee 00aa11</span> <span>Quick Chat</span> <button>Accept</button></article></li>
</ul>"""


def test_a_request_row_is_found_by_its_test_id_or_by_exactly_its_customer_and_plan(page: Page) -> None:
    from harness.flows.pages import MechanicDashboard

    page.context.set_default_timeout(1_000)
    # Test ids on the page: another request of a customer with the same name is never taken for ours.
    page.set_content(CLASSIC_ROWS.format(name="Ana Lee 3f9a2c"))
    dashboard = MechanicDashboard(page)
    with pytest.raises(AssertionError):
        dashboard.expect_request("ours", customer="Ana Lee 3f9a2c", plan="Quick Chat")
    assert dashboard.accept_button("ours", customer="Ana Lee 3f9a2c", plan="Quick Chat").count() == 0
    # No test ids: the innermost item showing exactly the name ("Ana Lee" is no "Dana Lee") and the plan.
    page.set_content(BARE_ROWS.format(name="Ana Lee 3f9a2c"))
    dashboard.expect_request("ours", customer="Ana Lee 3f9a2c", plan="Quick Chat")
    dashboard.accept_button("ours", customer="Ana Lee 3f9a2c", plan="Quick Chat").click()  # one element
    with pytest.raises(AssertionError):
        dashboard.expect_request("ours", customer="Ana Lee", plan="Quick Chat")


def test_chat_ready_is_one_wait_per_flows_and_an_override_s_answer_wins() -> None:
    from harness import Ready

    flows = Flows(pitstop=None, pages=lambda user: None, contract=AppContract())  # type: ignore[arg-type]
    assert flows.chat_ready() is flows.chat_ready()
    theirs = Ready.frame(lambda frame: True)

    class Theirs(Flows):
        def chat_ready(self) -> Any:
            super().chat_ready()
            return theirs

    override = Theirs(pitstop=None, pages=lambda user: None, contract=AppContract())  # type: ignore[arg-type]
    assert override.chat_ready() is theirs and override.chat_ready() is theirs
