"""pitstop: an end-to-end test harness for session-marketplace apps.

The cleanup rules live in SQL (``harness.rules``); stores carry them to a
target (``harness.store``); the pytest plugin (``harness.plugin``) wires them into a test run.
"""

from harness.version import __version__

__all__ = ["__version__"]
