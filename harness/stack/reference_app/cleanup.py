"""The app's own session cleanup rules (as the original app's ``sessionCleanup.ts``).

Same semantics as the harness's SQL functions, written here so that the app
depends on nothing of the harness: tests run the same states through both and
compare. Each verb runs in one transaction on the connection it is given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from harness.stack.reference_app.db import Conn, fetch_all, fetch_one

WAITING_MINUTES = 15
ORPHAN_MINUTES = 20
VERY_STALE_MINUTES = 60

JSON = dict[str, Any]


class CleanupError(Exception):
    status = 400


class UnknownTarget(CleanupError):
    status = 404


class NotTestUser(CleanupError):
    status = 403


class AlreadyEnded(CleanupError):
    status = 409


class BadArgument(CleanupError):
    status = 422


def _is_test_user(column: str) -> str:
    """SQL: whether the user in ``column`` carries both test marks (``%(domain)s`` is bound)."""
    return (
        "exists (select 1 from auth.users tu where tu.id = "
        + column
        + " and right(lower(tu.email), length(%(domain)s) + 1) = '@' || %(domain)s"
        " and tu.raw_user_meta_data ->> 'pitstop' = 'true')"
    )


def _check_minutes(name: str, minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise BadArgument(f"{name} must be a whole number of minutes >= 0, not {minutes}")


async def is_test_user(conn: Conn, user_id: UUID, domain: str) -> bool:
    row = await fetch_one(
        conn, f"select {_is_test_user('%(user)s')} as test", {"user": user_id, "domain": domain}
    )
    return bool(row and row["test"])


async def purge_user(conn: Conn, user_id: UUID, *, domain: str) -> tuple[JSON, list[str]]:
    """Delete a test user's session state; return the counts and the stored file paths it dropped."""
    params = {"user": user_id, "domain": domain}
    async with conn.transaction():
        if await fetch_one(conn, "select 1 from auth.users where id = %(user)s", params) is None:
            raise UnknownTarget(f"unknown user {user_id}")
        if not await is_test_user(conn, user_id, domain):
            raise NotTestUser(
                f"user {user_id} is not a test user; refusing to purge it "
                f"(a test user has an email ending in @{domain} and pitstop=true in its metadata)"
            )
        # Lock in id order so that concurrent purges and writers queue instead of deadlocking.
        rows = await fetch_all(
            conn,
            "select s.id from public.sessions s where s.customer_id = %(user)s"
            f" or (s.mechanic_id = %(user)s and {_is_test_user('s.customer_id')})"
            " order by s.id for update",
            params,
        )
        params["sessions"] = [row["id"] for row in rows]
        kept = await fetch_one(
            conn,
            "select count(*) as n from public.sessions s where s.mechanic_id = %(user)s"
            f" and not {_is_test_user('s.customer_id')}",
            params,
        )
        files = await fetch_all(
            conn,
            "delete from public.session_files where session_id = any(%(sessions)s) returning storage_path",
            params,
        )
        counts: JSON = {"user_id": str(user_id)}
        cur = await conn.execute(
            b"delete from public.chat_messages where session_id = any(%(sessions)s)", params
        )
        counts["chat_messages"] = cur.rowcount
        counts["session_files"] = len(files)
        cur = await conn.execute(
            b"delete from public.session_participants where session_id = any(%(sessions)s)", params
        )
        counts["session_participants"] = cur.rowcount
        cur = await conn.execute(
            (
                "delete from public.session_requests r where r.session_id = any(%(sessions)s)"
                " or (r.customer_id = %(user)s and not exists (select 1 from public.sessions s"
                f" where s.id = r.session_id and not {_is_test_user('s.customer_id')}))"
            ).encode(),
            params,
        )
        counts["session_requests"] = cur.rowcount
        cur = await conn.execute(b"delete from public.sessions where id = any(%(sessions)s)", params)
        counts["sessions"] = cur.rowcount
        counts["kept"] = kept["n"] if kept else 0
    return counts, [row["storage_path"] for row in files]


async def cleanup_stale(
    conn: Conn, *, waiting_minutes: int = WAITING_MINUTES, orphan_minutes: int = ORPHAN_MINUTES
) -> JSON:
    """Global, time-based, never deletes: expire old pending requests, cancel old waiting/pending
    sessions and the pending requests they still have."""
    _check_minutes("waiting_minutes", waiting_minutes)
    _check_minutes("orphan_minutes", orphan_minutes)
    params: dict[str, Any] = {"waiting": waiting_minutes, "orphan": orphan_minutes}
    async with conn.transaction():
        expired = await fetch_all(
            conn,
            "update public.session_requests set status = 'expired'"
            " where status = 'pending' and created_at < now() - make_interval(mins => %(waiting)s)"
            " returning session_id",
            params,
        )
        params["expired_sessions"] = [row["session_id"] for row in expired if row["session_id"] is not None]
        cancelled = await fetch_all(
            conn,
            "update public.sessions s set status = 'cancelled', ended_at = now()"
            " where s.status in ('pending', 'waiting')"
            " and (s.id = any(%(expired_sessions)s)"
            "      or s.created_at < now() - make_interval(mins => %(waiting)s)"
            "      or (s.created_at < now() - make_interval(mins => %(orphan)s)"
            "          and not exists (select 1 from public.session_requests r where r.session_id = s.id)))"
            " returning s.id, not exists (select 1 from public.session_requests r where r.session_id = s.id)"
            " as orphan",
            params,
        )
        # A cancelled session's pending request is no longer shown to mechanics.
        cur = await conn.execute(
            b"update public.session_requests set status = 'cancelled'"
            b" where session_id = any(%s) and status = 'pending'",
            ([row["id"] for row in cancelled],),
        )
    return {
        "requests_expired": len(expired),
        "requests_cancelled": cur.rowcount,
        "sessions_cancelled": len(cancelled),
        "orphans_cancelled": sum(1 for row in cancelled if row["orphan"]),
    }


async def force_cancel(conn: Conn, session_id: UUID) -> JSON:
    """Cancel one stuck (pending, waiting or live) session and its pending request."""
    async with conn.transaction():
        row = await fetch_one(
            conn, "select status from public.sessions where id = %s for update", (session_id,)
        )
        if row is None:
            raise UnknownTarget(f"unknown session {session_id}")
        if row["status"] in ("completed", "cancelled"):
            raise AlreadyEnded(f"session {session_id} has already ended ({row['status']}); nothing to cancel")
        await conn.execute(
            b"update public.sessions set status = 'cancelled', ended_at = now() where id = %s", (session_id,)
        )
        cur = await conn.execute(
            b"update public.session_requests set status = 'cancelled'"
            b" where session_id = %s and status = 'pending'",
            (session_id,),
        )
    return {
        "session_id": str(session_id),
        "previous_status": row["status"],
        "requests_cancelled": cur.rowcount,
    }


async def cancel_customer_stale(conn: Conn, customer_id: UUID, *, minutes: int = WAITING_MINUTES) -> int:
    """The cleanup point before a payment is fulfilled: the customer's old waiting/pending sessions.

    Runs inside the caller's transaction; returns how many sessions it cancelled.
    """
    _check_minutes("minutes", minutes)
    rows = await fetch_all(
        conn,
        "update public.sessions set status = 'cancelled', ended_at = now()"
        " where customer_id = %(customer)s and status in ('pending', 'waiting')"
        " and created_at < now() - make_interval(mins => %(minutes)s) returning id",
        {"customer": customer_id, "minutes": minutes},
    )
    cancelled = [row["id"] for row in rows]
    await conn.execute(
        b"update public.session_requests set status = 'cancelled'"
        b" where session_id = any(%s) and status = 'pending'",
        (cancelled,),
    )
    return len(cancelled)


async def active_session(conn: Conn, customer_id: UUID) -> dict[str, Any] | None:
    """The customer's newest pending, waiting or live session, which blocks a new payment."""
    return await fetch_one(
        conn,
        "select id, status, created_at from public.sessions"
        " where customer_id = %s and status in ('pending', 'waiting', 'live')"
        " order by created_at desc limit 1",
        (customer_id,),
    )


_HEALTH_QUERY = """
with s as (
    select
        count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'pending' and created_at < now() - make_interval(mins => %(stale)s))
            as pending_stale,
        count(*) filter (where status = 'pending' and created_at < now() - make_interval(mins => %(very)s))
            as pending_very,
        count(*) filter (where status = 'waiting') as waiting,
        count(*) filter (where status = 'waiting' and created_at < now() - make_interval(mins => %(stale)s))
            as waiting_stale,
        count(*) filter (where status = 'waiting' and created_at < now() - make_interval(mins => %(very)s))
            as waiting_very,
        count(*) filter (where status = 'live') as live,
        count(*) filter (where status = 'completed') as completed,
        count(*) filter (where status = 'cancelled') as cancelled,
        count(*) filter (where status = 'live' and mechanic_id is null) as live_alone
    from public.sessions
), r as (
    select
        count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'pending' and created_at < now() - make_interval(mins => %(stale)s))
            as pending_stale,
        count(*) filter (where status = 'accepted') as accepted,
        count(*) filter (where status = 'expired') as expired,
        count(*) filter (where status = 'cancelled') as cancelled
    from public.session_requests
)
select now() as checked_at, s.*,
    r.pending as r_pending, r.pending_stale as r_pending_stale, r.accepted as r_accepted,
    r.expired as r_expired, r.cancelled as r_cancelled,
    (select count(*) from public.sessions o where o.status in ('pending', 'waiting')
        and not exists (select 1 from public.session_requests x where x.session_id = o.id)) as orphans
from s, r
"""


async def health(
    conn: Conn, *, stale_minutes: int = WAITING_MINUTES, very_stale_minutes: int = VERY_STALE_MINUTES
) -> JSON:
    """Counts by status, stale state and a list of problems; the shape of the harness's health report."""
    _check_minutes("stale_minutes", stale_minutes)
    _check_minutes("very_stale_minutes", very_stale_minutes)
    if very_stale_minutes < stale_minutes:
        raise BadArgument(
            f"very_stale_minutes ({very_stale_minutes}) must be >= stale_minutes ({stale_minutes})"
        )
    row = await fetch_one(conn, _HEALTH_QUERY, {"stale": stale_minutes, "very": very_stale_minutes})
    assert row is not None
    stale = row["pending_stale"] + row["waiting_stale"]
    very_stale = row["pending_very"] + row["waiting_very"]
    problems: list[JSON] = []

    def problem(code: str, count: int, message: str) -> None:
        if count > 0:
            problems.append({"code": code, "count": count, "message": message})

    problem(
        "stale_waiting",
        stale,
        f"{stale} waiting/pending sessions older than {stale_minutes} minutes block new payments;"
        " run the stale cleanup",
    )
    problem(
        "very_stale_waiting",
        very_stale,
        f"{very_stale} waiting/pending sessions older than {very_stale_minutes} minutes:"
        " no stale cleanup has run for a long time",
    )
    problem(
        "stale_pending_requests",
        row["r_pending_stale"],
        f"{row['r_pending_stale']} pending requests older than {stale_minutes} minutes are still shown"
        " to mechanics; run the stale cleanup",
    )
    problem(
        "orphaned_sessions",
        row["orphans"],
        f"{row['orphans']} waiting/pending sessions have no request, so no mechanic can accept them",
    )
    problem(
        "live_without_mechanic",
        row["live_alone"],
        f"{row['live_alone']} live sessions have no mechanic; force-cancel them",
    )
    checked_at: datetime = row["checked_at"]
    return {
        "checked_at": checked_at.isoformat(),
        "sessions": {
            "pending": {
                "total": row["pending"],
                "stale": row["pending_stale"],
                "veryStale": row["pending_very"],
            },
            "waiting": {
                "total": row["waiting"],
                "stale": row["waiting_stale"],
                "veryStale": row["waiting_very"],
            },
            "live": {"total": row["live"]},
            "completed": {"total": row["completed"]},
            "cancelled": {"total": row["cancelled"]},
        },
        "requests": {
            "pending": {"total": row["r_pending"], "stale": row["r_pending_stale"]},
            "accepted": {"total": row["r_accepted"]},
            "expired": {"total": row["r_expired"]},
            "cancelled": {"total": row["r_cancelled"]},
        },
        "orphans": row["orphans"],
        "problems": problems,
    }
