"""The api store: the app's own debug endpoints (``/api/debug/*``) with the admin token.

For apps that keep their cleanup rules in the app, as the original tools did.
The app's answers are mapped to the JSON of the SQL functions, so this store
prints what the others print. What the debug API cannot do (create or list
users, seed states, read rows) raises ``Unsupported`` naming the stores that can.

Dry runs are the endpoints' ``GET`` variants (the app runs the rule and rolls
back). Purging a user signs in as that user first, because
``cleanup-user-data`` purges the signed-in user: the store needs the user's
password (``sign_in``, or ``user_password`` for ``find_user``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import httpx

from harness.config.contract import CONTRACT_TABLES
from harness.errors import BadInput, PitstopError, Refused, Unreachable, Unsupported
from harness.json_types import JSON
from harness.rules.health import Health, problem_message
from harness.store.closing import Closing
from harness.store.interface import NewUser, RunInfo
from harness.store.safety import Endpoint, url_host

TIMEOUT_S = 10.0
DEBUG = "/api/debug"
DEFAULT_LOGIN_PATH = "/customer/login"


class ApiStore(Closing):
    """The debug API of the app at ``app_url``; opening it checks the token with one health call."""

    name = "api"

    def __init__(
        self,
        *,
        app_url: str,
        admin_token: str,
        user_password: str | None = None,
        login_path: str = DEFAULT_LOGIN_PATH,
        timeout: float = TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.app_url = app_url.rstrip("/")
        self._host = url_host(self.app_url, what="app")
        self._user_password = user_password
        self._login_path = login_path
        self._cookies: dict[UUID, str] = {}  # user id -> its session cookie header
        self._client = httpx.Client(
            base_url=self.app_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=timeout,
            transport=transport,
        )
        self._endpoint = Endpoint(host=self._host)
        try:
            response = self._send("GET", "/session-health")
            self._endpoint = Endpoint(host=self._host, address=_peer_address(response))
        except BaseException:
            self._client.close()
            raise

    # -- the Store interface ------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    def database(self) -> None:
        """None: this store reaches the rules through the app's debug API, not a database connection."""
        return None

    def describe(self) -> str:
        return f"api {self.app_url}{DEBUG}"

    def sign_in(self, email: str, password: str) -> UUID:
        """Sign in as a user (the login form), keep the cookie, and return the user's id."""
        self._client.cookies.clear()
        try:
            response = self._client.post(
                self._login_path, data={"email": email, "password": password}, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items())
        self._client.cookies.clear()
        if response.status_code >= 500:
            raise self._server_error(response)
        if not cookie or response.status_code >= 400:
            raise BadInput(
                f"could not sign in as {email} at {self.app_url}{self._login_path} "
                f"(HTTP {response.status_code})",
                fix="check the user's email and password (--password or PITSTOP_USER_PASSWORD)",
            )
        # The dry run of the purge says who the cookie belongs to.
        counts = self._json("GET", "/cleanup-user-data", headers={"Cookie": cookie})
        with self._contract("/cleanup-user-data"):
            user_id = UUID(str(counts["user_id"]))
        self._cookies[user_id] = cookie
        return user_id

    def purge_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON:
        cookie = self._cookies.get(user_id)
        if cookie is None:
            raise BadInput(
                f"the api store purges a user by signing in as them, and has no sign-in for {user_id}",
                fix="give the user's email and password (pitstop reset --user EMAIL --password …), "
                "or use the postgres or supabase store",
            )
        counts = self._json("GET" if dry_run else "POST", "/cleanup-user-data", headers={"Cookie": cookie})
        with self._contract("/cleanup-user-data"):
            return _purge_counts(counts)

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]:
        """One purge per user: the debug API has no batch (the other stores do it in one transaction)."""
        return [self.purge_user(user_id) for user_id in user_ids]

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON:
        counts = self._json(
            "GET" if dry_run else "POST",
            "/cleanup-sessions",
            params={"waitingMinutes": waiting_minutes, "orphanMinutes": orphan_minutes},
        )
        with self._contract("/cleanup-sessions"):
            out: JSON = {
                k: int(counts[k]) for k in ("requests_expired", "sessions_cancelled", "orphans_cancelled")
            }
            # The pending requests of the sessions it cancelled, where its debug API says.
            if "requests_cancelled" in counts:
                out["requests_cancelled"] = int(counts["requests_cancelled"])
            # What the app protected, where its debug API says (the reference app protects nothing).
            if isinstance(counts.get("protected"), dict):
                out["protected"] = {
                    k: int(v)
                    for k, v in counts["protected"].items()
                    if k in ("scheduled", "assigned", "requests")
                }
            return out

    def force_cancel(self, session_id: UUID) -> JSON:
        result = self._json("POST", "/force-cancel-session", json={"sessionId": str(session_id)})
        with self._contract("/force-cancel-session"):
            return {
                "session_id": str(result["session_id"]),
                "previous_status": result["previous_status"],
                "requests_cancelled": int(result["requests_cancelled"]),
            }

    def customer_session_status(self, customer_id: UUID, *, minutes: int = 15) -> JSON:
        raise self._unsupported("checking a customer's session status")

    def health(self, *, stale_minutes: int = 15, very_stale_minutes: int = 60) -> JSON:
        data = self._json(
            "GET",
            "/session-health",
            params={"staleMinutes": stale_minutes, "veryStaleMinutes": very_stale_minutes},
        )
        with self._contract("/session-health"):
            # The app words its problems its own way; the codes and counts are the contract.
            for problem in data["problems"]:
                message = problem_message(
                    problem["code"],
                    problem["count"],
                    stale_minutes=stale_minutes,
                    very_stale_minutes=very_stale_minutes,
                )
                problem["message"] = message or problem["message"]
            return Health(data).to_json()  # reads every field the contract names

    def find_user(self, email: str) -> UUID | None:
        if self._user_password is None:
            raise BadInput(
                f"the api store finds {email} by signing in as them, and has no password",
                fix="pass --password (or set PITSTOP_USER_PASSWORD), or give the postgres or supabase store",
            )
        return self.sign_in(email, self._user_password)

    def create_test_user(self, user: NewUser) -> UUID:
        raise self._unsupported("creating test users")

    def delete_test_user(self, user_id: UUID) -> JSON:
        raise self._unsupported("deleting test users")

    def set_test_user_password(self, user_id: UUID, password: str) -> bool:
        raise self._unsupported("setting a test user's password")

    def test_users(self) -> list[JSON]:
        raise self._unsupported("listing test users")

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]:
        raise self._unsupported("listing a user's active sessions")

    def sessions(self, session_ids: list[UUID]) -> list[JSON]:
        raise self._unsupported("reading sessions")

    def user_rows(self, user_ids: list[UUID]) -> JSON:
        raise self._unsupported("reading a user's rows")

    def hold_run(self, lease: RunInfo) -> JSON:
        raise self._unsupported(
            "holding a run's lease, so another machine's run cannot tell that this one is alive: "
            "test users of runs on other machines are swept only after 24 hours"
        )

    def end_run(self, run: str, *, expired: bool = False) -> JSON:
        raise self._unsupported("ending a run's lease")

    def runs(self) -> list[JSON]:
        raise self._unsupported("listing runs' leases")

    def close(self) -> None:
        self._client.close()

    # -- helpers ------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> JSON:
        with self._contract(path):
            body = self._send(method, path, **kwargs).json()
            if not isinstance(body, dict):
                raise TypeError(f"a JSON object was expected, not {type(body).__name__}")
            return cast(JSON, body)

    @contextmanager
    def _contract(self, path: str) -> Iterator[None]:
        """An answer the contract does not describe is the app's problem, said plainly."""
        try:
            yield
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(
                f"the app's debug API at {self.app_url}{DEBUG}{path} answered outside the app contract "
                f"({type(exc).__name__}: {exc})",
                fix="make the app's /api/debug/* answer as docs/adopting.md describes, "
                "or use the postgres or supabase store",
            ) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call to the debug API; errors become pitstop's, with the fix."""
        try:
            response = self._client.request(method, DEBUG + path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.is_success:
            return response
        raise self._error(response)

    def _error(self, response: httpx.Response) -> PitstopError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        message = (body.get("error") or body.get("detail")) if isinstance(body, dict) else None
        where = f"{self.app_url}{response.request.url.path}"
        if status >= 500:
            return self._server_error(response)
        if status == 401:
            return BadInput(
                f"the app refused the admin token at {where}: {message or 'HTTP 401'}",
                fix="pass the app's ADMIN_TOKEN as --admin-token or PITSTOP_ADMIN_TOKEN",
            )
        if status == 404 and message is None:
            return BadInput(
                f"the app at {self.app_url} has no debug API ({where} answered 404)",
                fix="run the app in test mode with its /api/debug/* endpoints (docs/adopting.md), "
                "or use the postgres or supabase store",
            )
        if status == 403:
            return Refused(message or f"the app refused {where}", fix=None)
        return BadInput(message or f"{where} answered HTTP {status}")

    def _server_error(self, response: httpx.Response) -> Unreachable:
        return Unreachable(
            f"the app at {self.app_url} failed: HTTP {response.status_code} from {response.request.url.path}",
            fix="check the app's logs; run again once it answers",
        )

    def _unreachable(self, exc: httpx.HTTPError) -> Unreachable:
        what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "is not reachable"
        return Unreachable(
            f"the app at {self.app_url} {what} ({type(exc).__name__}: {exc})",
            fix="check --app-url / PITSTOP_APP_URL and that the app is running",
        )

    def _unsupported(self, what: str) -> Unsupported:
        return Unsupported(
            f"the api store cannot do this: {what} (the app's debug API has no endpoint for it)",
            fix="use the postgres store (--database-url) "
            "or the supabase store (--supabase-url, --supabase-key)",
        )


def _purge_counts(counts: JSON) -> JSON:
    """The app's purge answer in the shape of ``pitstop.purge_user``."""
    tables = {k: int(counts.get(k, 0)) for k in CONTRACT_TABLES}
    return {
        "user_id": str(counts["user_id"]),
        **tables,
        "kept": int(counts.get("kept", 0)),
        "tables": {f"public.{k}": n for k, n in tables.items()},
    }


def _peer_address(response: httpx.Response) -> str | None:
    """The address the response came from (after DNS), where the transport says."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        peer = stream.get_extra_info("server_addr")
    except Exception:  # a transport without the info: the host name is checked instead
        return None
    return str(peer[0]) if peer else None
