"""Webhooks as an integrator meets them: requests through gunicorn, deliveries by the real worker
(`manage.py worker`), a real receiver on a loopback port checking every signature with the
Standard Webhooks reference library. And the worker killed mid-delivery."""

import time

import pytest
import requests

from deploy.check.webhook_receiver import WebhookReceiver, verified
from focusflow.webhooks.services import EVENTS
from users.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PRIVATE = {"WEBHOOK_ALLOW_PRIVATE_URLS": "1"}


@pytest.fixture(scope="module")
def web(start_live_server):
    return start_live_server(workers=2, **PRIVATE)


@pytest.fixture
def receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


class Api:
    def __init__(self, server, email: str) -> None:
        UserFactory(email=email)
        self.url = server.url
        tokens = requests.post(
            f"{server.url}/api/users/login/", json={"email": email, "password": PASSWORD}, timeout=10
        ).json()
        self.headers = {"Authorization": f"Bearer {tokens['access']}"}

    def __call__(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", json=body, headers=self.headers, timeout=10)


def until(check, *, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("not within the time")


def hook_at(api: Api, receiver: WebhookReceiver, events=EVENTS) -> dict:
    made = api("POST", "/api/webhooks/", {"url": receiver.url(), "events": list(events)})
    assert made.status_code == 201, made.text
    made = made.json()
    until(lambda: api("GET", f"/api/webhooks/{made['id']}/").json()["status"] == "active")
    return made


def test_every_event_arrives_signed_through_a_running_worker_and_a_500_is_retried_with_the_same_id(
    web, start_worker, receiver
):
    start_worker(**PRIVATE)
    api = Api(web, "alice@example.com")
    made = hook_at(api, receiver)
    (ping,) = receiver.of_type("ping")
    assert verified(ping, made["secret"])["data"]["webhook"] == made["id"]

    receiver.answer(500)  # the first event fails once
    committed = time.monotonic()
    started = api("POST", "/api/sessions/start/").json()
    api("POST", "/api/sessions/pause/")
    api("POST", "/api/sessions/resume/")
    api("POST", "/api/sessions/stop/")
    logged = api(
        "POST", "/api/sessions/", {"start_time": "2026-11-01T09:00:00Z", "end_time": "2026-11-01T09:30:00Z"}
    )
    api("PATCH", f"/api/sessions/{logged.json()['id']}/", {"label": "Reading"})
    api("DELETE", f"/api/sessions/{logged.json()['id']}/")
    journal = api("POST", "/api/journals/create/", {"content": "Quiet morning, no phone."}).json()
    api("PATCH", f"/api/journals/{journal['id']}/", {"content": "Quiet morning."})
    api("DELETE", f"/api/journals/{journal['id']}/")

    first, retried = receiver.wait_for("session.started", count=2, timeout=30)
    assert first.id == retried.id and first.body == retried.body
    # The schedule's 5 s with its 10% jitter, plus at most the worker's 1 s poll (and slack).
    assert 3 < retried.at - first.at < 8.5
    assert first.at - committed < 5  # within 5 seconds of the commit
    for kind in EVENTS:
        receiver.wait_for(kind)
    events = {received.id: verified(received, made["secret"]) for received in receiver.received}
    assert sorted({event["type"] for event in events.values()}) == sorted([*EVENTS, "ping"])
    assert len(events) == len(EVENTS) + 1  # one webhook-id per event, whatever the attempts
    assert next(e for e in events.values() if e["type"] == "session.started")["data"]["id"] == started["id"]
    assert all(b"Quiet morning" not in received.body for received in receiver.received)

    log = api("GET", f"/api/webhooks/{made['id']}/deliveries/?page_size=100").json()["results"]
    failed = [row for row in log if row["error"]]
    assert [(row["type"], row["status_code"], row["attempt"]) for row in failed] == [
        ("session.started", 500, 1)
    ]


def test_a_redirect_is_not_followed_and_a_410_disables_the_webhook(web, start_worker, receiver):
    start_worker(**PRIVATE)
    api = Api(web, "bob@example.com")
    made = hook_at(api, receiver, events=["session.started", "session.stopped"])
    receiver.answer(302, headers={"Location": receiver.url("/stolen")})
    api("POST", "/api/sessions/start/")
    receiver.wait_for("session.started")
    time.sleep(1)
    assert receiver.of_type("session.started", path="/stolen") == []
    row = until(lambda: api("GET", f"/api/webhooks/{made['id']}/deliveries/").json()["results"])[0]
    assert (row["type"], row["status_code"], row["error"]) == ("session.started", 302, "http_status")

    receiver.answers.clear()
    receiver.answer(410)
    api("POST", "/api/sessions/stop/")
    receiver.wait_for("session.stopped")
    shown = until(
        lambda: (s := api("GET", f"/api/webhooks/{made['id']}/").json())["status"] == "disabled" and s
    )
    assert shown["disabled_reason"] == "gone"


def test_a_worker_killed_mid_delivery_delivers_the_event_after_restart_with_the_same_id(
    web, start_worker, receiver
):
    worker = start_worker(**PRIVATE)
    api = Api(web, "carol@example.com")
    made = hook_at(api, receiver, events=["session.started"])
    receiver.hold_next()
    api("POST", "/api/sessions/start/")
    assert receiver.holding.wait(timeout=30), "the worker never started delivering"
    worker.kill()  # mid-request: no answer was ever read

    start_worker(**PRIVATE)
    (delivered,) = receiver.wait_for("session.started", timeout=90)
    (held,) = receiver.held
    assert delivered.id == held.id and delivered.body == held.body
    verified(delivered, made["secret"])
    time.sleep(2)
    assert len(receiver.of_type("session.started")) == 1
