"""A short app day on the Python client that openapi-python-client generates from the schema.

This is what a typed app writes, and it must type-check with `mypy --strict` as it is: no dummy
token for the public operations, no cast, no `Unset` on fields the server always sends, and
error codes narrowed by their enums. `make test` generates the client from the served schema,
type-checks this file, and plays it against a live server (focusflow/tests/test_clients.py).

By hand, with the generated package `focusflow_client` importable:
    python clients/python/app_day.py http://127.0.0.1:8000
"""

import sys
import uuid
from datetime import datetime
from typing import NoReturn, assert_never

from focusflow_client import AuthenticatedClient, Client
from focusflow_client.api.goals import goals_create
from focusflow_client.api.journals import journals_create, journals_list
from focusflow_client.api.quotes import quotes_today
from focusflow_client.api.sessions import (
    sessions_history,
    sessions_partial_update,
    sessions_pause,
    sessions_start,
    sessions_stats,
    sessions_stop,
)
from focusflow_client.api.sync import sync_changes
from focusflow_client.api.tags import tags_create
from focusflow_client.api.users import (
    tokens_create,
    tokens_destroy,
    users_login,
    users_me,
    users_me_delete,
    users_register,
)
from focusflow_client.api.webhooks import webhooks_create, webhooks_list
from focusflow_client.models import (
    AccountDeleteRequest,
    ActionRequest,
    AuthenticationError,
    FocusSession,
    FocusSessionClientIdConflictError,
    Goal,
    GoalCreateRequest,
    InsufficientScopeError,
    InvalidCredentialsError,
    Journal,
    JournalCreateRequest,
    LoginRequest,
    NoQuotesError,
    PaginatedFocusSessionList,
    PaginatedWebhookList,
    PatchedSessionUpdateRequest,
    PersonalTokenCreated,
    PersonalTokenCreateRequest,
    RegisterRequest,
    SessionAlreadyActiveError,
    SessionAlreadyPausedError,
    SessionChange,
    SessionOverlapError,
    StartRequest,
    Stats,
    SyncPage,
    Tag,
    TagClientIdConflictError,
    TagCreateRequest,
    TagNameTakenError,
    TodayQuote,
    TokenPair,
    User,
    ValidationError,
    WebhookCreateRequest,
)


def unexpected(step: str, answer: object) -> NoReturn:
    raise SystemExit(f"{step}: unexpected answer {answer!r}")


def app_day(base_url: str) -> None:
    email = f"app-day-{uuid.uuid4().hex[:12]}@focusflow.test"
    password = "a long and quiet morning"
    # Register and log in: public operations take a client without a token.
    public = Client(base_url=base_url, raise_on_unexpected_status=True)

    user = users_register.sync(
        client=public,
        body=RegisterRequest(email=email, password=password, display_name="Dana", timezone="Europe/Paris"),
    )
    if not isinstance(user, User):
        unexpected("register", user)
    timezone: str = user.timezone  # always sent: a str, not `str | Unset`
    goal: int | None = user.daily_goal_minutes
    if timezone != "Europe/Paris" or goal is not None:
        unexpected("register", user)

    wrong = users_login.sync(client=public, body=LoginRequest(email=email, password="not my password"))
    if not isinstance(wrong, InvalidCredentialsError) or wrong.code != "invalid_credentials":
        unexpected("login with a wrong password", wrong)

    tokens = users_login.sync(client=public, body=LoginRequest(email=email, password=password))
    if not isinstance(tokens, TokenPair):
        unexpected("login", tokens)
    api = AuthenticatedClient(base_url=base_url, token=tokens.access, raise_on_unexpected_status=True)

    me = users_me.sync(client=api)
    if not isinstance(me, User) or me.email != email:
        unexpected("me", me)

    quote = quotes_today.sync(client=api)
    if isinstance(quote, TodayQuote):
        author: str | None = quote.author
        print(f"Today: {quote.text} ({author or 'unknown'})")
    elif not isinstance(quote, NoQuotesError):  # a server with no quotes loaded yet
        unexpected("quote", quote)

    session = sessions_start.sync(
        client=api,
        body=StartRequest(planned_minutes=25, label="Draft the report"),
        idempotency_key=str(uuid.uuid4()),
    )
    if not isinstance(session, FocusSession):
        unexpected("start", session)
    clock: datetime = session.server_now  # a date-time, to draw the same timer on every device
    print(f"Focus from {session.start_time:%H:%M} (server clock {clock:%H:%M:%S})")

    # A second start is refused; the code says what is in the way, and where it is in the body.
    refused = sessions_start.sync(client=api, body=StartRequest(label="Another one"))
    if not isinstance(
        refused, SessionAlreadyActiveError | SessionOverlapError | FocusSessionClientIdConflictError
    ):
        unexpected("second start", refused)
    match refused.code:
        case "session_already_active":
            running: FocusSession | None = refused.active_session
            if running is None or running.id != session.id:
                unexpected("second start", refused)
        case "session_overlap":
            unexpected(f"second start (overlaps {refused.conflicting_session})", refused)
        case "client_id_conflict":
            unexpected(f"second start (client_id of {refused.existing})", refused)
        case _:
            assert_never(refused.code)

    paused = sessions_pause.sync(client=api)
    if not isinstance(paused, FocusSession) or not paused.is_paused:
        unexpected("pause", paused)
    again = sessions_pause.sync(client=api)
    if not isinstance(again, SessionAlreadyPausedError) or again.code != "session_already_paused":
        unexpected("pause twice", again)

    stopped = sessions_stop.sync(client=api, body=ActionRequest(), idempotency_key=str(uuid.uuid4()))
    if not isinstance(stopped, FocusSession) or stopped.end_time is None:
        unexpected("stop", stopped)
    ended: datetime = stopped.end_time

    journal = journals_create.sync(
        client=api,
        body=JournalCreateRequest(content="Good focus until the phone rang.", session=stopped.id),
        idempotency_key=str(uuid.uuid4()),
    )
    if not isinstance(journal, Journal) or journal.session != stopped.id or journal.editable:
        unexpected("journal", journal)

    # Tags and goals: what the focus was on, and how far it is from the week's target.
    report = tags_create.sync(client=api, body=TagCreateRequest(name="Report", color="#1e90ff"))
    if not isinstance(report, Tag):
        unexpected("tag", report)
    twin = tags_create.sync(client=api, body=TagCreateRequest(name="REPORT"))
    if not isinstance(twin, TagNameTakenError | TagClientIdConflictError):
        unexpected("same tag twice", twin)
    match twin.code:
        case "tag_name_taken":
            existing: Tag | None = twin.existing  # a device maps its own tag to this one
            if existing is None or existing.id != report.id:
                unexpected("same tag twice", twin)
        case "client_id_conflict":
            unexpected("same tag twice (client_id)", twin)
        case _:
            assert_never(twin.code)
    tagged = sessions_partial_update.sync(
        id=stopped.id, client=api, body=PatchedSessionUpdateRequest(tags=[report.id])
    )
    if not isinstance(tagged, FocusSession) or tagged.tags != [report.id]:
        unexpected("tag the session", tagged)
    weekly = goals_create.sync(
        client=api,
        body=GoalCreateRequest(tag=report.id, period="week", target_minutes=120),
    )
    if not isinstance(weekly, Goal):
        unexpected("goal", weekly)
    stats = sessions_stats.sync(client=api, days=7, tag=report.id)
    if not isinstance(stats, Stats):
        unexpected("stats", stats)
    by_tag: int | None = stats.by_tag[0].tag if stats.by_tag else None
    progress = [entry for entry in stats.goals if entry.goal == weekly.id]
    if by_tag != report.id or len(progress) != 1 or progress[0].met:
        unexpected("stats", stats)
    done = progress[0]
    print(f"{report.name}: {done.focus_seconds} s of {weekly.target_minutes} min since {done.period_start}")

    history = sessions_history.sync(client=api)
    if not isinstance(history, PaginatedFocusSessionList) or history.results[0].id != stopped.id:
        unexpected("history", history)
    older: str | None = history.next_  # always sent, null on the last page
    if older is not None:
        unexpected("history", history)

    feed = sync_changes.sync(client=api)
    if not isinstance(feed, SyncPage):
        unexpected("sync", feed)
    synced = [c.data for c in feed.changes if isinstance(c, SessionChange) and c.data is not None]
    if [s.end_time for s in synced] != [ended]:
        unexpected("sync", feed)

    # A status bar's script: a personal access token that may read sessions, and nothing else.
    made = tokens_create.sync(
        client=api,
        body=PersonalTokenCreateRequest(name="status bar", scopes=["sessions:read"], expires_in_days=30),
    )
    if not isinstance(made, PersonalTokenCreated) or not made.token.startswith("ffp_"):
        unexpected("make a token", made)
    script = AuthenticatedClient(base_url=base_url, token=made.token, raise_on_unexpected_status=True)
    seen = sessions_history.sync(client=script)
    if not isinstance(seen, PaginatedFocusSessionList) or seen.results[0].id != stopped.id:
        unexpected("history with the token", seen)
    denied = journals_list.sync(client=script)
    if not isinstance(denied, InsufficientScopeError):
        unexpected("journals with the token", denied)
    needed: str | None = denied.required_scope
    if denied.code != "insufficient_scope" or needed != "journals:read":
        unexpected("journals with the token", denied)
    # A webhook to a private address is refused, with the one message every refused URL gets.
    refused_hook = webhooks_create.sync(
        client=api, body=WebhookCreateRequest(url="https://10.0.0.1/hook", events=["session.stopped"])
    )
    if not isinstance(refused_hook, ValidationError) or "url" not in refused_hook.additional_properties:
        unexpected("webhook to a private address", refused_hook)
    hooks = webhooks_list.sync(client=api)
    if not isinstance(hooks, PaginatedWebhookList) or hooks.results:
        unexpected("webhooks", hooks)

    revoked = tokens_destroy.sync_detailed(id=made.id, client=api)
    if revoked.status_code != 204:
        unexpected("delete the token", revoked)

    # Leaving: the account goes, and its access token stops working at once.
    deleted = users_me_delete.sync_detailed(client=api, body=AccountDeleteRequest(password=password))
    if deleted.status_code != 204:
        unexpected("delete account", deleted)
    gone = users_me.sync(client=api)
    if not isinstance(gone, AuthenticationError):
        unexpected("me after deletion", gone)
    match gone.code:
        case "user_not_found" | "user_inactive":
            print("Signed out: the account is gone.")
        case "token_not_valid":
            unexpected("me after deletion (time to refresh the token)", gone)
        case "not_authenticated" | "bad_authorization_header":
            unexpected("me after deletion (the app sent no usable token)", gone)
        case _:
            assert_never(gone.code)


if __name__ == "__main__":
    app_day(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
