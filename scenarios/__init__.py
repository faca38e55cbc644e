"""The shipped scenarios (installed as ``harness.scenarios``): page objects, flows, tests."""
