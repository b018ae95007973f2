"""Over real HTTP through gunicorn (4 workers) on PostgreSQL and Redis: what a client sees."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from focusflow.testing import bearer
from users.models import User
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
        return requests.post(f"{gunicorn.url}/api/users/token/refresh/", json={"refresh": token}, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(refresh, range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [401] * 7
    # The losers presented a token already rotated: its whole family is revoked, the pair the
    # winner got included (OAuth 2.0 Security BCP: a reused refresh token is a stolen one).
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    url = f"{gunicorn.url}/api/users"
    assert (
        requests.post(f"{url}/token/refresh/", json={"refresh": winner["refresh"]}, timeout=10).status_code
        == 401
    )
    me = requests.get(f"{url}/me/", headers={"Authorization": f"Bearer {winner['access']}"}, timeout=10)
    assert me.status_code == 401


def test_access_tokens_are_refused_right_after_logout_and_password_change(gunicorn, argon2):
    UserFactory(email="erin@example.com", password="erins-first-passphrase")
    url = f"{gunicorn.url}/api/users"

    def log_in(password):
        body = {"email": "erin@example.com", "password": password}
        return requests.post(f"{url}/login/", json=body, timeout=10).json()

    def me(tokens):
        return requests.get(f"{url}/me/", headers={"Authorization": f"Bearer {tokens['access']}"}, timeout=10)

    phone, laptop = log_in("erins-first-passphrase"), log_in("erins-first-passphrase")
    assert me(phone).status_code == me(laptop).status_code == 200
    assert requests.post(f"{url}/logout/", json={"refresh": phone["refresh"]}, timeout=10).status_code == 204
    assert me(phone).status_code == 401  # at once, on every worker
    assert me(laptop).status_code == 200  # another device, another login
    changed = requests.post(
        f"{url}/me/password/",
        json={"current_password": "erins-first-passphrase", "new_password": "erins-second-passphrase"},
        headers={"Authorization": f"Bearer {laptop['access']}"},
        timeout=10,
    )
    assert changed.status_code == 204
    assert me(laptop).status_code == 401
    tablet = log_in("erins-second-passphrase")
    assert me(tablet).status_code == 200


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


# --- password checks, against gunicorn without Redis: counts shared through the database -----


@pytest.fixture(scope="module")
def limited_server(start_live_server):
    """Four workers, no Redis, five password checks a day per address and per account."""
    return start_live_server(AUTH_THROTTLE_RATE="5/day", REDIS_URL="")


@pytest.fixture
def argon2(settings):
    # Accounts the server checks passwords of need a hasher it knows (the suite's is MD5).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def test_without_redis_the_workers_share_one_count_through_the_database(limited_server):
    def attempt(_):
        return requests.post(
            f"{limited_server.url}/api/users/login/",
            json={"email": "nobody@example.com", "password": "wrong-password-1"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(attempt, range(12)))
    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 7


def _admin_login(session: requests.Session, url: str, password: str) -> requests.Response:
    page = session.get(f"{url}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{url}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": "root@example.com", "password": password},
        allow_redirects=False,
        timeout=30,
    )


def test_brute_forcing_the_admin_login_form_is_stopped_and_told_so(limited_server, argon2):
    User.objects.create_superuser("root@example.com", "an-admin-passphrase")
    session = requests.Session()
    for i in range(5):
        page = _admin_login(session, limited_server.url, f"guess-{i}")
        assert page.status_code == 200
        assert "Please enter the correct email address and password" in page.text
    page = _admin_login(session, limited_server.url, "an-admin-passphrase")
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "Too many password attempts from this address or for this account." in page.text
    assert "sessionid" not in session.cookies  # the right password did not let it in


def test_guessing_the_current_password_with_a_stolen_access_token_is_stopped(limited_server, argon2):
    victim = UserFactory(email="victim@example.com", password="the-real-passphrase")
    headers = {"Authorization": bearer(victim)}
    url = f"{limited_server.url}/api/users/me/password/"
    codes = [
        requests.post(
            url, json={"current_password": f"guess-{i}", "new_password": "attacker-owns-it-now"},
            headers=headers, timeout=30,
        ).status_code
        for i in range(6)
    ]  # fmt: skip
    assert codes == [400] * 5 + [429]
    victim.refresh_from_db()
    assert victim.check_password("the-real-passphrase")
