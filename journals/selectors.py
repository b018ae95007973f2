import re
from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from focusflow.dates import local_range_filter
from journals.models import Journal

SEARCH_CONFIG = "english"


def search_vector() -> SearchVector:
    """The expression the GIN index of migration 0002 is built on; a query must use exactly it."""
    return SearchVector("content", config=SEARCH_CONFIG)


# websearch_to_tsquery nests one NOT per `-`, whatever punctuation stands between them, and
# PostgreSQL gives up ("tsquery stack too small") past about 32; two mean no more than one.
_REPEATED_NEGATION = re.compile(r'-(?:[^\w"]*-)+')


def _search_query(words: str) -> SearchQuery:
    """The full-text query for the client's words; a 400 on `search` if PostgreSQL cannot
    build it (checked on its own, in a savepoint, so the list query itself never fails)."""
    words = _REPEATED_NEGATION.sub("-", words)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT websearch_to_tsquery(%s::regconfig, %s)", [SEARCH_CONFIG, words])
    except DatabaseError:
        raise ValidationError({"search": ["This search cannot be run; use fewer operators."]}) from None
    return SearchQuery(words, config=SEARCH_CONFIG, search_type="websearch")


def _matching(journals: QuerySet[Journal], words: str) -> QuerySet[Journal]:
    if connection.vendor == "postgresql":
        # websearch syntax: plain words (stemmed: "running" finds "ran" and "runs"), "quoted
        # phrases", -excluded words; any input is a valid query, never a syntax error.
        return journals.alias(document=search_vector()).filter(document=_search_query(words))
    # SQLite (local runs only): every word must appear somewhere in the content.
    condition = Q()
    for word in words.split():
        condition &= Q(content__icontains=word)
    return journals.filter(condition)


def journal_list(
    *,
    user,
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


def journals_export(*, user) -> list[dict]:
    from journals.serializers import JournalSerializer

    journals = Journal.objects.filter(user=user).order_by("created_at", "id")
    return JournalSerializer(journals.iterator(chunk_size=2000), many=True).data
