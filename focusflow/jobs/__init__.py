"""Background jobs: procrastinate, a job queue in the PostgreSQL we already run.

- A job is deferred with `<task>.defer(...)` inside the transaction that causes it: it goes
  through Django's own connection (procrastinate's DjangoConnector), so a request that rolls
  back leaves no job and one that commits always has its job.
- `python manage.py worker` runs them (`management/commands/worker.py`). A worker killed
  mid-job stops sending heartbeats; `housekeeping.retry_stalled_jobs` puts its jobs back within
  seconds, and they run again. A job body must therefore be safe to run twice.
- Each app's jobs live in its `jobs.py` (procrastinate finds them by that name). A job is a thin
  wrapper around a plain function of the app's services, so a move to another runner (Django
  6's tasks) changes the wrappers only.
- Failed attempts are retried by `Backoff`: soon, then less and less often.
"""
