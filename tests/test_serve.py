"""``pitstop serve`` prints the sign-in pages of the reference app's UI it serves (``PITSTOP_APP_UI``)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.stack.reference_app.ui import CLASSIC, UIS

WAIT_S = 60


@pytest.mark.usefixtures("no_target_environment")
def test_serve_prints_the_sign_in_pages_of_the_second_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pitstop.toml"
    config.write_text('[tool.pitstop.payments]\nkind = "checkout_session"\n', encoding="utf-8")
    monkeypatch.setenv("PITSTOP_APP_UI", "second")
    ui = UIS["second"]
    serve = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None
        people, app_url, deadline = [], "", time.monotonic() + WAIT_S
        for line in serve.stderr:
            assert time.monotonic() < deadline, "the stack did not get ready"
            if "Ctrl-C to stop" in line:
                break
            if "stack ready, app at" in line:
                app_url = line.split("app at ", 1)[1].split(";")[0]
            elif line.startswith("  "):
                people.append(line.split())
        assert [p[0] for p in people] == ["customer", "mechanic", "admin"], people
        for role, email, password, login_url in people:
            assert login_url == f"{app_url}{ui.login(role)}"
            assert ui.login(role) != CLASSIC.login(role)  # the classic page is not served here
            assert httpx.get(f"{app_url}{CLASSIC.login(role)}", timeout=WAIT_S).status_code == 404
            assert httpx.get(login_url, timeout=WAIT_S).status_code == 200
            answer = httpx.post(login_url, data={"email": email, "password": password}, timeout=WAIT_S)
            assert answer.status_code == 303, (role, answer.text[-300:])
            assert answer.headers["location"] == ui.home(role)
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=WAIT_S)
    assert serve.returncode == 0, err
