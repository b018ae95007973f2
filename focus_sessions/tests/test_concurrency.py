"""Races for real: threads with their own PostgreSQL connections, and concurrent HTTP requests
to gunicorn with 4 worker processes (as several app servers would)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from conftest import bearer
from focus_sessions import services
from focus_sessions.models import FocusSession
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

N = 16


def _all_at_once(work, n: int = N) -> list:
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_starts_in_threads_leave_one_active_session():
    user = UserFactory()

    def start(_):
        try:
            return services.focus_session_start(user=user).pk
        except services.SessionAlreadyActive as exc:
            return ("conflict", exc.session.pk)

    outcomes = _all_at_once(start)
    winners = [o for o in outcomes if not isinstance(o, tuple)]
    assert len(winners) == 1
    assert {o[1] for o in outcomes if isinstance(o, tuple)} == {winners[0]}
    assert FocusSession.objects.filter(user=user, is_active=True).count() == 1


@pytest.mark.live
def test_concurrent_starts_over_http_get_one_201_and_409s_naming_the_winner(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    responses = _all_at_once(
        lambda _: requests.post(f"{gunicorn.url}/api/sessions/start/", headers=headers, timeout=30)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (N - 1)
    winner = next(r.json()["id"] for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "session_already_active"
            assert response.json()["active_session"]["id"] == winner
    assert FocusSession.objects.filter(user=user).count() == 1


@pytest.mark.live
def test_concurrent_stops_over_http_stop_the_session_exactly_once(gunicorn):
    user = UserFactory()
    services.focus_session_start(user=user)
    headers = {"Authorization": bearer(user)}
    responses = _all_at_once(
        lambda _: requests.post(f"{gunicorn.url}/api/sessions/stop/", headers=headers, timeout=30)
    )
    assert sorted(r.status_code for r in responses) == [200] + [404] * (N - 1)
    session = FocusSession.objects.get(user=user)
    assert not session.is_active
    assert session.end_time is not None


@pytest.mark.live
def test_concurrent_retries_with_one_key_do_the_work_once(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user), "Idempotency-Key": "one-tap"}
    responses = _all_at_once(
        lambda _: requests.post(
            f"{gunicorn.url}/api/sessions/start/", json={"label": "tap"}, headers=headers, timeout=30
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert FocusSession.objects.filter(user=user).count() == 1


@pytest.mark.live
def test_pause_resume_races_never_corrupt_the_session(gunicorn):
    user = UserFactory()
    services.focus_session_start(user=user)
    headers = {"Authorization": bearer(user)}
    paths = ["pause", "resume"]
    responses = _all_at_once(
        lambda i: requests.post(f"{gunicorn.url}/api/sessions/{paths[i % 2]}/", headers=headers, timeout=30)
    )
    assert {r.status_code for r in responses} <= {200, 409}
    session = FocusSession.objects.get(user=user)
    assert session.is_active
    assert session.paused_duration.total_seconds() >= 0


@pytest.mark.live
def test_starts_racing_stops_from_two_devices_never_get_anything_but_201_or_409(gunicorn):
    """A start that loses to a session that is stopped a moment later must not be told the
    account is gone (it retries, or reports the conflict)."""
    user = UserFactory()
    headers = {"Authorization": bearer(user)}

    def device(i):
        session = requests.Session()
        codes = []
        for n in range(25):
            start = session.post(
                f"{gunicorn.url}/api/sessions/start/",
                headers={**headers, "Idempotency-Key": f"device-{i}-{n}"},
                timeout=30,
            )
            codes.append(start.status_code)
            session.post(f"{gunicorn.url}/api/sessions/stop/", headers=headers, timeout=30)
        return codes

    codes = [code for device_codes in _all_at_once(device, n=8) for code in device_codes]
    assert set(codes) <= {201, 409}
    assert FocusSession.objects.filter(user=user, is_active=True).count() <= 1
