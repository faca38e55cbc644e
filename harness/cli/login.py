"""``pitstop login``: a test user's Supabase session as a Playwright storage-state file.

The file holds the session where both of Supabase's client libraries read it: the
cookies ``@supabase/ssr`` writes and supabase-js's localStorage entry
(``harness.engine.signin``), so that a Playwright Test suite in Node
(``test.use({ storageState })``), pytest-playwright (``new_context(storage_state=…)``)
or a person's browser starts signed in as the user.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from harness.cli.target import settings_of
from harness.engine import signin
from harness.errors import BadInput, ExitCode
from harness.store.cleanup import Cleanup

HELP = "write a test user's Supabase session as a Playwright storage-state file (cookies and localStorage)"


def cmd_login(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    email = args.user.strip()
    if "@" not in email:
        raise BadInput(f"--user {email!r} is not an email", fix="give the test user's email: --user EMAIL")
    if not settings.app_url:
        raise BadInput(
            "the storage state is for the app: its URL gives the cookies' domain and the localStorage origin",
            fix="give --app-url (PITSTOP_APP_URL), e.g. http://localhost:3000",
        )
    supabase_url = signin.need_supabase_url(settings)
    path = Path(args.storage_state)
    if not path.parent.is_dir():
        raise BadInput(f"no folder {path.parent} for {path}", fix="give a path in an existing folder")
    with Cleanup.open(settings) as cleanup:  # it writes (a session, or a new password): guarded
        user_id = cleanup.resolve_user(email)
        session = signin.session_for(settings, cleanup.store, user_id, email)
    state = signin.storage_state(
        session,
        supabase_url=supabase_url,
        app_url=settings.app_url,
        cookie_domain=settings.auth.cookie_domain,
    )
    # The file holds the user's tokens: readable by its owner only, and never seen half-written.
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(state, out, indent=2)
    partial.replace(path)
    cookies = [cookie["name"] for cookie in state["cookies"]]
    origin = state["origins"][0]["origin"]
    how = "made offline with the JWT secret" if settings.jwt_secret else "from Supabase Auth's password grant"
    if args.json:
        print(
            json.dumps(
                {
                    "user": email,
                    "user_id": str(user_id),
                    "storage_state": str(path),
                    "cookie": signin.storage_key(supabase_url),
                    "cookies": cookies,
                    "origin": origin,
                    "session": "offline" if settings.jwt_secret else "password_grant",
                    "expires_at": session.data["expires_at"],
                }
            )
        )
        return ExitCode.OK
    print(f"signed in {email} ({user_id}), session {how}; wrote {path}")
    print(
        f"cookie {signin.storage_key(supabase_url)}"
        + (f" in {len(cookies)} chunks" if len(cookies) > 1 else "")
    )
    print(f"localStorage {signin.storage_key(supabase_url)} at {origin}")
    return ExitCode.OK
