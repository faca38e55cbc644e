"""Recorded Supabase exchanges (tests/recorded/*.json) and the player that serves them through respx.

Each file is one conversation: the requests the supabase store must send, in
order (method, path, query, body, and the two key headers on every call), and
the answers to give back. The player fails a test on the first request that
differs from the recording, and on a recording not played to its end.

The PostgREST answers were taken from the real ``public.pitstop_*`` wrappers
on the world below (``test_recorded_rpc_answers_are_what_the_wrappers_answer``
replays them against the SQL to keep them honest); their HTTP envelope and the
GoTrue answers follow PostgREST's and GoTrue's documented formats.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import respx
from psycopg.types.json import Jsonb

from harness import __version__
from harness.rules.model import Model
from harness.rules.sql import rules_hash

HERE = Path(__file__).parent / "recorded"
REF = "qwertyuiopasdfghjklz"
URL = f"https://{REF}.supabase.co"


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned-looking JWT with these claims (pitstop reads claims; it never verifies)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


SERVICE_KEY = jwt(
    {"iss": "supabase", "ref": REF, "role": "service_role", "iat": 1735689600, "exp": 2051222400}
)
ANON_KEY = jwt({"iss": "supabase", "ref": REF, "role": "anon", "iat": 1735689600, "exp": 2051222400})
OTHER_PROJECT_KEY = jwt({"iss": "supabase", "ref": "zzzzzzzzzzzzzzzzzzzz", "role": "service_role"})
LOCAL_KEY = jwt({"iss": "supabase-demo", "role": "service_role", "exp": 1983812996})  # `supabase start`

# The world the recordings were made on.
CUSTOMER = UUID("6c1b0c38-7b53-4bde-9c4b-6f0b1ac0a9a1")
MECHANIC = UUID("0f4d2a57-88e4-4c3f-a1d2-2b7f6c9e5d10")
REAL_USER = UUID("9a3e1f00-5b6c-4d7e-8f90-a1b2c3d4e5f6")
WAITING = UUID("5e8a7b6c-1d2e-4f30-9a4b-c5d6e7f80912")  # the customer's, 30 minutes old, pending request
LIVE = UUID("7b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9")  # customer with mechanic, accepted, a chat
ENDED = UUID("2c3d4e5f-6071-4829-93a4-b5c6d7e8f901")  # completed
UNKNOWN = UUID("00000000-0000-4000-8000-000000000000")


def seed_world(conn: Any) -> None:
    """The recordings' world, on an emptied database."""
    users = [
        (
            CUSTOMER,
            "customer-gw0-rec@pitstop.test",
            {"pitstop": True, "run": "rec", "worker": "gw0"},
            "customer",
        ),
        (
            MECHANIC,
            "mechanic-gw0-rec@pitstop.test",
            {"pitstop": True, "run": "rec", "worker": "gw0"},
            "mechanic",
        ),
        (REAL_USER, "someone@example.com", {}, "customer"),
    ]
    for user_id, email, meta, role in users:
        conn.execute(
            "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, %s)",
            (user_id, email, Jsonb(meta)),
        )
        conn.execute(
            "insert into public.profiles (id, role, full_name) values (%s, %s, %s)", (user_id, role, email)
        )
    sessions = [
        (WAITING, CUSTOMER, None, "waiting", 30, "pending"),
        (LIVE, CUSTOMER, MECHANIC, "live", 5, "accepted"),
        (ENDED, CUSTOMER, MECHANIC, "completed", 90, "accepted"),
    ]
    for n, (session, customer, mechanic, status, minutes, request) in enumerate(sessions):
        conn.execute(
            "insert into public.sessions (id, customer_id, mechanic_id, plan, status, created_at)"
            " values (%s, %s, %s, 'Quick Chat', %s, now() - make_interval(mins => %s))",
            (session, customer, mechanic, status, minutes),
        )
        conn.execute(
            "insert into public.session_requests"
            " (id, session_id, customer_id, plan, status, vehicle, created_at)"
            " values (%s, %s, %s, 'Quick Chat', %s, '{}', now() - make_interval(mins => %s))",
            (UUID(int=0xA000 + n, version=4), session, customer, request, minutes),
        )
    conn.execute(
        "insert into public.session_participants (session_id, user_id, role)"
        " values (%s, %s, 'customer'), (%s, %s, 'mechanic')",
        (LIVE, CUSTOMER, LIVE, MECHANIC),
    )
    conn.execute(
        "insert into public.chat_messages (id, session_id, sender_id, body, created_at)"
        " values (%s, %s, %s, 'hi', now() - interval '2 minutes'), (%s, %s, %s, 'hello', now())",
        (UUID(int=0xB000, version=4), LIVE, CUSTOMER, UUID(int=0xB001, version=4), LIVE, MECHANIC),
    )


# Placeholders a recording may hold for what this pitstop installs, so that a
# change of the rules does not make the recording of an installed project stale.
INSTALLED = {
    "<this version>": __version__,
    "<this rules hash>": rules_hash(),
    "<the default model>": json.dumps(Model().to_json(), sort_keys=True),
    "<the default model's hash>": Model().digest(),
}


def load(name: str) -> list[dict[str, Any]]:
    text = (HERE / f"{name}.json").read_text()
    exchanges: list[dict[str, Any]] = json.loads(
        text,
        object_hook=lambda o: {k: INSTALLED.get(v, v) if isinstance(v, str) else v for k, v in o.items()},
    )["exchanges"]
    return exchanges


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


@dataclass
class Player:
    """Serves one recording; ``requests`` holds what the store actually sent."""

    exchanges: list[dict[str, Any]]
    key: str
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        step = len(self.requests)
        self.requests.append(request)
        assert step < len(self.exchanges), f"unrecorded request #{step}: {request.method} {request.url}"
        want, answer = self.exchanges[step]["request"], self.exchanges[step]["response"]
        got_body = json.loads(request.content) if request.content else None
        got = {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.url.params),
            "json": got_body,
        }
        expected = {
            "method": want["method"],
            "path": want["path"],
            "query": want.get("query", {}),
            "json": want.get("json"),
        }
        assert got == expected, f"request #{step} differs from the recording"
        assert request.headers["apikey"] == self.key
        assert request.headers["authorization"] == f"Bearer {self.key}"
        for name, value in want.get("headers", {}).items():
            assert request.headers.get(name) == value, f"request #{step}: header {name}"
        if "raise" in answer:
            raise getattr(httpx, answer["raise"])(answer.get("message", "recorded failure"), request=request)
        if "text" in answer:
            return httpx.Response(answer["status"], text=answer["text"], headers=answer.get("headers"))
        # Content, not json=: a recorded JSON null must go out as "null", not as no body.
        headers = {"content-type": "application/json", **answer.get("headers", {})}
        return httpx.Response(answer["status"], content=json.dumps(answer.get("json")), headers=headers)

    @property
    def done(self) -> bool:
        return len(self.requests) == len(self.exchanges)


@contextmanager
def playing(*names: str, key: str = SERVICE_KEY, url: str = URL) -> Iterator[Player]:
    """Route every request to ``url`` through the recordings, one after another; check all were played."""
    name = " + ".join(names)
    player = Player([e for n in names for e in load(n)], key)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(url__startswith=url).mock(side_effect=player)
        yield player
    assert player.done, (
        f"{name}: {len(player.requests)} of {len(player.exchanges)} recorded requests were sent"
    )
