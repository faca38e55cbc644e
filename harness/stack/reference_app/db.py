"""The database pool. Connections are autocommit; multi-statement work opens ``conn.transaction()``."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Conn = AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Conn]


def create_pool(database_url: str, *, max_size: int = 10) -> Pool:
    """An unopened pool; the app's lifespan opens and closes it."""
    kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
    return AsyncConnectionPool(
        conninfo=database_url,
        min_size=1,
        max_size=max_size,
        kwargs=kwargs,
        open=False,
        name="reference-app",
        # A database restart leaves the idle connections dead: check each one lent out.
        check=AsyncConnectionPool.check_connection,
    )


async def fetch_one(conn: Conn, query: str, params: Any = None) -> dict[str, Any] | None:
    cur = await conn.execute(query.encode(), params)
    return await cur.fetchone()


async def fetch_all(conn: Conn, query: str, params: Any = None) -> list[dict[str, Any]]:
    cur = await conn.execute(query.encode(), params)
    return await cur.fetchall()
