"""The worker's plumbing: the retry policy, the schedule, the housekeeping job, its log lines."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from croniter import croniter
from django.core.management import get_commands
from django.utils.timezone import now
from procrastinate.contrib.django import app

from focusflow.jobs import housekeeping
from focusflow.jobs.retry import Backoff
from focusflow.log import JobLines
from users.models import AccountLink
from users.recovery import Purpose, link_issue


def test_backoff_doubles_from_two_seconds_to_a_minute_with_jitter():
    backoff = Backoff()
    for attempts, ceiling in [(0, 2), (1, 4), (2, 8), (4, 32), (5, 60), (50, 60)]:
        waits = {
            backoff.get_retry_decision(exception=OSError(), job=SimpleNamespace(attempts=attempts)).retry_at
            for _ in range(30)
        }
        seconds = [(wait - now()).total_seconds() for wait in waits]
        assert all(ceiling / 2 - 1.5 <= second <= ceiling + 0.5 for second in seconds), (attempts, seconds)


def _periodic() -> dict[str, str]:
    return {
        f"{task.task.name}:{task.periodic_id}": task.cron
        for task in app.periodic_registry.periodic_tasks.values()
    }


def test_every_daily_command_is_a_periodic_job_and_exists():
    periodic = _periodic()
    commands = get_commands()
    for command in housekeeping.DAILY_COMMANDS:
        assert periodic[f"housekeeping:{command}"] == "30 3 * * *"
        assert command in commands


def test_stalled_jobs_are_looked_for_every_ten_seconds():
    cron = _periodic()["retry_stalled_jobs:"]
    ticks = croniter(cron, 0)
    assert [ticks.get_next(float) for _ in range(3)] == [10.0, 20.0, 30.0]
    assert housekeeping.STALLED_AFTER_SECONDS >= 3 * housekeeping.HEARTBEAT_SECONDS


@pytest.mark.django_db
def test_the_housekeeping_job_runs_its_command(alice):
    link_issue(user=alice, purpose=Purpose.VERIFY, email=alice.email, requested_at=now() - timedelta(days=4))
    link_issue(user=alice, purpose=Purpose.RESET, email=alice.email)
    housekeeping.housekeeping.func(timestamp=0, command="purge_account_links")
    assert list(AccountLink.objects.values_list("purpose", flat=True)) == [Purpose.RESET]


def _job_record(task_name: str, level: int = logging.INFO) -> logging.LogRecord:
    from procrastinate.jobs import Job

    job = Job(
        id=12,
        queue="mail",
        lock=None,
        queueing_lock=None,
        task_name=task_name,
        task_kwargs={"email": "x@y.io"},
    )
    record = logging.LogRecord(
        "procrastinate.worker", level, __file__, 1, f"Starting job {job.call_string}", (), None
    )
    record.job = job.log_context()
    return record


def test_job_log_lines_name_jobs_without_their_arguments():
    record = _job_record("users.send_password_reset")
    assert JobLines().filter(record)
    assert record.getMessage() == "Starting job users.send_password_reset[12]"


def test_the_stalled_job_sweep_logs_only_its_warnings():
    assert not JobLines().filter(_job_record("retry_stalled_jobs"))
    assert JobLines().filter(_job_record("retry_stalled_jobs", logging.WARNING))
