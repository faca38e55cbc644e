"""The throwaway PostgreSQL: up on 127.0.0.1, gone without a trace."""

from __future__ import annotations

import psycopg
import pytest

from harness.errors import PitstopError
from harness.stack import processes
from harness.stack.postgres import LocalPostgres


def test_starts_on_loopback_and_stops_without_a_trace() -> None:
    with LocalPostgres() as pg:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            assert conn.info.hostaddr == "127.0.0.1" and conn.info.port == pg.port
            assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)
            assert conn.execute("show fsync").fetchone() == ("off",)
        directory = pg.data_dir.parent
        assert pg.pid is not None
        postmaster = processes.entry(pg.pid)
        assert postmaster is not None and processes.alive(postmaster)
    assert not processes.alive(postmaster)  # gone, not merely a zombie nobody has reaped yet
    assert not directory.exists()


def test_restart_keeps_the_data() -> None:
    with LocalPostgres() as pg:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("create table kept (n int); insert into kept values (7)")
        pg.pg_ctl("restart")
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            assert conn.execute("select n from kept").fetchone() == (7,)


def test_stop_is_safe_twice_and_before_start() -> None:
    pg = LocalPostgres()
    pg.stop()
    pg.start()
    pg.stop()
    pg.stop()


def test_a_server_pg_ctl_cannot_stop_is_ended_by_its_pid_with_its_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pg = LocalPostgres().start()
    pid = pg.pid
    assert pid is not None
    postmaster = processes.entry(pid)
    children = processes.descendants(pid)
    assert children  # checkpointer, background writer, ...

    def stuck(action: str) -> None:
        raise PitstopError(f"pg_ctl {action} timed out")

    monkeypatch.setattr(pg, "pg_ctl", stuck)
    pg.stop()
    assert not any(processes.alive(p) for p in [postmaster, *children] if p is not None)
