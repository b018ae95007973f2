"""Logging pieces the settings' LOGGING refers to."""

import logging


class ClientMistakeAsWarning(logging.Filter):
    """Django logs a request it refuses as suspicious (a Host header outside ALLOWED_HOSTS,
    say) as an ERROR with a traceback. It is the client's doing and answered with a 400: one
    WARNING line says all there is to say, and keeps real errors easy to find."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("django.security."):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.WARNING):
            return False
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class QuietRateLimited(logging.Filter):
    """Django logs every 4xx answer as a WARNING line. A client over a rate limit is refused
    as fast as it retries, hundreds of times a second: a line for each would flood the journal
    and cost more than the refusal itself. The access log still has every request."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 429


class QuietRoutineJobs(logging.Filter):
    """The worker logs each job it defers, starts and finishes. `retry_stalled_jobs` runs every
    10 seconds and nearly always finds nothing: its lines would be most of the journal. Its
    warnings and errors still show, and so does every line about any other job."""

    ROUTINE = frozenset({"retry_stalled_jobs"})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or not record.name.startswith("procrastinate."):
            return True
        job = getattr(record, "job", None)
        return not (isinstance(job, dict) and job.get("task_name") in self.ROUTINE)
