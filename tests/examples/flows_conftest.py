"""A team's conftest.py (copied in as conftest.py): a Flows subclass that records each step it is asked for.

Each public step of ``Flows`` is wrapped: it is written down with how deep in
other steps it was taken (0: by the scenario or a fixture), then done as the
default does. The steps are written to ``steps.json`` when the run ends.
"""

import json

import pytest

from harness import Flows

STEPS = []


class RecordingFlows(Flows):
    depth = 0


def _recorded(name):
    default = getattr(Flows, name)

    def step(self, *args, **kwargs):
        STEPS.append([name, self.depth])
        self.depth += 1
        try:
            return default(self, *args, **kwargs)
        finally:
            self.depth -= 1

    return step


for _name, _member in vars(Flows).items():
    if callable(_member) and not _name.startswith("_") and _name != "page":
        setattr(RecordingFlows, _name, _recorded(_name))


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return RecordingFlows


def pytest_sessionfinish(session):
    with open("steps.json", "w", encoding="utf-8") as out:
        json.dump(STEPS, out)
