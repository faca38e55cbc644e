"""One test run as pitstop sees it: the target, the test users, the resets and what was recorded.

The pytest plugin keeps one ``Run`` per process (controller and each xdist
worker) and calls it from hooks and fixtures; nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from harness.config.settings import RunConfig, Settings, store_kind
from harness.engine.identity import PERSONAS, new_run_id
from harness.engine.lease import Heartbeat, Leases, run_info
from harness.engine.mechanics import MechanicFactory, make_test_mechanic
from harness.engine.personas import Personas, TestUser
from harness.errors import BadInput, PitstopError, Unsupported
from harness.json_types import JSON
from harness.stack.embedded import EmbeddedStack, StackInfo
from harness.store import check_hosts
from harness.store.cleanup import Cleanup
from harness.store.interface import NewUser

# A run on another machine cannot be asked whether it is alive: its users are
# swept only once they are this old.
FOREIGN_RUN_TTL = timedelta(hours=24)
# How long a look at the app may take when a test failed or the run ended.
APP_PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Target:
    """The app under test and its database, given or embedded.

    ``settings`` is how pitstop reaches it (``app_url``, ``database_url``,
    ``admin_token``, the store, the allow-list): made once, when the target is
    known, and passed on to whatever connects (``Run.cleanup``). A given
    target's are the run's own settings; the embedded stack's add its app,
    database and token.
    """

    settings: Settings
    kind: str  # "embedded" or "given"
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    leased: bool = False  # the run holds a lease in it (``harness.engine.lease``)

    # What crosses to an xdist worker: the worker has the run's settings, and adds these.
    WIRE: ClassVar[tuple[str, ...]] = ("app_url", "database_url", "admin_token", "supabase_url", "jwt_secret")

    def __post_init__(self) -> None:
        if not self.settings.app_url:
            raise BadInput("a target needs its app's URL", fix="pass --base-url URL")

    @property
    def app_url(self) -> str:
        assert self.settings.app_url  # checked when made
        return self.settings.app_url

    @property
    def database_url(self) -> str | None:
        return self.settings.database_url

    @property
    def admin_token(self) -> str | None:
        return self.settings.admin_token

    def to_json(self) -> JSON:
        """For an xdist worker (plain values only, as execnet carries them): see ``from_json``."""
        return {
            **{name: getattr(self.settings, name) for name in self.WIRE},
            "kind": self.kind,
            "stripe_api_base": self.stripe_api_base,
            "stripe_webhook_secret": self.stripe_webhook_secret,
            "leased": self.leased,
        }

    @classmethod
    def from_json(cls, data: JSON, settings: Settings) -> Target:
        """The target ``to_json`` sent, on the worker's own ``settings`` (the same options)."""
        return cls(
            dataclasses.replace(settings, **{name: data[name] for name in cls.WIRE}),
            data["kind"],
            data["stripe_api_base"],
            data["stripe_webhook_secret"],
            bool(data.get("leased")),
        )

    def public(self) -> JSON:
        """For reports: no secrets."""
        return {
            "app_url": self.app_url,
            "kind": self.kind,
            "stripe_api_base": self.stripe_api_base,
            "leased": self.leased,
        }


@dataclass
class TestRecord:
    """What one test did, sent along with its report (also from xdist workers)."""

    __test__ = False

    resets_ms: list[float] = dataclasses.field(default_factory=list)
    leak: list[JSON] = dataclasses.field(default_factory=list)
    steps: dict[str, float] = dataclasses.field(default_factory=dict)
    health_before: JSON | None = None

    def to_json(self) -> JSON:
        return {"resets_ms": self.resets_ms, "leak": self.leak, "steps": self.steps}


class Run:
    """The per-process state of a run: lazily connects, creates users, resets, checks."""

    def __init__(
        self,
        config: RunConfig,
        *,
        run_id: str | None = None,
        worker_id: str = "main",
        run_pid: int | None = None,
        target: Target | None = None,
        fetch_target: Callable[[], JSON] | None = None,
    ) -> None:
        self.config = config
        self.run_id = run_id or new_run_id()
        self.worker_id = worker_id
        self.run_pid = run_pid or os.getpid()
        self._target = target
        # An xdist worker's: the target as the controller hands it over (``Target.to_json``),
        # started there on the first worker's request. None: this process starts the target.
        self._fetch_target = fetch_target
        self._stack: EmbeddedStack | None = None
        self._cleanup: Cleanup | None = None
        self._users: dict[str, TestUser] = {}
        # With a mechanics table: the rows made for mechanic labels, and the test users they link to.
        self._mechanics: dict[str, UUID] = {}
        self._linked: dict[str, UUID] = {}
        # How a mechanic is made when the model has a mechanics table (the plugin sets the
        # pitstop_make_mechanic fixture's); None: pitstop's default (harness.engine.mechanics).
        self.mechanic_factory: MechanicFactory | None = None
        self.current: TestRecord | None = None
        self.left: list[JSON] = []  # test users a sweep or the end of the run could not delete, and why
        self._heartbeat: Heartbeat | None = None  # the controller's, while it holds the run's lease
        self._lease_store: Cleanup | None = None  # the heartbeat's own connection
        self.lease_problem: str | None = None  # why the run holds no lease, where it could not take one

    # -- the target ---------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._target is not None

    def target(self) -> Target:
        """The target, starting the embedded stack and running the start-of-run reset on first use
        (on an xdist worker: fetched from the controller, which does both)."""
        if self._target is None:
            if self._fetch_target is not None:
                self._target = Target.from_json(self._fetch_target(), self.config.settings)
            else:
                self._target = self._start_target()
                self._hold_lease()
                if self.config.reset == "full":
                    self.start_of_run_reset()
        return self._target

    def _hold_lease(self) -> None:
        """Take the run's lease in the target and renew it from a thread with its own connection
        (the controller's, before any user is made: a user tagged ``leased`` has a run that held one)."""
        assert self._target is not None
        info = run_info(self.run_id, self.config.lease_seconds, self.config.shard_label)
        try:
            self.cleanup().store.hold_run(info)
        except Unsupported as exc:
            self.lease_problem = exc.message
            return
        except PitstopError as exc:  # rules installed by an older pitstop, say: the run goes on without
            self.lease_problem = f"{exc.message} (run `pitstop install` to update the rules)"
            return
        self._target = dataclasses.replace(self._target, leased=True)
        self._lease_store = Cleanup.open(self._target.settings)
        store = self._lease_store.store
        self._heartbeat = Heartbeat(lambda: store.hold_run(info), self.config.lease_seconds).start()

    def _end_lease(self) -> None:
        if self._heartbeat is None:
            return
        self._heartbeat.stop()
        self._heartbeat = None
        try:
            assert self._lease_store is not None
            with contextlib.suppress(PitstopError):
                self._lease_store.store.end_run(self.run_id)
        finally:
            if self._lease_store is not None:
                self._lease_store.close()
                self._lease_store = None

    def _start_target(self) -> Target:
        settings = self.config.settings
        if not self.config.embedded:
            # The guard, before anything (a store, a browser, a webhook) reaches the target, whatever
            # --pitstop-reset says: its hosts, the app's included, are loopback or allow-listed.
            check_hosts(settings, with_app=True)
            return Target(
                settings,
                "given",
                os.environ.get("STRIPE_API_BASE"),
                os.environ.get("STRIPE_WEBHOOK_SECRET"),
            )
        self._stack = EmbeddedStack(
            database_url=settings.database_url,
            test_domain=settings.test_domain,
            settings=settings,
            payment_kind=settings.payments.kind,  # the app pays as [tool.pitstop.payments] says
        )
        info: StackInfo = self._stack.start()
        return Target(
            dataclasses.replace(
                settings,
                app_url=info.app_url,
                database_url=info.database_url,
                admin_token=info.admin_token,
                supabase_url=info.supabase_url,
                jwt_secret=info.jwt_secret,
            ),
            "embedded",
            info.stripe_api_base,
            self._stack.webhook_secret,
        )

    def cleanup(self) -> Cleanup:
        """The guarded cleanup service of this process, connected on first use."""
        if self._cleanup is None:
            settings = self.target().settings
            try:
                store_kind(settings)
            except BadInput:
                raise PitstopError(
                    "pitstop needs a way to the target's state to reset it",
                    fix="pass --pitstop-database-url (or DATABASE_URL), --pitstop-supabase-url with "
                    "--pitstop-supabase-key, or --pitstop-admin-token, along with --base-url",
                ) from None
            self._cleanup = Cleanup.open(settings)  # the store that settings select
        return self._cleanup

    # -- resets ---------------------------------------------------------------------

    def start_of_run_reset(self) -> JSON:
        """Once per run, on the controller: the global stale cleanup and a sweep of dead runs."""
        cleanup = self.cleanup()
        counts = cleanup.cleanup_stale()
        swept = self.sweep()
        return {**counts, "users_swept": len(swept)}

    def sweep(self) -> list[str]:
        """Delete the test users (and test mechanics) of runs that are no longer alive and older
        than the threshold; mechanics first, since they may link to test users.

        One that cannot be deleted (a row of real data still refers to it)
        stays, and why is kept in ``left`` for the report.
        """
        now = datetime.now(UTC)
        # What runs made is listed before their leases are read: a run takes its lease before it
        # makes anything, so a run that starts between the two reads makes nothing listed here.
        # The other way round, its users would be listed with no lease read for it, as if it had ended.
        mechanics = self._test_mechanics()
        users = self._test_users()
        leases = self._leases()
        swept = []
        for mechanic in mechanics:
            tags = {key: mechanic.get(key) for key in ("run", "worker", "host", "pid")}
            age = _age({"created_at": mechanic.get("created_at")}, now)
            if self._dead(tags, age, leases) and self._delete_mechanic(mechanic):
                swept.append(str(mechanic.get("email") or mechanic["id"]))
        for user in users:
            if self._dead(user.get("metadata") or {}, _age(user, now), leases) and self._delete_user(user):
                swept.append(str(user["email"]))
        self._end_expired_leases()
        return swept

    def _leases(self) -> Leases:
        try:
            return Leases.of(self.cleanup().store.runs())
        except Unsupported:  # the api store holds none: every run is judged by its tags
            return Leases({})

    def _end_expired_leases(self) -> None:
        """End the expired leases whose runs own nothing any more (the sweep took it all)."""
        for lease in self._leases().by_run.values():
            if not lease["alive"] and not lease["users"] and not lease["mechanics"]:
                self.cleanup().store.end_run(str(lease["run"]), expired=True)

    def _dead(self, tags: dict[str, Any], age: timedelta | None, leases: Leases) -> bool:
        """Whether what another run made may be swept: its run's lease has expired, or ended (a user
        tagged ``leased`` whose run has none any more); without one, judged by its tags and age."""
        if tags.get("run") == self.run_id:
            return False
        alive = leases.alive(tags.get("run"))
        if alive is not None:
            return not alive
        if tags.get("leased"):
            return True
        if age is not None and age < timedelta(minutes=self.config.sweep_minutes):
            return False
        return not _run_alive(tags, age=age)

    def release_users(self) -> list[JSON]:
        """At the end of a run, on the controller: delete every test user (and test mechanic) this run made.

        Workers delete their own as they close; this takes what they could not
        (or a crashed worker left). Returns what stays, with the reason.
        """
        for mechanic in self._test_mechanics():
            if mechanic.get("run") == self.run_id:
                self._delete_mechanic(mechanic)
        for user in self._test_users():
            if (user.get("metadata") or {}).get("run") == self.run_id:
                self._delete_user(user)
        self._users.clear()
        self._mechanics.clear()
        self._linked.clear()
        return self.left

    def _test_mechanics(self) -> list[JSON]:
        """The registered test mechanics (a model with a mechanics table, over a database connection)."""
        store = self.cleanup().store.database()
        return store.test_mechanics() if store is not None else []

    def _delete_mechanic(self, mechanic: JSON) -> bool:
        store = self.cleanup().store.database()
        assert store is not None  # the mechanic was listed through it
        try:
            store.delete_test_mechanic(UUID(str(mechanic["id"])))
        except (PitstopError, ValueError) as exc:
            if self._gone(mechanic, self._test_mechanics):
                return False
            reason, fix = (exc.message, exc.fix) if isinstance(exc, PitstopError) else (str(exc), None)
            self.left.append(
                {
                    "email": str(mechanic.get("email") or mechanic["id"]),
                    "mechanic": str(mechanic["id"]),
                    "reason": reason,
                    "fix": fix,
                }
            )
            return False
        return True

    def _test_users(self) -> list[JSON]:
        try:
            return self.cleanup().store.test_users()
        except Unsupported:  # the api store cannot list users: nothing to sweep through it
            return []

    def _delete_user(self, user: JSON) -> bool:
        try:
            self.cleanup().store.delete_test_user(UUID(str(user["id"])))
        except PitstopError as exc:
            if not self._gone(user, self._test_users):
                self.left.append({"email": str(user["email"]), "reason": exc.message, "fix": exc.fix})
            return False
        return True

    @staticmethod
    def _gone(made: JSON, listed: Callable[[], list[JSON]]) -> bool:
        """Whether a test user or mechanic that could not be deleted is no longer there: another run's
        sweep deleted it first (runs that start together sweep the same dead run's)."""
        try:
            return all(other["id"] != made["id"] for other in listed())
        except PitstopError:
            return False

    def user(self, label: str) -> TestUser:
        """This worker's test user for ``label``, created on first use."""
        if label not in self._users:
            personas = Personas(
                run_id=self.run_id,
                worker_id=self.worker_id,
                test_domain=self.config.settings.test_domain,
                seed=f"{self.run_id}:{self.worker_id}",
            )
            user, password = personas.build(label.replace("_", "-"), PERSONAS[label])
            user["metadata"]["pid"] = self.run_pid  # the run's liveness, not this worker's
            if self.target().leased:  # its run's lease says whether it is alive, on any machine
                user["metadata"]["leased"] = True
            if PERSONAS[label] == "mechanic" and self.config.settings.model.has_mechanics_table:
                self._users[label] = self._new_mechanic(label, user, password)
            else:
                user_id = self.cleanup().store.create_test_user(user)
                self._users[label] = TestUser(
                    user_id, user["email"], password, user["full_name"], PERSONAS[label]
                )
        return self._users[label]

    def _new_mechanic(self, label: str, user: NewUser, password: str) -> TestUser:
        """A test mechanic as a row of the model's mechanics table, made by the mechanic factory
        and registered with this run's tags; its id is the row's."""
        store = self.cleanup().store.database()
        if store is None:
            raise BadInput(
                "test mechanics in a table of their own are made over a database connection",
                fix="pass --pitstop-database-url (or DATABASE_URL) with the model's mechanics table",
            )
        mechanic_id = make_test_mechanic(
            store,
            self.mechanic_factory,
            user,
            password,
            label=label,
            run=self.run_id,
            worker=self.worker_id,
            host=socket.gethostname(),
            pid=self.run_pid,
            origin="the pitstop_make_mechanic fixture's factory",
            linked=lambda user_id: self._linked.__setitem__(label, user_id),
        )
        self._mechanics[label] = mechanic_id
        return TestUser(mechanic_id, user["email"], password, user["full_name"], "mechanic")

    def begin_test(self, labels: list[str]) -> TestRecord:
        """Before a test: purge its users' session state (one round trip), start its record."""
        record = TestRecord()
        self.current = record
        users = [self.user(label) for label in labels]
        if users and self.config.reset != "none":
            started = time.perf_counter()
            self.cleanup().store.purge_users([u.id for u in users])
            record.resets_ms.append(round((time.perf_counter() - started) * 1000, 3))
        return record

    def leaks(self, labels: list[str]) -> list[JSON]:
        """After a test: the sessions its users left pending, waiting or live."""
        users = {self.user(label).id: self.user(label).email for label in labels}
        active = self.cleanup().store.active_sessions(list(users))
        return [
            {
                "id": s["id"],
                "status": s["status"],
                "user": users.get(UUID(s["customer_id"])) or users.get(UUID(str(s["mechanic_id"]))),
            }
            for s in active
        ]

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a block of a flow as ``<name>_ms`` in the current test's record."""
        started = time.perf_counter()
        yield
        self.record(f"{name}_ms", (time.perf_counter() - started) * 1000)

    def record(self, name: str, value: float) -> None:
        if self.current is not None:
            self.current.steps[name] = round(value, 3)

    def health(self) -> JSON:
        return self.cleanup().store.health()

    def app_problem(self) -> str | None:
        """Why the app does not answer (one bounded request), or None when it does or no target is known."""
        if self._target is None:
            return None
        url = self._target.app_url
        try:
            with urllib.request.urlopen(url, timeout=APP_PROBE_TIMEOUT_S):
                return None
        except urllib.error.HTTPError:
            return None  # it answered
        except (OSError, ValueError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return f"the app at {url} does not answer ({reason}): was it stopped, or did it crash?"

    def bundle(self, labels: list[str], health_after: JSON | None) -> JSON:
        """The evidence kept beside a failed test."""
        ids = [self.user(label).id for label in labels]
        return {
            "users": {label: self.user(label).email for label in labels},
            "rows": self.cleanup().store.user_rows(ids),
            "health_before": self.current.health_before if self.current else None,
            "health_after": health_after,
        }

    # -- the end --------------------------------------------------------------------

    def close(self, *, delete_users: bool) -> None:
        """Remove this worker's users (unless told not to), disconnect, stop an embedded stack."""
        try:
            if delete_users and self._cleanup is not None:
                store = self._cleanup.store
                database = store.database()
                if self._mechanics and database is not None:  # before the users they link to
                    for mechanic_id in self._mechanics.values():
                        with contextlib.suppress(PitstopError):
                            database.delete_test_mechanic(mechanic_id)
                users = [u.id for label, u in self._users.items() if label not in self._mechanics]
                for user_id in [*users, *self._linked.values()]:
                    with contextlib.suppress(PitstopError):
                        store.delete_test_user(user_id)
        finally:
            self._end_lease()
            if self._cleanup is not None:
                self._cleanup.close()
                self._cleanup = None
            if self._stack is not None:
                self._stack.stop()
                self._stack = None

    @classmethod
    def for_worker(
        cls, config: RunConfig, *, run_id: str, run_pid: int, worker_id: str, fetch_target: Callable[[], JSON]
    ) -> Run:
        """An xdist worker's run: the controller's run id and pid, its target fetched from there."""
        return cls(config, run_id=run_id, worker_id=worker_id, run_pid=run_pid, fetch_target=fetch_target)


def _age(user: JSON, now: datetime) -> timedelta | None:
    """How old a test user is: its row's ``created_at``, else its own tag; None when neither says."""
    meta = user.get("metadata") or {}
    for stamp in (user.get("created_at"), meta.get("created_at")):
        try:
            created = datetime.fromisoformat(str(stamp))
        except ValueError:
            continue
        return now - (created if created.tzinfo else created.replace(tzinfo=UTC))
    return None


def _run_alive(meta: dict[str, Any], *, age: timedelta | None) -> bool:
    """Whether the run that made a user may still be using it (judged by its tags).

    A run on another machine cannot be asked: its users stay until they are
    old enough, and forever when nothing tells their age.
    """
    if meta.get("host") != socket.gethostname():
        return age is None or age < FOREIGN_RUN_TTL
    try:
        pid = int(meta.get("pid", 0))
    except (TypeError, ValueError):
        return False
    return pid > 0 and _pid_running(pid)


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True
