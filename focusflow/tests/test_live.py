"""Plumbing that only shows over a real HTTP server (gunicorn)."""

import http.client
import json

import pytest
import requests

from focus_sessions.models import FocusSession
from focusflow.testing import bearer
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _chunked_post(url: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", path, body=iter([body[:5], body[5:]]), headers=headers, encode_chunked=True)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_a_chunked_json_body_is_read_not_dropped(gunicorn):
    user = UserFactory()
    headers = {
        "Authorization": bearer(user),
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    status, body = _chunked_post(
        gunicorn.url, "/api/sessions/start/", b'{"label": "streamed", "planned_minutes": 25}', headers
    )
    assert status == 201
    assert (body["label"], body["planned_minutes"]) == ("streamed", 25)
    status, body = _chunked_post(gunicorn.url, "/api/users/me/", b"{}", {**headers})
    assert status == 405


def test_a_chunked_body_is_validated_and_size_limited(gunicorn):
    user = UserFactory()
    headers = {
        "Authorization": bearer(user),
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    status, body = _chunked_post(gunicorn.url, "/api/sessions/start/", b'{"planned_minutes": 0}', headers)
    assert status == 400
    assert "planned_minutes" in body
    huge = json.dumps({"label": "x" * 3_000_000}).encode()
    status, body = _chunked_post(gunicorn.url, "/api/sessions/start/", huge, headers)
    assert status == 413
    assert not FocusSession.objects.filter(user=user).exists()


def test_post_without_a_trailing_slash_is_a_json_404_not_a_csrf_page(gunicorn):
    response = requests.post(f"{gunicorn.url}/api/users/login", json={}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert "/api/users/login/" in response.json()["detail"]


def test_an_idempotency_key_may_be_any_utf8_text(gunicorn):
    user = UserFactory()
    for key in ("retry-😀-1", "€" * 255, "重试-キー"):
        headers = {"Authorization": bearer(user), "Idempotency-Key": key.encode()}
        first = requests.post(f"{gunicorn.url}/api/sessions/pause/", headers=headers, timeout=10)
        again = requests.post(f"{gunicorn.url}/api/sessions/pause/", headers=headers, timeout=10)
        assert first.status_code == 404, first.text
        assert again.headers.get("Idempotent-Replayed") == "true"
    too_long = {"Authorization": bearer(user), "Idempotency-Key": ("€" * 256).encode()}
    assert (
        requests.post(f"{gunicorn.url}/api/sessions/pause/", headers=too_long, timeout=10).status_code == 400
    )
