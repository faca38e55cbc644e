"""Passwords (bcrypt, as Supabase Auth stores them) and the signed session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import bcrypt
from itsdangerous import BadSignature, URLSafeTimedSerializer

from reference_app.db import Conn, fetch_one

COOKIE_NAME = "pitstop_session"
COOKIE_MAX_AGE_S = 7 * 24 * 3600
# Checked against when the email is unknown, so both failures take as long.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))

HOME_BY_ROLE = {
    "customer": "/customer/dashboard",
    "mechanic": "/mechanic/dashboard",
    "admin": "/admin/cleanup",
}


@dataclass(frozen=True)
class User:
    id: UUID
    email: str
    role: str
    full_name: str


def check_password(password: str, stored_hash: str | None) -> bool:
    """bcrypt check; Supabase's ``$2a$`` hashes are the same algorithm as ``$2b$``."""
    candidate = password.encode()
    if not stored_hash or not stored_hash.startswith(("$2a$", "$2b$", "$2y$")) or len(candidate) > 72:
        bcrypt.checkpw(b"x", _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, stored_hash.encode())
    except ValueError:  # a malformed hash in the table
        return False


async def authenticate(conn: Conn, email: str, password: str) -> User | None:
    row = await fetch_one(
        conn,
        "select u.id, u.email, u.encrypted_password, p.role, p.full_name"
        " from auth.users u join public.profiles p on p.id = u.id where lower(u.email) = lower(%s)",
        (email.strip(),),
    )
    if row is None:
        check_password(password, None)
        return None
    if not check_password(password, row["encrypted_password"]):
        return None
    return User(id=row["id"], email=row["email"], role=row["role"], full_name=row["full_name"])


async def load_user(conn: Conn, user_id: UUID) -> User | None:
    row = await fetch_one(
        conn,
        "select u.id, u.email, p.role, p.full_name from auth.users u"
        " join public.profiles p on p.id = u.id where u.id = %s",
        (user_id,),
    )
    if row is None:
        return None
    return User(id=row["id"], email=row["email"], role=row["role"], full_name=row["full_name"])


class SessionCookies:
    """Signs and reads the session cookie: it holds the user id only; the role is read from the database."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="pitstop-session")

    def dump(self, user_id: UUID) -> str:
        return self._serializer.dumps({"uid": str(user_id)})

    def load(self, value: str | None) -> UUID | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=COOKIE_MAX_AGE_S)
            return UUID(data["uid"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
