"""What the database said when it refused a write, whether it answers at all, and plain SQL
for the few reads on hot paths.

Hot reads (the running session, the profile, the sync position, stats) are written as SQL
and loaded as the ORM loads rows (`rows_of`): building and compiling the same ORM query on
every request cost more than running it. Each field's database converters still apply, so the
same SQL serves PostgreSQL and SQLite alike.
"""

from functools import cache

from django.db import IntegrityError, connection
from django.db.models import Model


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint or index a write violated, on PostgreSQL; None where the
    driver does not say (SQLite, the quick local run), and callers then check for themselves."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def database_answers() -> None:
    """At most one round trip; an outage raises here, and the request answers 503 like any
    other. For the answers served from the shared cache alone (the quote of the day): with the
    database out of reach every /api/ request answers 503, as the contract says.

    A request's first use of a kept connection runs Django's health check (CONN_HEALTH_CHECKS,
    its own `SELECT 1`), and opening a connection is an answer too: either is proof enough, so
    a second `SELECT 1` is sent only when neither happened in this request."""
    unchecked = connection.health_check_enabled and not connection.health_check_done
    if connection.connection is None or unchecked:
        connection.close_if_health_check_failed()  # a kept connection: Django's SELECT 1
        connection.ensure_connection()  # none, or it failed the check: connect (or raise)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@cache
def select_from(model: type[Model]) -> str:
    """`SELECT <columns> FROM <table>` for a model's concrete fields, in the model's order."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(model._meta.db_table)}"


@cache
def _loading(model: type[Model]) -> tuple[tuple[str, ...], tuple]:
    """The model's field names as `Model.from_db` takes them, and each column's converters
    (the database's own and the field's, as the ORM applies them: SQLite's datetimes...)."""
    table = model._meta.db_table
    converters = []
    for index, model_field in enumerate(model._meta.concrete_fields):
        column = model_field.get_col(table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return tuple(f.attname for f in model._meta.concrete_fields), tuple(converters)


def rows_of(model: type[Model], where: str, params: list) -> list[Model]:
    """The `model` rows matching plain SQL `where` (columns by name), as the ORM would load
    them; without the per-call setup of `Model.objects.raw()`."""
    names, converters = _loading(model)
    with connection.cursor() as cursor:
        cursor.execute(f"{select_from(model)} WHERE {where}", params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        if converters:
            row = list(row)
            for index, column, functions in converters:
                for convert in functions:
                    row[index] = convert(row[index], column, connection)
        found.append(model.from_db(connection.alias, names, row))
    return found


def first_of(model: type[Model], where: str, params: list) -> Model | None:
    """The first `model` row matching plain SQL `where`, or None."""
    rows = rows_of(model, f"{where} LIMIT 1", params)
    return rows[0] if rows else None


def row_of(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
