"""Test users signed in the Supabase way, without the login page.

A Supabase session for a test user is made one of two ways (``session_for``):

- **offline**, with the project's JWT secret (HS256 projects): the rows Supabase
  Auth writes at a password sign-in (``harness.store.auth_sessions``), and an
  access token with the claims it puts in its own (Supabase Auth's
  ``AccessTokenClaims``), signed with the secret. Needs a database connection.
  Preferred when the secret is given: no request to Supabase Auth, whose
  sign-ins are rate-limited.
- **through Supabase Auth**: its password grant
  (``POST /auth/v1/token?grant_type=password``, the anon key as ``apikey``), which
  gives the real tokens whatever keys the project signs with.

The session is then put where the app's Supabase library reads it
(``storage_state``, Playwright's storage-state JSON):

- the cookies ``@supabase/ssr`` writes: named ``sb-<first label of the Supabase
  URL's host>-auth-token``, the session JSON base64url-encoded behind
  ``base64-``, split into ``.0``, ``.1``, … chunks past 3180 characters, path
  ``/``, ``SameSite=Lax``, not HttpOnly, for 400 days (its
  ``DEFAULT_COOKIE_OPTIONS``);
- supabase-js's localStorage entry: the same name, the session JSON as is.

What was proven where: the cookies and the entry against the libraries themselves
(tests/test_supabase_libraries.py, with npm's ``@supabase/ssr`` and
``@supabase/supabase-js``); the offline rows and token against PostgreSQL's row-level
security as PostgREST sets it up, and the reference app; the password grant against a
recorded exchange in Supabase Auth's wire format only, since no Supabase Auth server
runs here.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from harness.config.settings import Settings
from harness.errors import BadInput, PitstopError, Refused, Unreachable
from harness.json_types import JSON
from harness.store import Store

# Supabase Auth's defaults: an access token lasts an hour (GOTRUE_JWT_EXP); a session is
# signed in with a password ("aal1", amr "password").
ACCESS_TOKEN_S = 3600
AUDIENCE = "authenticated"
# @supabase/ssr's DEFAULT_COOKIE_OPTIONS and MAX_CHUNK_SIZE, and its encoding's prefix.
COOKIE_MAX_AGE_S = 400 * 24 * 3600
CHUNK_SIZE = 3180
BASE64_PREFIX = "base64-"
# GoTrue's refresh tokens: 12 random letters and digits (crypto.SecureAlphanumeric(12)).
REFRESH_TOKEN_CHARS = 12
ALPHANUMERIC = string.ascii_letters + string.digits
GRANT_TIMEOUT_S = 15.0
USER_AGENT = "pitstop"


@dataclass(frozen=True)
class AuthSession:
    """A session as Supabase Auth answers a sign-in and supabase-js stores it."""

    data: JSON  # access_token, token_type, expires_in, expires_at, refresh_token, user

    @property
    def user_id(self) -> str:
        return str(self.data["user"]["id"])

    @property
    def email(self) -> str:
        return str(self.data["user"].get("email") or "")

    def to_json(self) -> str:
        """The session as supabase-js writes it (``JSON.stringify``: no spaces, no escaped non-ASCII)."""
        return json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)


def storage_key(supabase_url: str) -> str:
    """supabase-js's storage key, and @supabase/ssr's cookie name, for a project URL."""
    host = urlsplit(supabase_url).hostname
    if not host:
        raise BadInput(
            f"{supabase_url!r} is not a Supabase URL", fix="give https://<project ref>.supabase.co"
        )
    return f"sb-{host.split('.')[0]}-auth-token"


# -- making a session -----------------------------------------------------------------------


def session_for(
    settings: Settings, store: Store, user_id: UUID, email: str, password: str | None = None
) -> AuthSession:
    """A session for a test user: offline when the JWT secret is given, else through Supabase Auth's
    password grant with ``password`` (None: pitstop gives the user a new one first)."""
    supabase_url = need_supabase_url(settings)
    if settings.jwt_secret:
        database = store.database()
        if database is None:
            raise BadInput(
                "a session made with the JWT secret is written into auth.sessions: that needs the database",
                fix="give --database-url (DATABASE_URL), or the anon key (--supabase-anon-key, "
                "SUPABASE_ANON_KEY) to sign in through Supabase Auth instead",
            )
        check_secret(settings)

        def write(session_id: UUID, token: str) -> JSON | None:
            return database.open_auth_session(
                user_id, session_id=session_id, refresh_token=token, user_agent=USER_AGENT
            )

        return offline_session(write, secret=settings.jwt_secret, issuer=supabase_url + "/auth/v1", who=email)
    if settings.supabase_anon_key:
        if password is None:
            password = "".join(secrets.choice(ALPHANUMERIC) for _ in range(24))
            if not store.set_test_user_password(user_id, password):
                raise _not_a_test_user(email)
        return password_grant(supabase_url, settings.supabase_anon_key, email, password)
    raise BadInput(
        "signing in the Supabase way needs the project's JWT secret or its anon key",
        fix="give --jwt-secret (SUPABASE_JWT_SECRET; HS256 projects) or --supabase-anon-key "
        '(SUPABASE_ANON_KEY), or sign in on the login page ([tool.pitstop.auth] mode = "ui")',
    )


def need_supabase_url(settings: Settings) -> str:
    if not settings.supabase_url:
        raise BadInput(
            "signing in the Supabase way needs the project's URL: it names the session's cookie",
            fix="give --supabase-url (SUPABASE_URL), the URL the app's Supabase client is made with",
        )
    return settings.supabase_url.rstrip("/")


def check_secret(settings: Settings) -> None:
    """Refuse a secret that cannot sign the project's tokens: an asymmetric key, or one that
    does not verify the project's legacy (HS256) API keys where they are given."""
    import jwt  # PyJWT; imported here, as signing is

    secret = settings.jwt_secret or ""
    asymmetric = secret.lstrip().startswith(("-----BEGIN", "{"))
    for key in (settings.supabase_anon_key, settings.supabase_key):
        header = _jwt_header(key)
        if header is None:
            continue
        if header.get("alg") != "HS256":
            asymmetric = True
            continue
        try:
            jwt.decode(
                str(key), secret, algorithms=["HS256"], options={"verify_exp": False, "verify_aud": False}
            )
        except jwt.InvalidSignatureError:
            raise BadInput(
                "the JWT secret does not sign this project's API keys: it is another project's, or old",
                fix="give the project's JWT secret (Project Settings > API > JWT secret), or drop "
                "--jwt-secret and give --supabase-anon-key to sign in through Supabase Auth",
            ) from None
        except jwt.PyJWTError:
            continue
    if asymmetric:
        raise BadInput(
            "this project signs its tokens with an asymmetric key, which Supabase Auth keeps: "
            "pitstop cannot make its sessions offline",
            fix="give the anon key (--supabase-anon-key, SUPABASE_ANON_KEY) instead of --jwt-secret: "
            "sessions then come from Supabase Auth's password grant",
        )


def _jwt_header(token: str | None) -> dict[str, Any] | None:
    """The header of an API key that is a JWT (a legacy key); None for any other key."""
    import jwt

    try:
        return jwt.get_unverified_header(token) if token else None
    except jwt.DecodeError:
        return None


def _not_a_test_user(who: str) -> Refused:
    return Refused(
        f"refusing to sign {who} in: it is not a test user",
        fix="sign in a user pitstop made (an email in the test domain, marked pitstop in its metadata)",
    )


# Writes a new session's rows for its id and refresh token; the user (no secrets), or None.
SessionWriter = Callable[[UUID, str], JSON | None]


def offline_session(
    write: SessionWriter,
    *,
    secret: str,
    issuer: str,
    lifetime_s: int = ACCESS_TOKEN_S,
    now: float | None = None,
    who: str = "the user",
) -> AuthSession:
    """A password sign-in's session made here: ``write(session_id, refresh_token)`` writes its rows
    and returns the user (None: not a test user); the access token is signed with ``secret``."""
    import jwt  # PyJWT: only a run that signs in this way pays for its import

    session_id = uuid4()
    refresh_token = "".join(secrets.choice(ALPHANUMERIC) for _ in range(REFRESH_TOKEN_CHARS))
    user = write(session_id, refresh_token)
    if user is None:
        raise _not_a_test_user(who)
    issued = int(now if now is not None else time.time())
    expires = issued + lifetime_s
    # Supabase Auth's AccessTokenClaims, in its order: the registered claims, then its own.
    claims = {
        "iss": issuer,
        "sub": str(user["id"]),
        "aud": user.get("aud") or AUDIENCE,
        "exp": expires,
        "iat": issued,
        "email": user.get("email") or "",
        "phone": user.get("phone") or "",
        "app_metadata": user.get("raw_app_meta_data") or {},
        "user_metadata": user.get("raw_user_meta_data") or {},
        "role": user.get("role") or AUDIENCE,
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": issued}],
        "session_id": str(session_id),
        "is_anonymous": bool(user.get("is_anonymous")),
    }
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
    return AuthSession(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": lifetime_s,
            "expires_at": expires,
            "refresh_token": refresh_token,
            "user": _user_json(user, claims),
        }
    )


def _user_json(row: JSON, claims: JSON) -> JSON:
    """The user as Supabase Auth answers it (its ``User`` JSON), from the ``auth.users`` row."""
    return {
        "id": claims["sub"],
        "aud": claims["aud"],
        "role": claims["role"],
        "email": claims["email"],
        "email_confirmed_at": row.get("email_confirmed_at"),
        "phone": claims["phone"],
        "confirmed_at": row.get("confirmed_at") or row.get("email_confirmed_at"),
        "last_sign_in_at": row.get("last_sign_in_at"),
        "app_metadata": claims["app_metadata"],
        "user_metadata": claims["user_metadata"],
        "identities": [],
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
        "is_anonymous": claims["is_anonymous"],
    }


def password_grant(
    supabase_url: str, anon_key: str, email: str, password: str, *, timeout_s: float = GRANT_TIMEOUT_S
) -> AuthSession:
    """Supabase Auth's password grant: the session it answers, as supabase-js stores it."""
    import httpx  # only a run that signs in this way pays for its import

    url = f"{supabase_url.rstrip('/')}/auth/v1/token"
    try:
        response = httpx.post(
            url,
            params={"grant_type": "password"},
            json={"email": email, "password": password},
            headers={"apikey": anon_key, "Authorization": f"Bearer {anon_key}"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise Unreachable(f"Supabase Auth at {url} did not answer: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        said = body.get("msg") or body.get("error_description") or body.get("message") or response.text[:200]
        raise PitstopError(
            f"Supabase Auth refused to sign {email} in ({response.status_code}): {said}",
            fix="check --supabase-url and --supabase-anon-key, and that email sign-in is enabled",
        )
    body.pop("weak_password", None)  # supabase-js keeps it out of the stored session
    return AuthSession(body)


# -- where the app's library reads it ---------------------------------------------------


def ssr_cookies(
    session: AuthSession, key: str, *, domain: str, now: float | None = None
) -> list[dict[str, Any]]:
    """The cookies ``@supabase/ssr`` writes for ``session``, as Playwright's storage state holds them."""
    encoded = BASE64_PREFIX + base64.urlsafe_b64encode(session.to_json().encode()).rstrip(b"=").decode()
    # @supabase/ssr chunks by the URI-encoded length; base64url's characters need no escaping.
    chunks = [encoded[i : i + CHUNK_SIZE] for i in range(0, len(encoded), CHUNK_SIZE)]
    names = [key] if len(chunks) == 1 else [f"{key}.{i}" for i in range(len(chunks))]
    expires = int(now if now is not None else time.time()) + COOKIE_MAX_AGE_S
    return [
        {
            "name": name,
            "value": value,
            "domain": domain,
            "path": "/",
            "expires": expires,
            "httpOnly": False,
            "secure": False,
            "sameSite": "Lax",
        }
        for name, value in zip(names, chunks, strict=True)
    ]


def storage_state(
    session: AuthSession,
    *,
    supabase_url: str,
    app_url: str,
    cookie_domain: str | None = None,
    cookies: bool = True,
    local_storage: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """Playwright's storage state holding ``session`` where the libraries read it: @supabase/ssr's
    cookies (for ``cookie_domain``, else the app's host) and supabase-js's localStorage entry."""
    key = storage_key(supabase_url)
    parts = urlsplit(app_url)
    host = parts.hostname or ""
    return {
        "cookies": ssr_cookies(session, key, domain=cookie_domain or host, now=now) if cookies else [],
        "origins": [
            {
                "origin": f"{parts.scheme}://{parts.netloc}",
                "localStorage": [{"name": key, "value": session.to_json()}],
            }
        ]
        if local_storage
        else [],
    }
