import re
from datetime import date
from zoneinfo import ZoneInfo

from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError

from focusflow.dates import local_range_filter
from focusflow.outage import is_database_outage
from journals.models import Journal
from users.models import User

SEARCH_CONFIG = "english"


def _stored_vector_matches(query: str, words: str) -> RawSQL:
    """`search_vector @@ <query>`: the text as parsed when it was written (migration 0004)."""
    table = connection.ops.quote_name(Journal._meta.db_table)
    return RawSQL(f"{table}.search_vector @@ {query}", [SEARCH_CONFIG, words], output_field=BooleanField())


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
    if connection.vendor == "postgresql":
        # websearch syntax: plain words (stemmed: "running" finds "ran" and "runs"), "quoted
        # phrases", -excluded words; any input is a valid query, never a syntax error.
        return journals.filter(_stored_vector_matches(_WEBSEARCH, _search_words(words)))
    # SQLite (local runs only): every word must appear somewhere in the content.
    condition = Q()
    for word in words.split():
        condition &= Q(content__icontains=word)
    return journals.filter(condition)


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
