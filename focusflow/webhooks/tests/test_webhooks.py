"""Webhooks (contract: "Webhooks (v1.2)"): managed over the API, told of every change in the
change's own transaction, delivered signed to a real receiver on a loopback port, retried,
logged, disabled when the receiver says so. Deliveries here are run in the test's process, one
due job at a time (`deliver_due`); the worker's own tests are in test_live.py."""

import base64
import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from deploy.check.webhook_receiver import verified
from focusflow.testing import T0, frozen, run_queued_jobs
from focusflow.webhooks import services, transport
from focusflow.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from users.personal_tokens import personal_token_create
from users.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOOKS = "/api/webhooks/"
ALL = list(services.EVENTS)


def deliver_due(*, at=None) -> int:
    """Run the delivery jobs that are due (now, or at `at`), as the worker would; how many ran."""
    jobs = ProcrastinateJob.objects.filter(status="todo", task_name="webhooks.deliver").order_by("id")
    ran = 0
    for job in jobs.values("id", "args", "scheduled_at"):
        if job["scheduled_at"] is not None and job["scheduled_at"] > (at or job["scheduled_at"]):
            continue
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job["id"]])
        app.tasks["webhooks.deliver"].func(**job["args"])
        ran += 1
    return ran


def scheduled() -> list:
    return list(
        ProcrastinateJob.objects.filter(status="todo", task_name="webhooks.deliver").values_list(
            "scheduled_at", flat=True
        )
    )


def create(client, url, events=ALL, **body) -> dict:
    response = client.post(HOOKS, {"url": url, "events": events, **body})
    assert response.status_code == 201, response.content
    return response.json()


def active_hook(client, receiver, events=ALL) -> dict:
    """A webhook at the receiver, validated by its answer to the ping."""
    made = create(client, receiver.url(), events)
    deliver_due()
    assert client.get(f"{HOOKS}{made['id']}/").json()["status"] == "active"
    return made


# --- Managing ------------------------------------------------------------------------------


def test_a_new_webhook_is_pending_with_a_secret_shown_once_and_kept_encrypted(
    private, alice_client, receiver
):
    made = create(alice_client, receiver.url(), ["session.started", "session.started", "journal.deleted"])
    assert made["status"] == "pending" and made["disabled_reason"] is None
    assert made["events"] == ["session.started", "journal.deleted"]  # each once, in the contract's order
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", made["secret"])
    assert len(base64.b64decode(made["secret"][6:])) == 32
    shown = alice_client.get(f"{HOOKS}{made['id']}/").json()
    assert "secret" not in shown and shown == {k: v for k, v in made.items() if k != "secret"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(w)::text FROM webhooks_webhook w")
        assert made["secret"][6:20] not in cursor.fetchone()[0]
    assert [job["task_name"] for job in queued()] == ["webhooks.deliver", "webhooks.send_created"]


def queued() -> list[dict]:
    return list(ProcrastinateJob.objects.filter(status="todo").order_by("id").values("task_name", "args"))


def test_the_ping_validates_a_receiver_that_answers_its_code(private, alice_client, receiver):
    made = create(alice_client, receiver.url())
    deliver_due()
    (ping,) = receiver.of_type("ping")
    event = verified(ping, made["secret"])
    assert event["data"]["webhook"] == made["id"] and event["data"]["validation_code"]
    assert alice_client.get(f"{HOOKS}{made['id']}/").json()["status"] == "active"


def test_an_owner_validates_with_the_code_and_five_wrong_codes_void_it(private, alice_client, receiver):
    receiver.validating = False
    made = create(alice_client, receiver.url())
    deliver_due()
    code = receiver.of_type("ping")[0].json()["data"]["validation_code"]
    assert alice_client.get(f"{HOOKS}{made['id']}/").json()["status"] == "pending"
    for _ in range(5):
        wrong = alice_client.post(f"{HOOKS}{made['id']}/validate/", {"validation_code": "nope"})
        assert wrong.status_code == 400 and wrong.json()["code"] == "validation_invalid"
    late = alice_client.post(f"{HOOKS}{made['id']}/validate/", {"validation_code": code})
    assert late.status_code == 400  # only a new ping helps now
    assert alice_client.post(f"{HOOKS}{made['id']}/ping/").status_code == 202
    deliver_due()
    fresh = receiver.of_type("ping")[-1].json()["data"]["validation_code"]
    response = alice_client.post(f"{HOOKS}{made['id']}/validate/", {"validation_code": fresh})
    assert response.status_code == 200 and response.json()["status"] == "active"


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.1/",
        "https://172.16.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a00:1]/",
        "https://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "https://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://224.0.0.1/",
        "https://localhost/",
        "https://localhost.:8443/",
        "https://user:pw@93.184.216.34/",
        "https://93.184.216.34:99999/",
        "https://no-such-host.invalid/",
        "ftp://93.184.216.34/",
        "https:///nohost",
        "https://93.184.216.34/\x00",
        "https://exämple.com/",
        "not a url",
    ],
)
def test_a_url_that_is_not_https_to_a_public_host_is_refused_with_one_message(alice_client, url):
    response = alice_client.post(HOOKS, {"url": url, "events": ALL})
    assert response.status_code == 400
    assert response.json() == {"url": [services.REFUSED_URL]}
    assert not Webhook.objects.exists()


def test_a_public_address_is_accepted(alice_client):
    made = create(alice_client, "https://93.184.216.34/hooks/focus", ["session.stopped"])
    assert made["url"] == "https://93.184.216.34/hooks/focus"  # (its ping is never sent here)


@pytest.mark.parametrize(
    "events",
    [[], ["ping"], ["session.*"], ["session.started", "sessions.started"], "session.started", [["x"]]],
)
def test_events_must_be_a_list_of_known_names(alice_client, events):
    response = alice_client.post(HOOKS, {"url": "https://93.184.216.34/", "events": events})
    assert response.status_code == 400 and "events" in response.json()


def test_at_most_ten_webhooks(alice_client):
    for _ in range(services.MAX_WEBHOOKS):
        create(alice_client, "https://93.184.216.34/", ["session.started"])
    response = alice_client.post(HOOKS, {"url": "https://93.184.216.34/", "events": ["session.started"]})
    assert response.status_code == 409 and response.json()["code"] == "webhook_limit_reached"


def test_bob_cannot_see_or_touch_alices_webhooks(alice_client, bob_client):
    made = create(alice_client, "https://93.184.216.34/", ["session.started"])
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "ping/"),
        ("post", "validate/"),
        ("post", "secret/rotate/"),
        ("get", "deliveries/"),
    ]:
        response = getattr(bob_client, method)(f"{HOOKS}{made['id']}/{path}", {"validation_code": "x"})
        assert response.status_code == 404, (method, path)
    assert bob_client.get(HOOKS).json()["results"] == []


def test_a_new_url_makes_it_pending_and_pings_it_and_active_needs_a_validation_there(
    private, alice_client, receiver
):
    made = active_hook(alice_client, receiver)
    changed = alice_client.patch(f"{HOOKS}{made['id']}/", {"url": receiver.url("/v2")})
    assert changed.status_code == 200 and changed.json()["status"] == "pending"
    refused = alice_client.patch(f"{HOOKS}{made['id']}/", {"status": "active"})
    assert refused.status_code == 400 and "status" in refused.json()
    deliver_due()
    assert receiver.of_type("ping", path="/v2")
    assert alice_client.get(f"{HOOKS}{made['id']}/").json()["status"] == "active"


def test_disabling_and_enabling_again(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    off = alice_client.patch(f"{HOOKS}{made['id']}/", {"status": "disabled"}).json()
    assert (off["status"], off["disabled_reason"]) == ("disabled", "owner")
    alice_client.post("/api/sessions/start/")
    assert deliver_due() == 0
    on = alice_client.patch(f"{HOOKS}{made['id']}/", {"status": "active"}).json()
    assert (on["status"], on["disabled_reason"]) == ("active", None)


def test_a_token_needs_webhooks_manage_and_the_read_scope_of_what_it_subscribes_to(alice, alice_client):
    def client_with(scopes):
        _, token = personal_token_create(user=alice, name="hooks", scopes=scopes, password_version_seen=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    body = {"url": "https://93.184.216.34/", "events": ["session.started", "journal.created"]}
    refused = client_with(["sessions:read", "journals:read"]).post(HOOKS, body)
    assert refused.json()["required_scope"] == "webhooks:manage"
    partly = client_with(["webhooks:manage", "sessions:read"]).post(HOOKS, body)
    assert partly.status_code == 403 and partly.json()["required_scope"] == "journals:read"
    assert (
        client_with(["webhooks:manage", "sessions:write", "journals:read"]).post(HOOKS, body).status_code
        == 201
    )


def test_the_owner_is_emailed_when_a_webhook_is_made(alice_client, alice):
    type(alice).objects.filter(pk=alice.pk).update(email_verified=True)
    create(alice_client, "https://93.184.216.34/hooks", ["session.started"])
    ProcrastinateJob.objects.filter(task_name="webhooks.deliver").delete()  # no traffic off this machine
    run_queued_jobs()
    (message,) = mail.outbox
    assert message.subject == "A webhook was added to your FocusFlow account"
    assert "https://93.184.216.34/hooks" in message.body


# --- Events ----------------------------------------------------------------------------------


def test_every_event_reaches_the_receiver_signed_and_journal_text_never_leaves(
    private, alice_client, receiver
):
    made = active_hook(alice_client, receiver)
    started = alice_client.post("/api/sessions/start/").json()
    alice_client.post("/api/sessions/pause/")
    alice_client.post("/api/sessions/resume/")
    stopped = alice_client.post("/api/sessions/stop/").json()
    logged = alice_client.post(
        "/api/sessions/", {"start_time": "2026-11-01T09:00:00Z", "end_time": "2026-11-01T09:25:00Z"}
    ).json()
    alice_client.patch(f"/api/sessions/{logged['id']}/", {"label": "renamed"})
    alice_client.delete(f"/api/sessions/{logged['id']}/")
    journal = alice_client.post("/api/journals/create/", {"content": "my secret thoughts"}).json()
    alice_client.put(f"/api/journals/{journal['id']}/", {"content": "more secret thoughts"})
    alice_client.delete(f"/api/journals/{journal['id']}/")
    deliver_due()
    events = [verified(received, made["secret"]) for received in receiver.received[1:]]
    assert [event["type"] for event in events] == ALL
    assert events[0]["data"]["id"] == started["id"] and events[0]["data"]["is_active"] is True
    assert events[3]["data"]["end_time"] == stopped["end_time"]
    assert events[5]["data"]["label"] == "renamed"
    assert events[6]["data"] == {"id": logged["id"]}
    assert set(events[7]["data"]) == {"id", "session", "created_at", "updated_at"}
    assert events[9]["data"] == {"id": journal["id"]}
    assert all(b"secret thoughts" not in received.body for received in receiver.received)
    assert len({received.id for received in receiver.received}) == len(receiver.received)


def test_a_write_that_fails_sends_nothing_and_only_subscribed_events_go(private, alice_client, receiver):
    active_hook(alice_client, receiver, events=["session.stopped"])
    alice_client.post("/api/sessions/start/")
    assert alice_client.post("/api/sessions/start/").status_code == 409  # rolled back
    assert WebhookMessage.objects.exclude(type="ping").count() == 0
    alice_client.post("/api/sessions/stop/")
    deliver_due()
    assert [r.json()["type"] for r in receiver.received] == ["ping", "session.stopped"]


def test_a_write_costs_one_query_for_an_account_without_webhooks(alice_client):
    with CaptureQueriesContext(connection) as queries:
        alice_client.post("/api/sessions/start/")
    assert sum("webhooks_webhook" in query["sql"] for query in queries.captured_queries) == 1


# --- Delivery, retries, disabling ------------------------------------------------------------


def test_a_failure_is_retried_with_the_same_id_and_logged(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    receiver.answer(500, b'{"error": "down"}')
    with frozen(T0):
        alice_client.post("/api/sessions/start/")
        deliver_due()
        (when,) = scheduled()
    assert 4.5 <= (when - T0).total_seconds() <= 5.5
    with frozen(when):
        deliver_due(at=when)
        first, second = receiver.of_type("session.started")
        verified(second, made["secret"])  # signed afresh at each attempt
    assert first.id == second.id
    log = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"]
    log = [row for row in log if row["type"] == "session.started"]
    assert [(row["attempt"], row["status_code"], row["error"]) for row in log] == [
        (2, 200, None),
        (1, 500, "http_status"),
    ]
    assert log[1]["event_id"] == first.id and log[1]["response_excerpt"] == '{"error": "down"}'
    assert log[1]["next_attempt_at"] is not None and log[0]["next_attempt_at"] is None


def test_retries_follow_the_schedule_then_the_event_is_dropped(private, alice_client, receiver):
    active_hook(alice_client, receiver)
    for _ in range(20):
        receiver.answer(503)
    with frozen(T0):
        alice_client.post("/api/sessions/start/")
        deliver_due()
    offsets = []
    for _ in range(len(services.SCHEDULE) - 1):
        (when,) = scheduled()
        offsets.append((when - T0).total_seconds())
        with frozen(when):
            deliver_due(at=when)
    assert scheduled() == []
    for offset, planned in zip(offsets, services.SCHEDULE[1:], strict=True):
        assert offset == pytest.approx(planned.total_seconds(), rel=0.1)
    message = WebhookMessage.objects.get(type="session.started")
    assert (message.state, message.attempts) == ("dropped", 10)


def test_retry_after_delays_the_next_attempt(private, alice_client, receiver):
    active_hook(alice_client, receiver)
    receiver.answer(429, headers={"Retry-After": "3600"})
    with frozen(T0):
        alice_client.post("/api/sessions/start/")
        deliver_due()
    (when,) = scheduled()
    assert (when - T0).total_seconds() == pytest.approx(3600, abs=2)


def test_a_redirect_is_a_failure_and_its_target_sees_nothing(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    receiver.answer(307, headers={"Location": receiver.url("/elsewhere")})
    alice_client.post("/api/sessions/start/")
    deliver_due()
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]
    row = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"][0]
    assert (row["status_code"], row["error"]) == (307, "http_status")


def test_a_410_disables_the_webhook_and_emails_its_owner(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    receiver.answer(410)
    alice_client.post("/api/sessions/start/")
    deliver_due()
    shown = alice_client.get(f"{HOOKS}{made['id']}/").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "gone")
    assert scheduled() == []
    alice_client.post("/api/sessions/stop/")
    assert deliver_due() == 0
    run_queued_jobs()
    assert [m.subject for m in mail.outbox][-1] == "A webhook of your FocusFlow account was disabled"


def test_three_days_of_failures_disable_it(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    for _ in range(30):
        receiver.answer(500)
    with frozen(T0):
        alice_client.post("/api/sessions/start/")
        deliver_due()
    with frozen(T0 + timedelta(days=2, hours=23)):
        alice_client.post("/api/sessions/stop/")
        deliver_due(at=T0 + timedelta(days=2, hours=23))
    assert Webhook.objects.get().status == "active"
    with frozen(T0 + timedelta(days=3, minutes=1)):
        alice_client.post("/api/sessions/start/")
        deliver_due(at=T0 + timedelta(days=3, minutes=1))
    shown = alice_client.get(f"{HOOKS}{made['id']}/").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "failing")


def test_redelivery_sends_the_same_event_again(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    alice_client.post("/api/sessions/start/")
    deliver_due()
    row = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"][0]
    response = alice_client.post(f"{HOOKS}{made['id']}/deliveries/{row['id']}/redeliver/")
    assert response.status_code == 202
    deliver_due()
    first, again = receiver.of_type("session.started")
    assert first.id == again.id and first.body == again.body
    alice_client.patch(f"{HOOKS}{made['id']}/", {"status": "disabled"})
    refused = alice_client.post(f"{HOOKS}{made['id']}/deliveries/{row['id']}/redeliver/")
    assert refused.status_code == 409 and refused.json()["code"] == "webhook_not_active"


def test_pings_and_redeliveries_are_limited_to_ten_an_hour(alice_client):
    made = create(alice_client, "https://93.184.216.34/", ["session.started"])
    answers = [alice_client.post(f"{HOOKS}{made['id']}/ping/").status_code for _ in range(11)]
    assert answers == [202] * 10 + [429]


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    with frozen(T0):
        new = alice_client.post(f"{HOOKS}{made['id']}/secret/rotate/").json()["secret"]
        assert new != made["secret"]
        alice_client.post("/api/sessions/start/")
        deliver_due()
        received = receiver.of_type("session.started")[0]
        verified(received, made["secret"])
        verified(received, new)
    with frozen(T0 + timedelta(hours=24, seconds=1)):
        alice_client.post("/api/sessions/stop/")
        deliver_due()
        received = receiver.of_type("session.stopped")[0]
        verified(received, new)
        with pytest.raises(Exception, match="No matching signature"):
            verified(received, made["secret"])


def test_an_address_that_turned_private_is_refused_at_delivery(private, settings, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # as if its name now resolved to a loopback address
    alice_client.post("/api/sessions/start/")
    deliver_due()
    assert receiver.of_type("session.started") == []
    row = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"][0]
    assert (row["status_code"], row["error"]) == (None, "refused_address")


def test_a_slow_receiver_is_a_timeout(private, alice_client, receiver, monkeypatch):
    made = active_hook(alice_client, receiver)
    monkeypatch.setattr(transport, "ANSWER_SECONDS", 1)
    receiver.hold_next()
    alice_client.post("/api/sessions/start/")
    deliver_due()
    row = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"][0]
    assert row["error"] == "timeout" and row["duration_ms"] < 3000


def test_a_closed_port_is_connect_failed(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    receiver.stop()
    alice_client.post("/api/sessions/start/")
    deliver_due()
    row = alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"][0]
    assert row["error"] == "connect_failed"


def test_a_password_reset_disables_every_webhook_and_the_notice_lists_them(
    private, api_client, alice, receiver
):
    client = APIClient()
    client.force_authenticate(alice)
    made = create(client, receiver.url(), ["session.started"])
    api_client.post("/api/users/password/reset/", {"email": alice.email})
    ProcrastinateJob.objects.filter(task_name="webhooks.deliver").delete()
    run_queued_jobs()
    token = re.search(r"\?token=([A-Za-z0-9_-]+)", mail.outbox[-1].body).group(1)
    confirm = api_client.post(
        "/api/users/password/reset/confirm/", {"token": token, "new_password": "a-brand-new-passphrase"}
    )
    assert confirm.status_code == 204
    webhook = Webhook.objects.get(pk=made["id"])
    assert (webhook.status, webhook.disabled_reason) == ("disabled", "password_reset")
    run_queued_jobs()
    notice = mail.outbox[-1]
    assert notice.subject == "Your FocusFlow password was changed" and receiver.url() in notice.body


def test_deleting_the_account_takes_its_webhooks_and_deliveries(private, alice_client, receiver):
    active_hook(alice_client, receiver)
    alice_client.post("/api/sessions/start/")
    assert alice_client.delete("/api/users/me/", {"password": PASSWORD}).status_code == 204
    assert deliver_due() == 1  # the queued delivery finds nothing to send
    assert receiver.of_type("session.started") == []
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delivery_log_of_a_webhook_lists_newest_first(private, alice_client, receiver):
    made = active_hook(alice_client, receiver)
    alice_client.post("/api/sessions/start/")
    alice_client.post("/api/sessions/stop/")
    deliver_due()
    types = [row["type"] for row in alice_client.get(f"{HOOKS}{made['id']}/deliveries/").json()["results"]]
    assert types == ["session.stopped", "session.started", "ping"]
    assert json.loads(WebhookMessage.objects.get(type="ping").payload)["type"] == "ping"


def test_a_token_cannot_redirect_or_take_over_a_webhook_of_what_it_may_not_read(alice, alice_client):
    made = create(alice_client, "https://93.184.216.34/", ["journal.created"])
    _, token = personal_token_create(
        user=alice, name="hooks", scopes=["webhooks:manage"], password_version_seen=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for method, path, body in [
        ("patch", "", {"url": "https://93.184.216.35/mine"}),
        ("post", "secret/rotate/", None),
        ("post", "ping/", None),
        ("post", "validate/", {"validation_code": "x"}),
    ]:
        response = getattr(client, method)(f"{HOOKS}{made['id']}/{path}", body)
        assert response.status_code == 403 and response.json()["required_scope"] == "journals:read", path
    assert Webhook.objects.get().url == "https://93.184.216.34/"
    assert client.get(f"{HOOKS}{made['id']}/").status_code == 200  # seeing it is managing it


def test_the_admin_never_shows_a_secret(admin_client, alice_client):
    made = create(alice_client, "https://93.184.216.34/", ["session.started"])
    for path in ("/admin/webhooks/webhook/", f"/admin/webhooks/webhook/{made['id']}/change/"):
        page = admin_client.get(path)
        assert page.status_code == 200 and made["secret"][6:].encode() not in page.content
        assert Webhook.objects.get().secret.encode() not in page.content
