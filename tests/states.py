"""Generated app states for the property and differential tests: users of every kind, sessions
in every status and age, requests in every status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

SESSION_STATUSES = ["pending", "waiting", "live", "completed", "cancelled"]
REQUEST_STATUSES = [None, "pending", "accepted", "expired", "cancelled"]
# Both test marks, neither, or only one of them.
USER_KINDS = ["test", "test", "real", "email_only", "metadata_only"]


@dataclass(frozen=True)
class SessionSpec:
    customer: int  # index into the users
    mechanic: int | None
    status: str
    age: float  # minutes
    request: str | None
    request_age: float
    children: bool


def sessions(users: int, ages: Sequence[float]) -> st.SearchStrategy[SessionSpec]:
    """Sessions among ``users`` users, aged from ``ages`` (chosen clear of the thresholds under test)."""
    index = st.integers(0, users - 1)
    return st.builds(
        SessionSpec,
        customer=index,
        mechanic=st.none() | index,
        status=st.sampled_from(SESSION_STATUSES),
        age=st.sampled_from(ages),
        request=st.sampled_from(REQUEST_STATUSES),
        request_age=st.sampled_from(ages),
        children=st.booleans(),
    )
