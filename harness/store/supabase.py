"""The supabase store: supabase-py with the service-role key, for projects where only the API is reachable.

The rules go through ``rpc()`` to the ``public.pitstop_*`` wrappers (PostgREST
exposes only the schemas in its configuration, usually ``public``); test
users through GoTrue's admin API (``auth.admin``). Every answer is the JSON of
the SQL functions, as the postgres store returns it.

Dry runs pass ``p_dry_run``: the wrapper runs the rule in a block it rolls
back, so the counts are exact and one POST does it. PostgREST maps the rules'
SQLSTATEs to HTTP statuses (PT403 -> 403, PT404 -> 404, PT409 -> 409) and
keeps the code in the body, which is what the errors are read from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import httpx
from postgrest import APIError
from supabase import Client, ClientOptions, create_client
from supabase_auth.errors import AuthApiError, AuthError

from harness.errors import BadInput, PitstopError, Refused, Unreachable
from harness.json_types import JSON
from harness.rules.marker import DEFAULT_TEST_DOMAIN
from harness.rules.model import Model
from harness.store.closing import Closing
from harness.store.interface import NewUser, RunInfo
from harness.store.retries import RETRIED, RETRIES, pause
from harness.store.safety import Endpoint, url_host

TIMEOUT_S = 10.0
USERS_PAGE = 1000  # GoTrue's largest page
INSTALL_FIX = "run `pitstop sql --supabase-migration supabase/migrations` and `supabase db push`"
KEY_FIX = "pass the project's service-role key as --supabase-key or SUPABASE_SERVICE_ROLE_KEY"


class SupabaseStore(Closing):
    """The rules through PostgREST and the test users through GoTrue, on one httpx client."""

    name = "supabase"

    def __init__(
        self,
        *,
        url: str,
        key: str,
        test_domain: str = DEFAULT_TEST_DOMAIN,
        model: Model | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model or Model()
        # A declared model is checked against the installed one on first use (one more
        # request); the default model runs whatever rules the project has.
        self._model_checked = self.model == Model()
        self._host = url_host(self.url, what="Supabase")
        self._test_domain = test_domain
        self._endpoint = Endpoint(host=self._host)
        self._last_status = 0
        # One client for PostgREST and GoTrue; its hook notes each answer's status
        # (postgrest's APIError does not carry it) and the address it came from.
        self._http = httpx.Client(timeout=timeout, event_hooks={"response": [self._seen]})
        options = ClientOptions(
            httpx_client=self._http,
            auto_refresh_token=False,
            persist_session=False,
            postgrest_client_retry=False,
        )
        self._client: Client = create_client(self.url, key, options)

    # -- the Store interface ------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        """The Supabase host; with the address of the last answer once there was one."""
        return self._endpoint

    def database(self) -> None:
        """None: this store reaches the rules through the Supabase API, not a database connection."""
        return None

    def describe(self) -> str:
        return f"supabase {self.url}"

    def purge_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON:
        return self._rpc("pitstop_purge_user", {"p_user_id": str(user_id), "p_dry_run": dry_run})

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]:
        """Several users in one round trip and one transaction."""
        return cast(
            list[JSON], self._rpc_value("pitstop_purge_users", {"p_user_ids": [str(u) for u in user_ids]})
        )

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON:
        return self._rpc(
            "pitstop_cleanup_stale",
            {"p_waiting_minutes": waiting_minutes, "p_orphan_minutes": orphan_minutes, "p_dry_run": dry_run},
        )

    def force_cancel(self, session_id: UUID) -> JSON:
        return self._rpc("pitstop_force_cancel", {"p_session_id": str(session_id)})

    def customer_session_status(self, customer_id: UUID, *, minutes: int = 15) -> JSON:
        return self._rpc(
            "pitstop_customer_session_status", {"p_customer_id": str(customer_id), "p_minutes": minutes}
        )

    def health(self, *, stale_minutes: int = 15, very_stale_minutes: int = 60) -> JSON:
        return self._rpc(
            "pitstop_health", {"p_stale_minutes": stale_minutes, "p_very_stale_minutes": very_stale_minutes}
        )

    def find_user(self, email: str) -> UUID | None:
        found = self._rpc_value("pitstop_find_user", {"p_email": email})
        return None if found is None else UUID(str(found))

    def create_test_user(self, user: NewUser) -> UUID:
        """A confirmed user with the pitstop marks and run tags, and its profile.

        As the postgres store does, an existing user of that email gets the new
        password and metadata (a worker restarted within one run gets its users back).
        """
        metadata = {**user["metadata"], "full_name": user["full_name"], "role": user["role"]}
        with self._errors("GoTrue"):
            try:
                created = self._client.auth.admin.create_user(
                    {
                        "email": user["email"],
                        "password_hash": user["password_hash"],
                        "email_confirm": True,
                        "user_metadata": metadata,
                    }
                )
                user_id = UUID(created.user.id)
            except AuthApiError as exc:
                if exc.code != "email_exists":
                    raise
                existing = self.find_user(user["email"])
                if existing is None:
                    raise
                user_id = existing
                self._client.auth.admin.update_user_by_id(
                    str(user_id), {"password_hash": user["password_hash"], "user_metadata": metadata}
                )
        # An app's sign-up trigger may have made the profile already: upsert.
        with self._errors("PostgREST"):
            self._client.table("profiles").upsert(
                {"id": str(user_id), "role": user["role"], "full_name": user["full_name"]}
            ).execute()
        return user_id

    def delete_test_user(self, user_id: UUID) -> JSON:
        """Purge and check that nothing else refers to the user (the SQL refuses a user without
        the test marks, or one still tied to a real customer's session), then delete through GoTrue."""
        counts = self._rpc("pitstop_release_test_user", {"p_user_id": str(user_id)})
        with self._errors("GoTrue"):
            self._client.auth.admin.delete_user(str(user_id))
        return {**counts, "users": 1}

    def set_test_user_password(self, user_id: UUID, password: str) -> bool:
        """Give a test user this password through GoTrue's admin API (which hashes it); False: the
        user is missing or lacks a test mark (read from GoTrue, as ``test_users`` reads them)."""
        with self._errors("GoTrue"):
            try:
                found = self._client.auth.admin.get_user_by_id(str(user_id)).user
            except AuthApiError as exc:
                if exc.code != "user_not_found":
                    raise
                return False
            marked = (found.email or "").lower().endswith("@" + self._test_domain)
            if not marked or found.user_metadata.get("pitstop") is not True:
                return False
            self._client.auth.admin.update_user_by_id(str(user_id), {"password": password})
        return True

    def test_users(self) -> list[JSON]:
        """The users with both marks, from GoTrue's user list (paged), oldest first."""
        users: list[JSON] = []
        page = 1
        suffix = "@" + self._test_domain
        with self._errors("GoTrue"):
            while True:
                batch = self._client.auth.admin.list_users(page=page, per_page=USERS_PAGE)
                for u in batch:
                    if (u.email or "").lower().endswith(suffix) and u.user_metadata.get("pitstop") is True:
                        users.append(
                            {
                                "id": u.id,
                                "email": u.email,
                                "metadata": u.user_metadata,
                                "created_at": u.created_at.isoformat(),
                            }
                        )
                if len(batch) < USERS_PAGE:
                    break
                page += 1
        return sorted(users, key=lambda u: str(u["created_at"]))

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]:
        return cast(
            list[JSON], self._rpc_value("pitstop_active_sessions", {"p_user_ids": [str(u) for u in user_ids]})
        )

    def sessions(self, session_ids: list[UUID]) -> list[JSON]:
        return cast(
            list[JSON], self._rpc_value("pitstop_sessions", {"p_session_ids": [str(s) for s in session_ids]})
        )

    def user_rows(self, user_ids: list[UUID]) -> JSON:
        return self._rpc("pitstop_user_rows", {"p_user_ids": [str(u) for u in user_ids]})

    def _check_model(self) -> None:
        """Once per store: the rules in the project were rendered for this store's model."""
        installed = self.installed()
        if installed and self.model.installed_for_another(installed):
            raise BadInput(
                "the pitstop functions in this project were installed for another model of the app",
                fix="write the migration again with this [tool.pitstop.model] "
                "(`pitstop sql --supabase-migration supabase/migrations`) and `supabase db push`",
            )
        self._model_checked = True

    def installed(self) -> dict[str, str]:
        """What install recorded (``public.pitstop_installed``); empty where pitstop is not installed."""
        try:
            answer = self._rpc_value("pitstop_installed", {})
        except BadInput as exc:
            if exc.fix != INSTALL_FIX:  # a rejected key and the like
                raise
            return {}  # PGRST202: no such function (not installed, or older than it)
        return {str(k): str(v) for k, v in answer.items()} if isinstance(answer, dict) else {}

    def hold_run(self, lease: RunInfo) -> JSON:
        return self._rpc(
            "pitstop_hold_run",
            {
                "p_run": lease.run,
                "p_host": lease.host,
                "p_pid": lease.pid,
                "p_shard": lease.shard,
                "p_ci_job": lease.ci_job,
                "p_lease_seconds": lease.lease_seconds,
            },
        )

    def end_run(self, run: str, *, expired: bool = False) -> JSON:
        return self._rpc("pitstop_end_run", {"p_run": run, "p_expired": expired})

    def runs(self) -> list[JSON]:
        return cast(list[JSON], self._rpc_value("pitstop_runs", {}))

    def close(self) -> None:
        self._http.close()

    # -- helpers ------------------------------------------------------------

    def _rpc(self, function: str, params: JSON) -> JSON:
        return cast(JSON, self._rpc_value(function, params))

    def _rpc_value(self, function: str, params: JSON) -> Any:
        """The one value a wrapper returns (PostgREST answers a scalar function with the bare value)."""
        if not self._model_checked and function != "pitstop_installed":
            self._check_model()
        with self._errors("PostgREST"):
            for attempt in range(RETRIES + 1):
                try:
                    return self._client.rpc(function, params).execute().data
                except APIError as exc:  # a deadlock or serialization failure changed nothing: again
                    if exc.code not in RETRIED or attempt == RETRIES:
                        raise
                    pause(attempt)

    def _seen(self, response: httpx.Response) -> None:
        self._last_status = response.status_code
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            self._endpoint = Endpoint(host=self._host, address=str(peer[0]))

    @contextmanager
    def _errors(self, service: str) -> Iterator[None]:
        """Translate PostgREST, GoTrue and transport errors into pitstop's, with the fix."""
        self._last_status = 0
        try:
            yield
        except PitstopError:
            raise
        except APIError as exc:
            raise self._postgrest_error(exc) from None
        except AuthError as exc:
            raise self._gotrue_error(exc) from None
        except httpx.HTTPError as exc:
            raise self._unreachable(service, exc) from None

    def _postgrest_error(self, exc: APIError) -> PitstopError:
        status, code = self._last_status, exc.code or ""
        message = exc.message or f"HTTP {status}"
        if code == "PT403":
            return Refused(message, fix=exc.hint)
        if code in ("PT404", "PT409", "22023", "22P02"):
            return BadInput(message, fix=exc.hint)
        if code in ("PGRST202", "42883", "3F000"):
            return BadInput(
                f"the pitstop functions are not installed in this project ({message})", fix=INSTALL_FIX
            )
        if code == "42P01":
            return BadInput(f"the app's tables are missing ({message})", fix="apply the app's migrations")
        if status == 401 or code.startswith("PGRST30"):
            return BadInput(f"Supabase at {self.url} rejected the key: {message}", fix=KEY_FIX)
        if status >= 500 or status == 0:
            return Unreachable(
                f"Supabase at {self.url} failed: HTTP {status} from PostgREST "
                f"({code or 'no code'}: {message})",
                fix="check the project's status and logs; run again once it answers",
            )
        return BadInput(f"PostgREST at {self.url} answered HTTP {status} ({code or 'no code'}: {message})")

    def _gotrue_error(self, exc: AuthError) -> PitstopError:
        status = int(getattr(exc, "status", 0) or self._last_status)
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPError) and not isinstance(cause, httpx.HTTPStatusError):
            return self._unreachable("GoTrue", cause)
        if status in (401, 403):
            return BadInput(f"Supabase Auth at {self.url} rejected the key: {exc.message}", fix=KEY_FIX)
        if status == 404:
            return BadInput(f"no such user ({exc.message})", fix="check the user id")
        if status >= 500 or status == 0:
            return Unreachable(
                f"Supabase Auth at {self.url} failed: HTTP {status} ({exc.message})",
                fix="check the project's status and logs; run again once it answers",
            )
        return BadInput(f"Supabase Auth at {self.url} answered HTTP {status}: {exc.message}")

    def _unreachable(self, service: str, exc: httpx.HTTPError) -> Unreachable:
        what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "is not reachable"
        return Unreachable(
            f"Supabase ({service}) at {self.url} {what} ({type(exc).__name__}: {exc})",
            fix="check --supabase-url / SUPABASE_URL and that the project is up",
        )
