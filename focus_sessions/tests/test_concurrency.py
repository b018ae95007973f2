"""Races for real: threads with their own PostgreSQL connections, and concurrent HTTP requests
to gunicorn with 4 worker processes (as several app servers would)."""

import pytest
import requests

from focus_sessions import services
from focus_sessions.exceptions import SessionAlreadyActive
from focus_sessions.models import FocusSession
from focusflow.testing import all_at_once, bearer
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

N = 16


def test_concurrent_starts_in_threads_leave_one_active_session():
    user = UserFactory()

    def start(_):
        try:
            return services.focus_session_start(user=user)[0].pk
        except SessionAlreadyActive as exc:
            return ("conflict", exc.session.pk)

    outcomes = all_at_once(start, N)
    winners = [o for o in outcomes if not isinstance(o, tuple)]
    assert len(winners) == 1
    assert {o[1] for o in outcomes if isinstance(o, tuple)} == {winners[0]}
    assert list(FocusSession.objects.filter(user=user).values_list("pk", flat=True)) == winners


@pytest.mark.live
def test_concurrent_starts_over_http_get_one_201_and_409s_naming_the_winner(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    responses = all_at_once(
        lambda _: requests.post(f"{gunicorn.url}/api/sessions/start/", headers=headers, timeout=30), N
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
    responses = all_at_once(
        lambda _: requests.post(f"{gunicorn.url}/api/sessions/stop/", headers=headers, timeout=30), N
    )
    assert sorted(r.status_code for r in responses) == [200] + [404] * (N - 1)
    assert {r.json()["code"] for r in responses if r.status_code == 404} == {"no_active_session"}
    stopped = next(r.json() for r in responses if r.status_code == 200)
    session = FocusSession.objects.get(user=user)
    # The one stop that won is the one that was stored: no later stop moved the end time.
    assert stopped["end_time"] == session.end_time.isoformat().replace("+00:00", "Z")
    assert stopped["duration_seconds"] == session.focus_seconds


@pytest.mark.live
def test_concurrent_retries_with_one_key_do_the_work_once(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user), "Idempotency-Key": "one-tap"}
    responses = all_at_once(
        lambda _: requests.post(
            f"{gunicorn.url}/api/sessions/start/", json={"label": "tap"}, headers=headers, timeout=30
        ),
        N,
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
    responses = all_at_once(
        lambda i: requests.post(f"{gunicorn.url}/api/sessions/{paths[i % 2]}/", headers=headers, timeout=30),
        N,
    )
    assert {r.status_code for r in responses} <= {200, 409}
    # Serialized by the row lock, the successful pauses and resumes alternate, starting with a
    # pause: as many resumes as pauses, or one pause more and the session left paused.
    pauses = sum(1 for i, r in enumerate(responses) if r.status_code == 200 and paths[i % 2] == "pause")
    resumes = sum(1 for i, r in enumerate(responses) if r.status_code == 200 and paths[i % 2] == "resume")
    assert pauses >= 1
    assert pauses - resumes in (0, 1)
    session = FocusSession.objects.get(user=user)
    assert session.is_paused == (pauses == resumes + 1)


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

    codes = [code for device_codes in all_at_once(device, 8) for code in device_codes]
    assert set(codes) <= {201, 409}
    # Every 201 made exactly one session and no 409 made one.
    assert FocusSession.objects.filter(user=user).count() == codes.count(201)
