"""The session chat: who may join, validation, escaping, files, ending, and two app processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from harness.store.postgres import PostgresStore
from tests.reference_app.chat_client import ChatClient
from tests.reference_app.conftest import AppUser, Login, Stack, Users, rows
from tests.reference_app.servers import AppServer
from tests.seeding import Seeder

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def second_app(stack: Stack, server_logs: Path) -> Iterator[AppServer]:
    """Another process of the same app on the same database (same secrets)."""
    server = AppServer("app-2", stack.env, server_logs)
    yield server
    server.stop()


@dataclass
class Live:
    session: UUID
    customer: AppUser
    mechanic: AppUser
    customer_http: httpx.Client
    mechanic_http: httpx.Client

    @property
    def customer_cookie(self) -> str:
        return str(self.customer_http.cookies["pitstop_session"])

    @property
    def mechanic_cookie(self) -> str:
        return str(self.mechanic_http.cookies["pitstop_session"])


@pytest.fixture
def live(users: Users, store: PostgresStore, login: Login) -> Live:
    customer = users("customer", name="Carla Customer")
    mechanic = users("mechanic", name="Mo Mechanic")
    seed = Seeder(store.connection)
    seeded = seed.session(customer.id, status="live", mechanic=mechanic.id, request="accepted")
    seed.participant(seeded.session, customer.id, "customer")
    seed.participant(seeded.session, mechanic.id, "mechanic")
    return Live(seeded.session, customer, mechanic, login(customer), login(mechanic))


def close_code(base_url: str, session: object, cookie: str | None) -> int | None:
    client = ChatClient(base_url, session, cookie)
    with pytest.raises(ConnectionClosed) as closed:
        client.next()
    client.close()
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_the_chat_page_is_for_participants_only(stack: Stack, live: Live, login: Login, users: Users) -> None:
    page = live.customer_http.get(f"/session/{live.session}")
    assert page.status_code == 200
    markers = [
        'data-testid="chat"',
        'data-ready="false"',
        f'data-session-id="{live.session}"',
        'data-status="live"',
    ]
    markers += [
        f'data-testid="{t}"' for t in ("chat-input", "chat-send", "file-input", "file-send", "chat-messages")
    ]
    for marker in markers:
        assert marker in page.text
    assert 'data-testid="end-session"' not in page.text
    assert 'data-testid="end-session"' in live.mechanic_http.get(f"/session/{live.session}").text

    outsider = login(users("customer"))
    assert outsider.get(f"/session/{live.session}").status_code == 403
    assert outsider.get(f"/session/{uuid4()}").status_code == 404
    assert httpx.get(f"{stack.url}/session/{live.session}").status_code == 303


def test_only_participants_may_join_the_socket(stack: Stack, live: Live, login: Login, users: Users) -> None:
    outsider = login(users("mechanic"))
    assert close_code(stack.url, live.session, str(outsider.cookies["pitstop_session"])) == 4403
    assert close_code(stack.url, live.session, None) == 4401
    assert close_code(stack.url, live.session, "forged") == 4401
    assert close_code(stack.url, uuid4(), live.customer_cookie) == 4404
    assert close_code(stack.url, "not-a-uuid", live.customer_cookie) == 4404


def test_history_comes_first_then_ready_then_live_messages_to_both(
    stack: Stack, live: Live, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    first = seed.message(live.session, live.customer.id, "first")
    second = seed.message(live.session, live.mechanic.id, "second")
    with (
        ChatClient(stack.url, live.session, live.customer_cookie) as customer,
        ChatClient(stack.url, live.session, live.mechanic_cookie) as mechanic,
    ):
        history = customer.ready()
        assert [(i["id"], i["body"], i["sender_name"]) for i in history] == [
            (str(first), "first", "Carla Customer"),
            (str(second), "second", "Mo Mechanic"),
        ]
        mechanic.ready()
        customer.send("  Hello from the customer  ")
        own = customer.first_of_each("sent", "message")
        sent = own["sent"]
        got = mechanic.wait_for("message")["message"]
        assert got["id"] == sent["id"] and got["body"] == "Hello from the customer"
        assert got["sender_name"] == "Carla Customer" and got["sender_id"] == str(live.customer.id)
        assert "T" in got["created_at"] and got["created_at"].endswith("+00:00")
        assert own["message"]["message"]["id"] == sent["id"]
    ordered = rows(store, "select body from public.chat_messages order by created_at, id")
    assert ordered[-1] == ("Hello from the customer",)


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "empty"), ("   \n ", "empty"), (None, "empty"), (42, "empty"), ("x" * 2001, "too long")],
)
def test_empty_and_over_long_messages_are_rejected(
    stack: Stack, live: Live, store: PostgresStore, body: object, error: str
) -> None:
    with ChatClient(stack.url, live.session, live.customer_cookie) as chat:
        chat.ready()
        chat.send(body)
        assert error in chat.wait_for("error")["message"]
        chat.send("x" * 2000)
        chat.wait_for("sent")
    assert rows(store, "select length(body) from public.chat_messages") == [(2000,)]


def test_message_text_is_stored_as_is_and_escaped_in_the_page(stack: Stack, live: Live) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with ChatClient(stack.url, live.session, live.customer_cookie) as chat:
        chat.ready()
        chat.send(attack)
        assert chat.wait_for("message")["message"]["body"] == attack
    html = live.mechanic_http.get(f"/session/{live.session}").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'data-testid="chat-message"' in html and 'data-testid="message-time" datetime="' in html


def test_two_app_processes_deliver_each_others_messages_and_the_end(
    stack: Stack, second_app: AppServer, live: Live, store: PostgresStore
) -> None:
    with (
        ChatClient(stack.url, live.session, live.customer_cookie) as customer,
        ChatClient(second_app.url, live.session, live.mechanic_cookie) as mechanic,
    ):
        customer.ready()
        mechanic.ready()
        customer.send("from process one")
        assert mechanic.message("from process one")["sender_name"] == "Carla Customer"
        mechanic.send("from process two")
        assert customer.message("from process two")["sender_name"] == "Mo Mechanic"

        with httpx.Client(base_url=second_app.url, cookies={"pitstop_session": live.mechanic_cookie}) as m2:
            ended = m2.post(f"/session/{live.session}/end")
        assert ended.status_code == 200 and ended.json()["status"] == "completed"
        assert customer.wait_for("session_ended")["session_id"] == str(live.session)
        assert mechanic.wait_for("session_ended")
        customer.send("too late")
        assert "not live" in customer.wait_for("error")["message"]

    status, ended_at = rows(
        store, "select status, ended_at from public.sessions where id = %s", (live.session,)
    )[0]
    assert status == "completed" and ended_at is not None
    dashboard = live.customer_http.get("/api/customer/sessions").json()
    assert dashboard["next"] is None
    assert [(h["id"], h["status"]) for h in dashboard["history"]] == [(str(live.session), "completed")]
    page = live.customer_http.get(f"/session/{live.session}").text
    assert 'data-status="completed"' in page and 'id="session-ended" hidden' not in page


def test_only_the_sessions_mechanic_ends_it_and_only_once(live: Live, login: Login, users: Users) -> None:
    assert live.customer_http.post(f"/session/{live.session}/end").status_code == 403
    other = login(users("mechanic"))
    assert other.post(f"/session/{live.session}/end").status_code == 403
    assert live.mechanic_http.post(f"/session/{live.session}/end").status_code == 200
    again = live.mechanic_http.post(f"/session/{live.session}/end")
    assert again.status_code == 409 and "completed" in again.json()["error"]


def test_a_photo_is_checked_stored_and_shown_to_the_other_side(
    stack: Stack, live: Live, store: PostgresStore, login: Login, users: Users
) -> None:
    url = f"/session/{live.session}/files"
    with ChatClient(stack.url, live.session, live.mechanic_cookie) as mechanic:
        mechanic.ready()
        response = live.customer_http.post(url, files={"file": ("../../brake pad.png", PNG, "image/png")})
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["file_name"] == "brake pad.png" and item["sender_name"] == "Carla Customer"
        assert mechanic.wait_for("file")["file"]["id"] == item["id"]
    download = live.mechanic_http.get(item["url"])
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    stored = rows(store, "select storage_path from public.session_files")[0][0]
    assert (Path(stack.env["DATA_DIR"]) / stored).read_bytes() == PNG
    assert login(users("customer")).get(item["url"]).status_code == 403
    assert 'data-testid="chat-file"' in live.customer_http.get(f"/session/{live.session}").text

    too_big = PNG + b"\x00" * (5 * 1024 * 1024)
    assert live.customer_http.post(url, files={"file": ("big.png", too_big, "image/png")}).status_code == 413
    fake = live.customer_http.post(
        url, files={"file": ("photo.png", b"<html>not an image</html>", "image/png")}
    )
    assert fake.status_code == 415
    assert live.customer_http.post(url, files={"file": ("empty.png", b"", "image/png")}).status_code == 400
    outsider = login(users("customer"))
    assert outsider.post(url, files={"file": ("p.png", PNG, "image/png")}).status_code == 403
    assert rows(store, "select count(*) from public.session_files") == [(1,)]
