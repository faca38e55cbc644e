"""The app contract reaches the run: [tool.pitstop] and ini keys over the reference app's defaults."""

import os

import pytest

from harness.plugin.stash_keys import STATE


def test_the_contract(request: pytest.FixtureRequest) -> None:
    contract = request.config.stash[STATE].config.contract
    assert contract.customer_login_path == os.environ["EXPECT_CUSTOMER_LOGIN"]
    assert contract.mechanic_login_path == os.environ["EXPECT_MECHANIC_LOGIN"]
    assert contract.test_id_attribute == os.environ["EXPECT_TEST_ID"]
