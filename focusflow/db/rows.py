"""Hot reads without the ORM's per-call query building.

On the reads nearly every request of an app makes (the running session, the profile, the sync
position, the stats window), building and compiling the ORM query costs several times what
running it does (measured, docs/performance.md: the running session 1,150 µs of CPU through
`filter().first()` against 200 µs here). These build their SQL once per process, from the
model's own fields, and load rows as the ORM loads them (each column's converters, then
`Model.from_db`). Callers name fields, as with the ORM, never columns:

    rows_of(FocusDay, user=user.pk, date__gte=first, date__lte=today)
    first_of(FocusSession, user=user.pk, is_active=True)
    values_of(User, ("sync_seq", "sync_purged_seq"), pk=user.pk)
    rows_of(Journal, user=user.pk, pk__in=ids)  # a sync page's objects of one kind

A condition is `field=value`, `field__gte=value`, `field__lte=value` or `field__in=[values]`,
all of them joined with AND; anything richer is the ORM's job.
"""

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# A list parameter is one array to PostgreSQL (psycopg adapts it), so `= ANY` needs no
# placeholder per value and the SQL is the same whatever the list's length.
_OPERATORS = {"": "= %s", "gte": ">= %s", "lte": "<= %s", "in": "= ANY(%s)"}


def _field(model: type[Model], name: str) -> Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


@cache
def _sql(
    model: type[Model], fields: tuple[str, ...] | None, conditions: tuple[str, ...], limit: int | None
) -> str:
    quote = connection.ops.quote_name
    chosen = model._meta.concrete_fields if fields is None else [_field(model, name) for name in fields]
    where = []
    for key in conditions:
        name, _, operator = key.partition("__")
        where.append(f"{quote(_field(model, name).column)} {_OPERATORS[operator]}")
    sql = (
        f"SELECT {', '.join(quote(field.column) for field in chosen)} FROM {quote(model._meta.db_table)} "
        f"WHERE {' AND '.join(where)}"
    )
    return f"{sql} LIMIT {limit}" if limit is not None else sql


@cache
def _loading(model: type[Model]) -> tuple[tuple[str, ...], tuple]:
    """The model's field names as `Model.from_db` takes them, and each column's converters
    (the database backend's own and the field's, as the ORM applies them)."""
    table = model._meta.db_table
    converters = []
    for index, model_field in enumerate(model._meta.concrete_fields):
        column = model_field.get_col(table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return tuple(f.attname for f in model._meta.concrete_fields), tuple(converters)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def rows_of(model: type[Model], *, limit: int | None = None, **conditions: Any) -> list[Model]:
    """The `model` rows matching `conditions`, loaded as the ORM loads them."""
    names, converters = _loading(model)
    found = []
    for row in _fetch(_sql(model, None, tuple(conditions), limit), list(conditions.values())):
        if converters:
            row = list(row)
            for index, column, functions in converters:
                for convert in functions:
                    row[index] = convert(row[index], column, connection)
        found.append(model.from_db(connection.alias, names, row))
    return found


def first_of(model: type[Model], **conditions: Any) -> Model | None:
    """A `model` row matching `conditions` (for conditions at most one row meets), or None."""
    rows = rows_of(model, limit=1, **conditions)
    return rows[0] if rows else None


def values_of(model: type[Model], fields: tuple[str, ...], **conditions: Any) -> tuple | None:
    """`fields` of a row matching `conditions` (at most one does), as stored; None if none."""
    rows = _fetch(_sql(model, fields, tuple(conditions), 1), list(conditions.values()))
    return rows[0] if rows else None
