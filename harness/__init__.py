"""pitstop: an end-to-end test harness for session-marketplace apps.

The cleanup rules live in SQL (``harness/sql``); stores carry them to a
target; the pytest plugin (``harness.plugin``) wires them into a test run.
"""

__version__ = "0.1.0"
