"""Repository-level test configuration (kept light: every pytest run in the repository loads it)."""

# Every run ends with a check that no process it started is still alive (tests/leftovers.py).
pytest_plugins = ["tests.leftovers"]
