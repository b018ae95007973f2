"""The schedule: what the worker runs on its own, once a day or every few seconds.

Periodic jobs are deferred by every running worker and run once: procrastinate records each
(job, time) it deferred, so two workers never run one day's housekeeping twice.

The daily purges are the management commands ops can also run by hand; each runs as a job of
its own, so one that fails (and is retried) does not hold the others back.
"""

from django.core.management import call_command
from procrastinate.contrib.django import app

from focusflow.jobs.retry import Backoff

# A worker that sent no heartbeat for this long is taken for dead, and its jobs run again.
HEARTBEAT_SECONDS = 5
STALLED_AFTER_SECONDS = 15

DAILY_COMMANDS = (
    "flushexpiredtokens",  # SimpleJWT's outstanding refresh tokens past their expiry
    "purge_idempotency_keys",
    "purge_tombstones",
    "purge_throttle_counters",
    "purge_revoked_token_families",
    "purge_personal_tokens",
    "purge_webhook_messages",
    "purge_account_links",
    "purge_event_tickets",
)
# The worker deletes a job once it succeeds; one that failed for good stays this long for
# inspection (the admin's job list, docs/operations.md), then goes.
FAILED_JOBS_HOURS = 24 * 7


def _daily(command: str):
    return app.periodic(cron="30 3 * * *", periodic_id=command, task_kwargs={"command": command})


@app.task(name="housekeeping", queue="housekeeping", retry=Backoff(first=60, longest=3600))
def housekeeping(timestamp: int, command: str) -> None:
    call_command(command)


for _command in DAILY_COMMANDS:
    _daily(_command)(housekeeping)


@app.periodic(cron="* * * * * */10")  # every 10 seconds (the sixth field: seconds)
@app.task(
    name="retry_stalled_jobs", queue="housekeeping", queueing_lock="retry_stalled_jobs", pass_context=True
)
async def retry_stalled_jobs(context, timestamp: int) -> None:
    """Put the jobs of workers that died mid-job (killed, their machine lost) back in the queue."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        await manager.retry_job(job)


@app.periodic(cron="45 3 * * *")
@app.task(name="remove_old_jobs", queue="housekeeping", pass_context=True)
async def remove_old_jobs(context, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(
        nb_hours=FAILED_JOBS_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
    )
