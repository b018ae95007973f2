"""Rows for every model registered in the admin, as admins meet them at their widest: long
addresses, full-length labels, quotes and authors, journals of several paragraphs, every
state (running, paused, stopped; tied and free; blacklisted and not). The query-count and
browser tests fill each changelist with them, so a model registered without an entry here
fails those tests until it gets one."""

from collections.abc import Callable
from datetime import timedelta
from itertools import count

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from focus_sessions import goals, tags
from focus_sessions.models import FocusSession, Goal, Tag
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.webhooks.models import Webhook
from focusflow.webhooks.services import EVENTS, webhook_create
from journals.models import Journal
from journals.tests.factories import JournalFactory
from quotes.models import AUTHOR_MAX_LENGTH, TEXT_MAX_LENGTH, DailyQuote, Quote
from quotes.tests.factories import DailyQuoteFactory, QuoteFactory
from users.models import PersonalAccessToken, User
from users.personal_tokens import personal_token_create
from users.tests.factories import UserFactory
from users.tokens import refresh_token_for, refresh_token_logout

_serial = count(1)

ZONES = ["Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "UTC", "Pacific/Chatham"]
LABEL = "Quarterly planning document, first full draft, then the reading list and the inbox at the end"
PARAGRAPH = (
    "The morning started slowly, with the fog still on the harbour and the coffee too hot to drink. "
    "I wrote the outline in twenty minutes and then lost the thread for a while; the second block "
    "went better once the phone was in the other room. "
)
QUOTE = (
    "We are what we repeatedly do. Excellence, then, is not an act but a habit; and the habit is "
    "made one ordinary morning at a time, by sitting down at the same table at the same hour, "
)


def _user(**fields) -> User:
    n = next(_serial)
    email = (
        f"maximilian.alexander.worthington.smythe.{n}@university.example.org"
        if n % 2
        else f"ada{n}@example.com"
    )
    return UserFactory(
        email=email,
        display_name="Maximilian Alexander Worthington-Smythe" if n % 2 else "Ada",
        timezone=ZONES[n % len(ZONES)],
        **fields,
    )


def add_users(n: int) -> None:
    for i in range(n):
        _user(last_login=timezone.now() - timedelta(days=i) if i % 3 else None, is_active=i % 4 != 3)


def add_sessions(n: int) -> None:
    now = timezone.now()
    for i in range(n):
        state = i % 3  # stopped, running, paused
        start = now - timedelta(hours=i + 1)
        FocusSessionFactory(
            user=_user(),
            start_time=start,
            active=state != 0,
            paused_at=start + timedelta(minutes=10) if state == 2 else None,
            planned_minutes=25 + 5 * (i % 4),
            label=LABEL if i % 2 == 0 else "Deep work",
        )


def add_journals(n: int) -> None:
    for i in range(n):
        user = _user()
        session = FocusSessionFactory(user=user, label="Writing") if i % 2 else None
        JournalFactory(user=user, session=session, content=(PARAGRAPH * (1 + i % 4)).strip())


def add_quotes(n: int) -> None:
    for _ in range(n):
        k = next(_serial)
        QuoteFactory(
            text=(f"{k}. " + QUOTE * 4)[: TEXT_MAX_LENGTH - 1] + ".",
            author=f"Marcus Aurelius Antoninus, Roman emperor and Stoic philosopher ({k})"[
                :AUTHOR_MAX_LENGTH
            ],
        )


def add_daily_quotes(n: int) -> None:
    for _ in range(n):
        k = next(_serial)
        text = (f"{k}. " + QUOTE * 4)[: TEXT_MAX_LENGTH - 1] + "."
        DailyQuoteFactory(quote__text=text, quote__author="Aristotle")


def add_outstanding_tokens(n: int) -> None:
    for _ in range(n):
        refresh_token_for(_user())


def add_blacklisted_tokens(n: int) -> None:
    for _ in range(n):
        refresh_token_logout(str(refresh_token_for(_user())))


def add_jobs(n: int) -> None:
    """Jobs in every state the worker leaves them in: waiting, running, failed, succeeded."""
    from users.jobs import send_password_reset

    states = ["todo", "doing", "failed", "succeeded"]
    for i in range(n):
        email = f"maximilian.alexander.worthington.smythe.{next(_serial)}@university.example.org"
        job_id = send_password_reset.defer(email=email, requested_at=timezone.now().isoformat())
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE procrastinate_jobs SET status = %s, attempts = %s WHERE id = %s",
                [states[i % 4], i % 3, job_id],
            )


def add_tags(n: int) -> None:
    for i in range(n):
        user = _user()
        tag, _ = tags.tag_create(user=user, name=f"{LABEL[:44]} {i:05d}", color="#1e90ff" if i % 2 else None)
        if i % 3 == 0:
            tags.tag_update(user=user, tag_id=tag.pk, archived=True)


def add_goals(n: int) -> None:
    for i in range(n):
        user = _user()
        tag, _ = tags.tag_create(user=user, name=f"{LABEL[:44]} {i:05d}")
        goals.goal_create(
            user=user, tag=tag.pk if i % 2 else None, period="week" if i % 3 else "day", target_minutes=600
        )


def add_webhooks(n: int) -> None:
    for i in range(n):
        webhook, _ = webhook_create(
            user=_user(),
            url=f"https://93.184.216.34/integrations/focusflow/webhooks/receiver/{i:05d}?team=planning",
            events=list(EVENTS),
            description="The team dashboard on the kitchen tablet",
        )
        if i % 3 == 1:
            Webhook.objects.filter(pk=webhook.pk).update(status="disabled", disabled_reason="failing")
    ProcrastinateJob.objects.filter(task_name="webhooks.deliver").delete()  # nothing leaves this machine


def add_personal_tokens(n: int) -> None:
    scopes = ["sessions:read", "sessions:write", "journals:read", "journals:write", "webhooks:manage"]
    for i in range(n):
        token, _ = personal_token_create(
            user=_user(),
            name=f"Home dashboard on the kitchen tablet, synced every minute {i:05d}",
            scopes=scopes[: 1 + i % len(scopes)],
            password_version_seen=None,
        )
        if i % 2:
            PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())


ROWS: dict[type[Model], Callable[[int], None]] = {
    PersonalAccessToken: add_personal_tokens,
    Webhook: add_webhooks,
    Tag: add_tags,
    Goal: add_goals,
    User: add_users,
    FocusSession: add_sessions,
    Journal: add_journals,
    Quote: add_quotes,
    DailyQuote: add_daily_quotes,
    OutstandingToken: add_outstanding_tokens,
    BlacklistedToken: add_blacklisted_tokens,
    ProcrastinateJob: add_jobs,
}


def add_rows(model: type[Model], n: int) -> None:
    """`n` rows of `model`, each with rows of its own related models (its own user...)."""
    if model not in ROWS:
        raise LookupError(f"{model._meta.label} is registered in the admin: add its rows to {__name__}.ROWS")
    ROWS[model](n)
