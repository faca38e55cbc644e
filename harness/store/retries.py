"""When a rule runs again: the server ended its transaction for a deadlock or a serialization
failure (another run's statement on the same rows), so it changed nothing, and running it again is
safe. Every store that reaches the rules retries the same way."""

from __future__ import annotations

import random
import time

RETRIES = 3  # how often a rule is run again
RETRIED = ("40P01", "40001")  # deadlock_detected, serialization_failure


def pause(attempt: int) -> None:
    """A short random wait before attempt ``attempt + 1``, longer each time, so that the
    transactions that met do not meet again."""
    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
