"""Sign-in (Supabase Auth's password sign-in, gate by gate), passwords and the session cookie."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from uuid import UUID

import bcrypt
import jwt
from itsdangerous import BadSignature, URLSafeTimedSerializer

from harness.stack.reference_app.db import Conn, fetch_one

log = logging.getLogger(__name__)

COOKIE_NAME = "pitstop_session"
COOKIE_MAX_AGE_S = 7 * 24 * 3600
# Checked against when the email is unknown, so both failures take as long.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))


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


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in failed: the message the login page shows, and its HTTP status."""

    message: str
    status_code: int = 401


# Supabase Auth's messages, so a page (and a test) reads what a Supabase app shows.
INVALID_CREDENTIALS = Refusal("Invalid login credentials")
EMAIL_NOT_CONFIRMED = Refusal("Email not confirmed")
USER_BANNED = Refusal("User is banned")
DATABASE_ERROR = Refusal("Database error querying schema", 500)

# Supabase Auth looks users up in one instance (the nil uuid) and one audience.
INSTANCE_ID = "00000000-0000-0000-0000-000000000000"
AUDIENCE = "authenticated"
# Columns Supabase Auth reads into non-null values: a NULL in any of them (a
# user inserted by hand-written SQL, say) fails the sign-in with a 500.
NON_NULL_COLUMNS = (
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change",
    "email_change_token_current",
    "phone_change",
    "phone_change_token",
    "reauthentication_token",
    "aud",
    "role",
    "created_at",
    "updated_at",
    "instance_id",
)

_SIGN_IN_QUERY = (
    "select u.id, u.email, u.encrypted_password, u.email_confirmed_at,"
    " coalesce(u.banned_until > now(), false) as banned, "
    + ", ".join(f"u.{column}" for column in NON_NULL_COLUMNS)
    + ", p.role as profile_role, p.full_name"
    " from auth.users u left join public.profiles p on p.id = u.id"
    " where u.instance_id = %s and u.aud = %s and lower(u.email) = lower(%s)"
    " and not u.is_sso_user and u.deleted_at is null"
    " order by u.id limit 1"
)


async def authenticate(conn: Conn, email: str, password: str) -> User | Refusal:
    """Email and password sign-in, with Supabase Auth's checks in its order, then the app's profile."""
    email = email.strip()
    known = email and "\x00" not in email  # PostgreSQL text cannot hold NUL: no such user
    row = await fetch_one(conn, _SIGN_IN_QUERY, (INSTANCE_ID, AUDIENCE, email)) if known else None
    if row is None:
        check_password(password, None)
        return INVALID_CREDENTIALS
    unreadable = [column for column in NON_NULL_COLUMNS if row[column] is None]
    if unreadable:
        log.error("auth.users row %s has NULL in %s: sign-in refused", row["id"], ", ".join(unreadable))
        return DATABASE_ERROR
    if not row["encrypted_password"]:
        check_password(password, None)
        return INVALID_CREDENTIALS
    if row["banned"]:
        return USER_BANNED
    if not check_password(password, row["encrypted_password"]):
        return INVALID_CREDENTIALS
    if row["email_confirmed_at"] is None:
        return EMAIL_NOT_CONFIRMED
    # The app's part: its role and name live in public.profiles, and a user without one has no home here.
    if row["profile_role"] is None:
        return INVALID_CREDENTIALS
    return User(id=row["id"], email=row["email"], role=row["profile_role"], full_name=row["full_name"])


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


class SupabaseSessions:
    """A Supabase session from the cookies @supabase/ssr writes, as a Next.js app's server reads it.

    The cookie is named ``sb-<first label of the project URL's host>-auth-token`` (``.0``, ``.1``,
    … when chunked); its value is the session JSON, base64url-encoded behind ``base64-`` (or as is,
    the library's older encoding). The access token must verify with the project's JWT secret
    (HS256, audience ``authenticated``), and its session must still be in ``auth.sessions``: a
    signed-out or deleted user's token is refused, as Supabase Auth refuses it.
    """

    def __init__(self, supabase_url: str, jwt_secret: str) -> None:
        host = urlsplit(supabase_url).hostname or ""
        self.cookie_name = f"sb-{host.split('.')[0]}-auth-token"
        self._secret = jwt_secret

    def _value(self, cookies: Mapping[str, str]) -> str | None:
        if self.cookie_name in cookies:
            return cookies[self.cookie_name]
        chunks: list[str] = []
        while f"{self.cookie_name}.{len(chunks)}" in cookies:
            chunks.append(cookies[f"{self.cookie_name}.{len(chunks)}"])
        return "".join(chunks) or None

    def claims(self, cookies: Mapping[str, str]) -> dict[str, object] | None:
        """The verified claims of the cookies' access token; None without a valid one."""
        value = self._value(cookies)
        if not value:
            return None
        try:
            if value.startswith("base64-"):
                encoded = value.removeprefix("base64-")
                value = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            token = json.loads(value)["access_token"]
            claims: dict[str, object] = jwt.decode(
                token, self._secret, algorithms=["HS256"], audience="authenticated"
            )
        except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError, jwt.PyJWTError):
            return None
        return claims


async def load_supabase_user(conn: Conn, claims: Mapping[str, object]) -> User | None:
    """The user of verified claims, while their session lasts in ``auth.sessions``."""
    try:
        user_id, session_id = UUID(str(claims["sub"])), UUID(str(claims["session_id"]))
    except (KeyError, ValueError):
        return None
    row = await fetch_one(
        conn,
        "select 1 from auth.sessions"
        " where id = %s and user_id = %s and (not_after is null or not_after > now())",
        (session_id, user_id),
    )
    return None if row is None else await load_user(conn, user_id)
