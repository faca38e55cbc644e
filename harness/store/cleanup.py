"""The cleanup verbs over any store, behind the safety guard.

A ``Cleanup`` cannot be made for a target the guard refuses, so whatever
holds one may write. Reads (health) need no ``Cleanup``: use ``open_store``,
which guards the hosts as well but not the Stripe key.
"""

from __future__ import annotations

import time
from uuid import UUID

from harness.config.settings import Settings
from harness.errors import BadInput
from harness.json_types import JSON
from harness.store import Store, open_store
from harness.store.closing import Closing
from harness.store.safety import check_endpoint, check_stripe_key


class Cleanup(Closing):
    """Purge, cancel and force-cancel through ``store``, timing every reset.

    Making one checks the endpoint the store actually reached; ``Cleanup.open``
    also checks the target before connecting at all.
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        check_stripe_key(settings.stripe_secret_key)
        check_endpoint(store.endpoint, settings.allowed_hosts, what=f"{store.name} target")
        self.store = store
        self.reset_ms: list[float] = []

    @classmethod
    def open(cls, settings: Settings) -> Cleanup:
        """Guard, connect, guard again: the way to get a store that may be written to.

        Besides the store's host (``open_store``), the app's is checked: the
        app under test is a target too, whichever store writes.
        """
        check_stripe_key(settings.stripe_secret_key)
        store = open_store(settings, with_app=True)
        try:
            return cls(store, settings)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.store.close()

    def resolve_user(self, ref: str) -> UUID:
        """A user id from a uuid or an email; unknown users are bad input."""
        ref = ref.strip()
        if "@" not in ref:
            return parse_uuid(ref, what="user")
        user_id = self.store.find_user(ref)
        if user_id is None:
            raise BadInput(f"no user with email {ref}", fix="check the email, or pass the user's uuid")
        return user_id

    def reset_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON:
        """Purge one test user's session state (or, with ``dry_run``, count what would go)."""
        started = time.perf_counter()
        counts = self.store.purge_user(user_id, dry_run=dry_run)
        if not dry_run:
            self.reset_ms.append((time.perf_counter() - started) * 1000)
        return counts

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON:
        return self.store.cleanup_stale(
            waiting_minutes=waiting_minutes, orphan_minutes=orphan_minutes, dry_run=dry_run
        )

    def force_cancel(self, session_id: UUID) -> JSON:
        return self.store.force_cancel(session_id)


def parse_uuid(text: str, *, what: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise BadInput(f"{text!r} is not a {what} id", fix=f"give the {what}'s uuid, e.g. 7d9f…-…") from None
