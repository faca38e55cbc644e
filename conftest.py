"""Repository-level test configuration."""

from hypothesis import HealthCheck, settings

# Database round trips vary on a shared machine: no per-example deadline.
settings.register_profile(
    "pitstop", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("pitstop")
