"""The shipped full-flow scenario, collected here, where a conftest.py overrides ``pitstop_flows_class``."""

from harness.scenarios.test_full_flow import (  # noqa: F401 (collected as this module's test)
    test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it,
)
