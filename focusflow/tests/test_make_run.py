"""`make run`, the README's first command: the API and its live streams from one process, and,
beside it, the worker that prints every email to the console. On the test database
(DATABASE_URL set, so no embedded PostgreSQL)."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from deploy.check.procs import free_port
from focusflow.testing import EventStream, bearer, mailed_code, mailed_token
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


class Console:
    """What a process prints, as it prints it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process) -> None:
        for line in process.stdout:
            self.text += line

    def wait_for(self, needle: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < deadline, (
                f"{needle!r} not printed within {timeout} s:\n{self.text[-3000:]}"
            )
            time.sleep(0.1)


def test_make_run_serves_the_api_and_live_events_and_its_worker_prints_a_reset_email(live_server_env):
    port = free_port()
    env = {**live_server_env, "DJANGO_DEBUG": "1", "DJANGO_LOG_LEVEL": "INFO"}
    env.pop("EMAIL_URL", None)
    env.pop("REDIS_URL", None)  # a local run: the pokes stay in the one process
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"RUN_ADDRESS=127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    console = Console(make)
    try:
        console.wait_for("Starting worker", timeout=120)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, console.text[-3000:]
            time.sleep(0.2)

        user = UserFactory(email="gale@example.com")
        api = f"http://127.0.0.1:{port}/api"
        stream = EventStream(f"{api}/events/", headers={"Authorization": bearer(user)})
        assert stream.status_code == 200, stream.response.text
        assert stream.next(timeout=10)["event"] == "ready"
        started = requests.post(f"{api}/sessions/start/", headers={"Authorization": bearer(user)}, json={})
        assert started.status_code == 201
        assert stream.next(timeout=2)["data"]["id"] == started.json()["id"]
        stream.close()

        reset = f"http://127.0.0.1:{port}/api/users/password/reset/"
        response = requests.post(reset, json={"email": user.email})
        assert response.status_code == 202
        console.wait_for("Subject: Reset your FocusFlow password", timeout=30)
        console.wait_for("-- \n", timeout=10)
        printed = console.text[console.text.index("Subject: Reset your FocusFlow password") :]
        assert "http://127.0.0.1:8000/reset-password?token=" + mailed_token(printed) in printed
        assert mailed_code(printed)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        assert make.wait(timeout=60) is not None
