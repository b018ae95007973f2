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


class JobLines(logging.Filter):
    """The worker logs each job it defers, starts and finishes, naming it with its arguments
    (`users.send_password_reset[12](email='...', ...)`). Here a job is named without them: they
    hold email addresses, also of people who have no account. And `retry_stalled_jobs`, which
    runs every 10 seconds and nearly always finds nothing, logs no info lines: they would be
    most of the journal. Warnings and errors always show."""

    ROUTINE = frozenset({"retry_stalled_jobs"})

    def filter(self, record: logging.LogRecord) -> bool:
        job = getattr(record, "job", None)
        if not record.name.startswith("procrastinate.") or not isinstance(job, dict):
            return True
        call = job.get("call_string")
        if isinstance(call, str) and isinstance(record.msg, str):
            record.msg = record.msg.replace(call, call.partition("(")[0])
        return record.levelno >= logging.WARNING or job.get("task_name") not in self.ROUTINE
