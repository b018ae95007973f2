"""When a failed job runs again."""

import random

from procrastinate import BaseRetryStrategy, RetryDecision


class Backoff(BaseRetryStrategy):
    """Exponential backoff with jitter: the n-th retry waits between half and all of
    `first * 2**n` seconds, at most `longest`, so jobs that failed together (an SMTP server that
    was down) do not all come back in the same second. Without a limit on attempts: a job whose work
    stops being useful (an expired link) ends itself, successfully, when it next runs."""

    def __init__(self, *, first: float = 2, longest: float = 60) -> None:
        self.first, self.longest = first, longest

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision:
        ceiling = min(self.longest, self.first * 2 ** min(job.attempts, 30))
        return RetryDecision(retry_in={"seconds": max(1, round(random.uniform(ceiling / 2, ceiling)))})
