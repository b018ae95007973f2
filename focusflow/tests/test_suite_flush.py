"""The suite's own footing: a transactional test's closing flush survives a server process of
the test still reading (conftest `_flush_outlasts_deadlocks`)."""

import threading

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from focusflow.tests.db_outage import wait_for_a_backend_waiting_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_that_meets_a_reader_in_a_deadlock_flushes_again():
    # The order the flush names (and locks) the tables in: the reader holds the last, then
    # asks for the first, as one statement reading two tables may.
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    first, last = tables[0], tables[-1]
    params = connection.get_connection_params()
    params = {key: params[key] for key in ("dbname", "user", "password", "host", "port") if key in params}
    failed: list[BaseException] = []

    def flush():
        try:
            call_command("flush", verbosity=0, interactive=False)
        except BaseException as exc:
            failed.append(exc)
        finally:
            connection.close()  # this thread's own

    with psycopg.connect(**params) as reader:
        reader.execute(f'SELECT 1 FROM "{last}" LIMIT 1')
        flusher = threading.Thread(target=flush)
        flusher.start()
        with connection.cursor() as cursor:  # this thread's, in autocommit: fresh statistics
            wait_for_a_backend_waiting_on_a_lock(cursor)
        # The flush holds `first` and waits for `last`: this read closes the cycle, and
        # PostgreSQL ends the flush, which waited first.
        reader.execute(f'SELECT 1 FROM "{first}" LIMIT 1')
        reader.commit()
    flusher.join(timeout=30)
    assert not flusher.is_alive()
    assert failed == []
