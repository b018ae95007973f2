"""`make bench`, part two: each speed trick the code keeps, against the plain way, in one run.

    .venv/bin/python bench/tricks.py

A trick stays only while it pays. This measures CPU per call (process time, median of seven
rounds of 2,000 calls) on a scratch database (BENCH_TRICKS_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/focusflow_tricks) holding one user with sixty days of
sessions and a running one:

- focusflow.db.rows (plain SQL built once per process) against the ORM's `filter().first()`
  and `filter()`, for the hot reads that use it;
- the per-process memory of verified access tokens (users.authentication) against verifying
  the token again (SimpleJWT, HS256);
- for scale, one `SELECT 1` round trip: the floor of any query.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.run import recreate_database  # noqa: E402

DATABASE = os.environ.get("BENCH_TRICKS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/focusflow_tricks")
ROUNDS, CALLS = 7, 2000


def cpu_per_call(work) -> float:
    """Microseconds of this process's CPU per call: the median of ROUNDS rounds."""
    for _ in range(200):
        work()
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            work()
        rounds.append((time.process_time() - started) / CALLS * 1e6)
    return statistics.median(rounds)


def main() -> None:
    os.environ.update(
        DATABASE_URL=DATABASE,
        DJANGO_SETTINGS_MODULE="focusflow.settings",
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
        DJANGO_LOG_LEVEL="WARNING",
        REDIS_URL="",
    )
    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from focus_sessions import services
    from focus_sessions.models import FocusDay, FocusSession
    from focusflow.db.rows import first_of, rows_of, values_of
    from focusflow.testing import access_token_for
    from users.authentication import JWTAuthentication
    from users.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(email="tricks@example.com", password="not-used-here-at-all")
    now = timezone.now()
    for day in range(60):
        start = now - timedelta(days=day, hours=3)
        services.focus_session_log(user=user, start_time=start, end_time=start + timedelta(minutes=25))
    services.focus_session_start(user=user)
    today = now.date()
    first = today - timedelta(days=29)

    def select_1():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    raw = str(access_token_for(user)).encode()
    auth = JWTAuthentication()
    verify = super(JWTAuthentication, auth).get_validated_token  # SimpleJWT's own, every time
    auth.get_validated_token(raw)  # remembered from now on

    pairs = [
        (
            "the running session",
            lambda: first_of(FocusSession, user=user.pk, is_active=True),
            lambda: FocusSession.objects.filter(user=user, is_active=True).first(),
        ),
        ("the profile", lambda: first_of(User, pk=user.pk), lambda: User.objects.filter(pk=user.pk).first()),
        (
            "the sync position",
            lambda: values_of(User, ("sync_seq", "sync_purged_seq"), pk=user.pk),
            lambda: User.objects.filter(pk=user.pk).values_list("sync_seq", "sync_purged_seq").first(),
        ),
        (
            "a 30-day stats window",
            lambda: rows_of(FocusDay, user=user.pk, date__gte=first, date__lte=today),
            lambda: list(FocusDay.objects.filter(user=user, date__range=(first, today))),
        ),
        ("an access token", lambda: auth.get_validated_token(raw), lambda: verify(raw)),
    ]
    print(f"bench/tricks: CPU per call, median of {ROUNDS} x {CALLS} (µs); floor: one SELECT 1")
    print(f"  SELECT 1 round trip: {cpu_per_call(select_1):.0f} µs")
    print("| read | the trick | the plain way | saved |")
    print("|---|---:|---:|---:|")
    for name, trick, plain in pairs:
        fast, slow = cpu_per_call(trick), cpu_per_call(plain)
        print(f"| {name} | {fast:.0f} µs | {slow:.0f} µs | {slow - fast:.0f} µs ({1 - fast / slow:.0%}) |")


if __name__ == "__main__":
    main()
