"""Attacks on webhooks that found bugs (a helper's review before shipping). Every network
exchange here is on loopback: deliveries go only to a WebhookReceiver or a raw server on
127.0.0.1, and any host name is resolved by a fake resolver that never asks DNS."""

import contextlib
import socket
import threading
import time

import pytest
import urllib3.util.connection
from rest_framework.test import APIClient

from focusflow.webhooks import services, transport
from focusflow.webhooks.models import Webhook, WebhookDelivery
from focusflow.webhooks.tests.test_webhooks import HOOKS, create, deliver_due
from users.personal_tokens import personal_token_create

pytestmark = pytest.mark.django_db


def token_client(user, scopes) -> APIClient:
    _, token = personal_token_create(user=user, name="attack", scopes=scopes, password_version_seen=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class SlowServer:
    """A raw HTTP server on 127.0.0.1 that drips its answer, `step` seconds a byte."""

    def __init__(self, *, head: bytes, drip: bytes, step: float, lasting: float) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.head, self.drip, self.step, self.lasting = head, drip, step, lasting
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.sock.accept()
        try:
            connection.settimeout(1)
            with contextlib.suppress(OSError):
                connection.recv(65536)
            connection.sendall(self.head)
            ends = time.monotonic() + self.lasting
            for byte in self.drip:
                if time.monotonic() > ends:
                    break
                connection.sendall(bytes([byte]))
                time.sleep(self.step)
        except OSError:
            pass
        finally:
            connection.close()
            self.sock.close()


# --- The receiver's answer -------------------------------------------------------------------


def test_a_body_trickled_byte_by_byte_is_a_timeout_within_the_answer_time(private, monkeypatch):
    monkeypatch.setattr(transport, "ANSWER_SECONDS", 2)
    server = SlowServer(
        head=b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        drip=b"x" * 100000,
        step=0.2,
        lasting=12,
    )
    started = time.monotonic()
    outcome = transport.post(f"http://127.0.0.1:{server.port}/hook", body=b"{}", headers={})
    took = time.monotonic() - started
    assert took < 5, f"the attempt took {took:.1f}s for an answer time of 2s"
    assert outcome.error == "timeout"


def test_headers_trickled_byte_by_byte_are_a_timeout_within_the_answer_time(private, monkeypatch):
    monkeypatch.setattr(transport, "ANSWER_SECONDS", 2)
    server = SlowServer(head=b"HTTP/1.1 200 OK\r\n", drip=b"X-Slow: " + b"a" * 1000, step=0.2, lasting=12)
    started = time.monotonic()
    outcome = transport.post(f"http://127.0.0.1:{server.port}/hook", body=b"{}", headers={})
    took = time.monotonic() - started
    assert took < 5, f"the attempt took {took:.1f}s for an answer time of 2s"
    assert outcome.error == "timeout"


def test_an_answer_whose_body_has_a_nul_is_logged_not_a_crash(private, alice_client, receiver):
    made = create(alice_client, receiver.url(), ["session.started"])
    receiver.answer(200, b'{"ok": true}\x00')
    deliver_due()  # PostgreSQL text cannot hold NUL: the excerpt must not carry it
    (row,) = WebhookDelivery.objects.filter(webhook_id=made["id"])
    assert row.status_code == 200


def test_a_deeply_nested_json_answer_to_a_ping_is_logged_not_a_crash(private, alice_client, receiver):
    made = create(alice_client, receiver.url(), ["session.started"])
    receiver.answer(200, b"[" * 50000)
    deliver_due()  # json.loads raises RecursionError (not a ValueError) on it
    (row,) = WebhookDelivery.objects.filter(webhook_id=made["id"])
    assert row.status_code == 200
    assert Webhook.objects.get(pk=made["id"]).status == "pending"


def test_a_2xx_with_an_unparsable_retry_after_is_still_a_success(private, alice_client, receiver):
    made = create(alice_client, receiver.url(), ["session.started"])
    receiver.answer(200, b"{}", headers={"Retry-After": "9" * 5000})
    deliver_due()
    (row,) = WebhookDelivery.objects.filter(webhook_id=made["id"])
    assert (row.status_code, row.error) == (200, "")


def test_a_410_with_an_odd_retry_after_still_disables_the_webhook(private, alice_client, receiver):
    made = create(alice_client, receiver.url(), ["session.started"])
    receiver.answer(410, b"{}", headers={"Retry-After": "\u00b2"})  # "²".isdigit() is True
    deliver_due()
    webhook = Webhook.objects.get(pk=made["id"])
    assert (webhook.status, webhook.disabled_reason) == ("disabled", "gone")
    (row,) = WebhookDelivery.objects.filter(webhook_id=made["id"])
    assert (row.status_code, row.error) == (410, "http_status")


# --- State machine ---------------------------------------------------------------------------


def test_a_code_pinged_to_one_url_does_not_validate_another(private, alice_client, receiver):
    """Validation proves the receiver at the current URL saw the code. A code sent to the
    owner's own receiver must not make an active webhook of some other URL."""
    receiver.validating = False
    made = create(alice_client, receiver.url("/mine"), ["session.started"])
    deliver_due()
    code = receiver.of_type("ping")[0].json()["data"]["validation_code"]
    other = receiver.url("/somebody-else")  # (stands for a third party's public URL)
    moved = alice_client.patch(f"{HOOKS}{made['id']}/", {"url": other, "status": "disabled"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "disabled"
    refused = alice_client.patch(f"{HOOKS}{made['id']}/", {"status": "active"}, format="json")
    assert refused.status_code == 400  # never validated at `other`: right
    response = alice_client.post(f"{HOOKS}{made['id']}/validate/", {"validation_code": code})
    assert response.status_code == 400 and response.json()["code"] == "validation_invalid"
    assert Webhook.objects.get(pk=made["id"]).status != "active"


# --- Tokens ----------------------------------------------------------------------------------


def test_a_token_without_sessions_read_cannot_point_a_session_webhook_elsewhere(alice, alice_client):
    made = create(alice_client, "https://93.184.216.34/hooks", ["session.started"])
    client = token_client(alice, ["webhooks:manage"])
    response = client.patch(f"{HOOKS}{made['id']}/", {"url": "https://93.184.216.35/mine"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert Webhook.objects.get(pk=made["id"]).url == "https://93.184.216.34/hooks"


# --- SSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b:1::a00:1]/",  # local-use NAT64 (RFC 8215) of 10.0.0.1
        "https://[64:ff9b:1::7f00:1]/",  # local-use NAT64 of 127.0.0.1
        "https://[3fff::1]/",  # documentation (RFC 9637), not globally reachable
        "https://[5f00::1]/",  # SRv6 SIDs (RFC 9602), not globally reachable
    ],
)
def test_addresses_not_globally_reachable_that_python_3_11_calls_global_are_refused(alice_client, url):
    response = alice_client.post(HOOKS, {"url": url, "events": ["session.started"]}, format="json")
    assert response.status_code == 400 and response.json() == {"url": [services.REFUSED_URL]}


def test_an_attempt_resolves_the_host_once_and_connects_to_the_address_it_checked(settings, monkeypatch):
    """A name answering a public address to the check and a loopback one a moment later
    (rebinding): the contract says one resolution per attempt, connected to at the checked address.
    Nothing is connected to: the connection is faked."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    resolved = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        assert host == "rebind.test"
        address = next(answers)
        resolved.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443))]

    connected = []

    def fake_connect(address, *args, **kwargs):
        connected.append(address[0])
        raise OSError("no connection in tests")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", fake_connect)
    transport.post("https://rebind.test/hook", body=b"{}", headers={})
    assert resolved == ["93.184.216.34"], f"resolved {len(resolved)} times: {resolved}"
    assert connected == ["93.184.216.34"]


# --- Hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "9999999999999999999/",
        "9999999999999999999/deliveries/",
        "1/deliveries/9999999999999999999/redeliver/",
    ],
)
def test_an_id_beyond_a_bigint_is_a_404_not_a_500(alice_client, path):
    method = alice_client.post if path.endswith("redeliver/") else alice_client.get
    response = method(f"{HOOKS}{path}")
    assert response.status_code == 404, response.content[:300]


# --- Limits ----------------------------------------------------------------------------------


def test_another_users_requests_do_not_use_up_a_webhooks_ping_limit(alice_client, bob_client):
    made = create(alice_client, "https://93.184.216.34/", ["session.started"])
    for _ in range(10):
        assert bob_client.post(f"{HOOKS}{made['id']}/ping/").status_code == 404
    assert alice_client.post(f"{HOOKS}{made['id']}/ping/").status_code == 202


def test_another_users_requests_do_not_use_up_a_webhooks_redelivery_limit(
    private, alice_client, bob_client, receiver
):
    made = create(alice_client, receiver.url(), ["session.started"])
    deliver_due()  # validated by its ping
    row = WebhookDelivery.objects.get(webhook_id=made["id"])
    for _ in range(10):
        assert bob_client.post(f"{HOOKS}{made['id']}/deliveries/{row.pk}/redeliver/").status_code == 404
    assert alice_client.post(f"{HOOKS}{made['id']}/deliveries/{row.pk}/redeliver/").status_code == 202
