"""Repository-level test configuration."""

from hypothesis import HealthCheck, settings

# Every run ends with a check that no process it started is still alive (tests/leftovers.py).
pytest_plugins = ["tests.leftovers"]

# Database round trips vary on a shared machine: no per-example deadline.
settings.register_profile(
    "pitstop", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("pitstop")
