"""Test users: deterministic, tagged, with a password a real login accepts."""

from __future__ import annotations

import os

import bcrypt

from harness.engine.identity import new_run_id
from harness.engine.personas import Personas
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder


def test_the_same_seed_gives_the_same_users() -> None:
    one = Personas(run_id="r1", worker_id="gw0", seed=7)
    two = Personas(run_id="r1", worker_id="gw0", seed=7)
    (a, pa), (b, pb) = one.build("customer", "customer"), two.build("customer", "customer")
    assert (a["full_name"], pa) == (b["full_name"], pb)
    assert one.build("mechanic", "mechanic")[0]["full_name"] != a["full_name"]
    assert Personas(run_id="r1", seed=8).build("customer", "customer")[1] != pa


def test_users_carry_the_test_marks_and_run_tags() -> None:
    user, password = Personas(run_id="r42", worker_id="gw1", test_domain="qa.test").build(
        "mechanic", "mechanic"
    )
    assert user["email"] == "mechanic-gw1-r42@qa.test"
    meta = user["metadata"]
    assert meta["pitstop"] is True
    assert (meta["run"], meta["worker"], meta["pid"], meta["role"]) == ("r42", "gw1", os.getpid(), "mechanic")
    assert user["role"] == "mechanic"
    # Stored the way Supabase Auth stores it: bcrypt, $2a$ (cost 4: Supabase Auth reads the cost).
    assert user["password_hash"].startswith("$2a$04$")
    assert bcrypt.checkpw(password.encode(), user["password_hash"].encode())
    assert len(password) >= 12


def test_run_ids_are_unique_and_short() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) <= 14 and i.isalnum() for i in ids)  # 8 hex digits of time, 6 of chance


def test_created_users_are_test_users_and_creation_is_repeatable(store: PostgresStore, seed: Seeder) -> None:
    personas = Personas(run_id=new_run_id(), worker_id="gw0")
    customer = personas.create(store, "customer", "customer")
    again = personas.create(store, "customer", "customer")
    assert again.id == customer.id
    assert seed.count("auth.users") == 1
    assert store.find_user(customer.email.upper()) == customer.id
    row = store.connection.execute(
        "select p.role, p.full_name, u.encrypted_password from public.profiles p"
        " join auth.users u using (id) where id = %s",
        (customer.id,),
    ).fetchone()
    assert row is not None and row[0] == "customer" and row[1] == customer.name
    assert bcrypt.checkpw(customer.password.encode(), row[2].encode())
    seed.full_session(customer.id)
    assert store.purge_user(customer.id)["sessions"] == 1  # the rules see both marks
    assert store.delete_test_user(customer.id)["users"] == 1
