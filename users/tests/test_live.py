"""Over real HTTP through gunicorn (4 workers) on PostgreSQL and Redis: what a client sees."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from users.tests.factories import UserFactory
from users.tokens import refresh_token_for

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_register_login_me_refresh_logout_over_http(gunicorn):
    base = gunicorn.url + "/api/users"
    created = requests.post(
        f"{base}/register/", json={"email": "Dana@Example.com", "password": "a-long-passphrase"}, timeout=10
    )
    assert created.status_code == 201, created.text
    tokens = requests.post(
        f"{base}/login/", json={"email": "dana@example.com", "password": "a-long-passphrase"}, timeout=10
    ).json()
    me = requests.get(f"{base}/me/", headers={"Authorization": f"Bearer {tokens['access']}"}, timeout=10)
    assert me.json()["email"] == "dana@example.com"
    export = requests.get(
        f"{base}/me/export/", headers={"Authorization": f"Bearer {tokens['access']}"}, timeout=10
    )
    assert export.status_code == 200
    assert export.json()["user"]["email"] == "dana@example.com"
    assert export.json()["focus_sessions"] == export.json()["journals"] == []
    rotated = requests.post(f"{base}/token/refresh/", json={"refresh": tokens["refresh"]}, timeout=10)
    assert rotated.status_code == 200
    out = requests.post(f"{base}/logout/", json={"refresh": rotated.json()["refresh"]}, timeout=10)
    assert out.status_code == 204
    again = requests.post(f"{base}/token/refresh/", json={"refresh": rotated.json()["refresh"]}, timeout=10)
    assert again.status_code == 401


def test_concurrent_refreshes_of_one_token_rotate_it_exactly_once(gunicorn):
    token = str(refresh_token_for(UserFactory()))

    def refresh(_):
        return requests.post(
            f"{gunicorn.url}/api/users/token/refresh/", json={"refresh": token}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(refresh, range(8)))
    assert sorted(codes) == [200] + [401] * 7


def test_the_login_limit_is_one_count_shared_by_every_worker(start_live_server, live_server_env):
    redis.Redis.from_url(live_server_env["REDIS_URL"]).flushdb()
    # A day-long window, so the burst never straddles two windows.
    server = start_live_server(AUTH_THROTTLE_RATE="5/day")

    def attempt(_):
        return requests.post(
            f"{server.url}/api/users/login/",
            json={"email": "nobody@example.com", "password": "wrong-password-1"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(attempt, range(12)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [401] * 5 + [429] * 7
    assert all(int(r.headers["Retry-After"]) >= 1 for r in responses if r.status_code == 429)
