"""Take the test database away from this process for real: the connection is closed and
pointed at a port where nothing listens, as when the server is down. And a way to hold a
request of a live server inside the database (behind a lock) at a moment of the test's choice."""

import time

from django.db import connection

_saved: dict[str, str] = {}


def cut_database() -> None:
    connection.close()
    _saved.setdefault("PORT", connection.settings_dict["PORT"])
    connection.settings_dict["PORT"] = "1"


def restore_database() -> None:
    connection.close()
    if "PORT" in _saved:
        connection.settings_dict["PORT"] = _saved.pop("PORT")


def wait_for_a_backend_waiting_on_a_lock(cursor) -> None:
    for _ in range(200):
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if cursor.fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the request never reached the locked table")
