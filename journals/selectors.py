import re
from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from focusflow.core.dates import local_range_filter
from focusflow.db.outage import is_database_outage
from journals.models import SEARCH_CONFIG, Journal
from users.models import User

# websearch_to_tsquery nests one NOT per `-`, whatever punctuation stands between them, and
# PostgreSQL gives up ("tsquery stack too small") past about 32; two mean no more than one.
_REPEATED_NEGATION = re.compile(r'-(?:[^\w"]*-)+')


_WEBSEARCH = "websearch_to_tsquery(%s::regconfig, %s)"


def _search_words(words: str) -> str:
    """The client's words, ready for the full-text query; a 400 on `search` if PostgreSQL
    cannot build it (checked on its own, in a savepoint, so the list query itself never fails)."""
    words = _REPEATED_NEGATION.sub("-", words)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT {_WEBSEARCH}", [SEARCH_CONFIG, words])
    except DatabaseError as exc:
        if is_database_outage(exc):
            raise
        raise ValidationError({"search": ["This search cannot be run; use fewer operators."]}) from None
    return words


def _matching(journals: QuerySet[Journal], words: str) -> QuerySet[Journal]:
    """websearch syntax: plain words (stemmed: "running" finds "ran" and "runs"), "quoted
    phrases", -excluded words; matched against the text as parsed when it was written."""
    query = SearchQuery(_search_words(words), config=SEARCH_CONFIG, search_type="websearch")
    return journals.filter(search_vector=query)


def journal_list(
    *,
    user: User,
    session_id: int | None = None,
    search: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> QuerySet[Journal]:
    journals = Journal.objects.filter(
        user=user,
        **local_range_filter("created_at", zone=ZoneInfo(user.timezone), first=first, last=last),
    )
    if session_id is not None:
        journals = journals.filter(session_id=session_id)
    if search:
        journals = _matching(journals, search)
    return journals


def journals_export_rows(*, user: User) -> QuerySet[Journal]:
    """The user's journals for the data export, oldest first."""
    return Journal.objects.filter(user=user).order_by("created_at", "id")
