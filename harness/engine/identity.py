"""Who takes part in a run, by name: the roles, the test users a test can ask for, the run's id.

Light on purpose (no Faker, no bcrypt): the plugin's fixtures read it in every test, used or not.
"""

from __future__ import annotations

import secrets
import time
from typing import Literal

Role = Literal["customer", "mechanic", "admin"]
ROLES: tuple[Role, ...] = ("customer", "mechanic", "admin")

# The test users a test can ask for, by fixture name, and the role each plays.
PERSONAS: dict[str, Role] = {"customer": "customer", "mechanic": "mechanic", "second_mechanic": "mechanic"}


def new_run_id() -> str:
    """A short id, unique per run and sortable by start time.

    Three random bytes: runs started in the same second collide once in ~16 million pairs.
    """
    return f"{int(time.time()):x}{secrets.token_hex(3)}"
