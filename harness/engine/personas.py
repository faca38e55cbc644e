"""Test users: names and passwords drawn by the run's seed, bcrypt hashes, run and worker tags.

Each user carries both test marks (an email in the test domain and
``pitstop: true`` in its metadata) and the tags that let a later run tell
whether the run that made it is still alive (run id, worker id, host, pid).
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from harness.engine.data import load
from harness.engine.identity import Role
from harness.rules.marker import DEFAULT_TEST_DOMAIN, check_test_domain
from harness.store import NewUser, Store
from harness.store.auth_users import hash_password

PASSWORD_LENGTH = 20
PASSWORD_CHARS = string.ascii_letters + string.digits


@dataclass(frozen=True)
class TestUser:
    """A test user as the tests see it (the password in clear, to sign in)."""

    __test__ = False  # not a pytest test class

    id: UUID
    email: str
    password: str
    name: str
    role: Role


class Personas:
    """Makes this worker's test users; the same seed gives the same names and passwords."""

    def __init__(
        self,
        *,
        run_id: str,
        worker_id: str = "main",
        test_domain: str = DEFAULT_TEST_DOMAIN,
        seed: object = 0,
    ) -> None:
        self.run_id = run_id
        self.worker_id = worker_id
        self.test_domain = check_test_domain(test_domain)
        self.seed = seed

    def email(self, label: str) -> str:
        return f"{label}-{self.worker_id}-{self.run_id}@{self.test_domain}"

    def build(self, label: str, role: Role) -> tuple[NewUser, str]:
        """The user to create for ``label`` and its clear-text password."""
        # A generator of its own, seeded: the same seed and label give the same user. Not Faker:
        # its import (~0.4 s, ~0.8 s without bytecode) would cost every worker more than its users.
        draw = random.Random(f"{self.seed}:{label}")
        password = "".join(draw.choice(PASSWORD_CHARS) for _ in range(PASSWORD_LENGTH))
        names = load("names")
        # The tag makes the name this user's alone: a step that finds a row by the name a page shows
        # (a request's customer) finds this user's, never a real customer's or another run's namesake.
        tag = hashlib.blake2s(f"{self.run_id}:{self.worker_id}:{label}".encode(), digest_size=3).hexdigest()
        name = f"{draw.choice(names['first'])} {draw.choice(names['last'])} {tag}"
        user = NewUser(
            email=self.email(label),
            password_hash=hash_password(password),
            full_name=name,
            role=role,
            metadata={
                "pitstop": True,
                "full_name": name,
                "role": role,
                "run": self.run_id,
                "worker": self.worker_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "created_at": datetime.now(UTC).isoformat(),
            },
        )
        return user, password

    def create(self, store: Store, label: str, role: Role) -> TestUser:
        user, password = self.build(label, role)
        user_id = store.create_test_user(user)
        return TestUser(id=user_id, email=user["email"], password=password, name=user["full_name"], role=role)
