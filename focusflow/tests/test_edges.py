"""The ends of the calendar and odd characters, over the API (contract, "Edges"): a time a
client sends lies in [2000-01-01T00:00Z, 9999-01-01T00:00Z), a day in [2000-01-01, 9998-12-31];
anything else is a 400 on its field, never a 500, in any time zone a user may choose, and no
stored session can make a later write fail. Times, days and numbers are written in ASCII, and
a 415 does not repeat the client's header."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.core.dates import day_start
from focusflow.core.timezones import time_zone_names
from focusflow.testing import T0, forged_cursor, frozen
from journals.tests.factories import JournalFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SESSIONS, HISTORY, STATS = "/api/sessions/", "/api/sessions/history/", "/api/sessions/stats/"
START, STOP = "/api/sessions/start/", "/api/sessions/stop/"
JOURNALS, SYNC, ME = "/api/journals/", "/api/sync/", "/api/users/me/"
# The zones furthest from UTC either way, and some with odd offsets or odd days.
FAR_WEST, FAR_EAST = "Etc/GMT+12", "Etc/GMT-14"  # -12:00 and +14:00 (POSIX signs are inverted)


# --- times in a body ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:10:00Z"),  # the rollup's day arithmetic overflowed
        ("0001-01-01T10:00:00+14:00", "0001-01-01T10:10:00+14:00"),  # before year 1 in UTC
        ("1999-12-31T23:59:59.999999Z", "2000-01-01T00:10:00Z"),
        ("2000-01-01T00:00:00+00:01", "2000-01-01T00:10:00Z"),  # 1999-12-31T23:59Z
    ],
)
def test_a_session_logged_before_2000_is_a_400_on_its_times(alice_client, start, end):
    response = alice_client.post(SESSIONS, {"start_time": start, "end_time": end})
    assert response.status_code == 400, response.content
    assert "start_time" in response.json()
    assert set(response.json()) <= {"start_time", "end_time"}


def test_a_session_logged_at_2000_01_01_utc_is_taken_in_every_zone(client_for):
    for zone in (FAR_WEST, FAR_EAST, "Pacific/Kiritimati", "America/Adak"):
        client = client_for(UserFactory(timezone=zone))
        response = client.post(
            SESSIONS, {"start_time": "2000-01-01T00:00:00Z", "end_time": "2000-01-01T00:25:00Z"}
        )
        assert response.status_code == 201, (zone, response.content)


@pytest.mark.parametrize(
    "at", ["9999-01-01T00:00:00Z", "9999-12-31T23:00:00-12:00", "9999-06-01T00:00:00+14:00"]
)
def test_an_at_from_year_9999_is_a_400_on_at(alice_client, at):
    response = alice_client.post(START, {"at": at})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"at"}
    assert "2000-01-01" in response.json()["at"][0]  # the message says the bounds


def test_an_early_session_in_a_far_east_zone_cannot_break_later_writes(client_for):
    """0001-01-01T10:00Z is already the 2nd at +14:00: a session there was taken, and then a
    move to a western zone (its start before year 1 there) failed, for good."""
    user = UserFactory(timezone=FAR_EAST)
    client = client_for(user)
    logged = client.post(SESSIONS, {"start_time": "0001-01-01T10:00:00Z", "end_time": "0001-01-01T10:25:00Z"})
    moved = client.patch(ME, {"timezone": FAR_WEST})
    assert moved.status_code == 200, moved.content
    assert logged.status_code == 400, logged.content
    assert set(logged.json()) == {"start_time", "end_time"}


def test_the_earliest_session_survives_every_move_and_correction(client_for):
    """What validation lets in never makes a later write fail: a session at the lower bound,
    the user moving between the furthest zones, its times corrected there."""
    user = UserFactory(timezone=FAR_EAST)
    client = client_for(user)
    logged = client.post(SESSIONS, {"start_time": "2000-01-01T00:00:00Z", "end_time": "2000-01-01T00:25:00Z"})
    assert logged.status_code == 201
    one = f"{SESSIONS}{logged.json()['id']}/"
    for zone in (FAR_WEST, "Pacific/Kiritimati", "America/Adak", FAR_EAST, FAR_WEST):
        assert client.patch(ME, {"timezone": zone}).status_code == 200
        corrected = client.patch(
            one, {"start_time": "2000-01-01T00:00:00-00:00", "end_time": "2000-01-01T00:20:00Z"}
        )
        assert corrected.status_code == 200, (zone, corrected.content)
        assert client.patch(one, {"end_time": "2000-01-01T00:25:00Z"}).status_code == 200
        assert client.get(STATS, {"days": 366}).status_code == 200


def test_no_zone_a_user_may_choose_takes_a_time_within_bounds_out_of_range():
    """Every zone, not just the furthest: the local day of the first and the last instant a
    client may send, a day either side of it (the rollup's streaks), and the start of the days
    around the bounds of `from`/`to` are all datetimes."""
    first, last = datetime(2000, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC) - timedelta.resolution
    for name in time_zone_names():
        zone = ZoneInfo(name)
        for moment in (first, last):
            local_day = moment.astimezone(zone).date()  # an OverflowError if not a datetime
            assert date.min < local_day < date.max, name  # a day either side is a date too
        for day in (date(2000, 1, 1), date(9998, 12, 31) + timedelta(days=1)):
            assert day_start(day, zone) is not None, (name, day)


@pytest.mark.parametrize(
    "at",
    [
        "٢٠٢٦-11-20T09:00:00Z",  # Arabic-Indic digits
        "２０２６-11-20T09:00:00Z",  # fullwidth digits
        "2026-11-20T09:00:00Z\x00",  # a trailing NUL
        "2026-11-20T09:00:00Z\n",
    ],
)
def test_at_is_plain_ascii(alice_client, at):
    with frozen(T0):
        response = alice_client.post(START, {"at": at})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"at"}


def test_the_same_at_in_ascii_is_taken(alice_client):
    with frozen(T0 + timedelta(minutes=1)):
        response = alice_client.post(START, {"at": "2026-11-20T09:00:00Z"})
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["start_time"]) == T0.astimezone(UTC)


# --- days in a query ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HISTORY, JOURNALS])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "0001-01-01"}, "from"),
        ({"from": "1999-12-31"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"to": "9999-01-01"}, "to"),
    ],
)
def test_days_outside_2000_to_9998_are_a_400_on_the_field(alice_client, path, query, field):
    response = alice_client.get(path, query)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {field}


@pytest.mark.parametrize("path", [HISTORY, JOURNALS])
@pytest.mark.parametrize("zone", [FAR_WEST, FAR_EAST, "Pacific/Kiritimati", "Pacific/Apia"])
def test_the_widest_range_of_days_is_fine_in_every_zone(client_for, path, zone):
    user = UserFactory(timezone=zone)
    FocusSessionFactory(user=user)
    JournalFactory(user=user)
    response = client_for(user).get(path, {"from": "2000-01-01", "to": "9998-12-31"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(("path", "name"), [(HISTORY, "from"), (JOURNALS, "to")])
@pytest.mark.parametrize("day", ["٢٠٢٦-١١-٢٠", "２０２６-11-20", "2026-11-20\n"])
def test_a_day_in_a_query_is_ascii_digits(alice_client, path, name, day):
    response = alice_client.get(path, {name: day})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {name}


# --- list cursors -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HISTORY, JOURNALS])
@pytest.mark.parametrize(
    "position",
    [
        "9999-12-31T23:00:00-12:00",  # after year 9999 in UTC: the query overflowed
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "1999-12-31T23:59:59Z",
        "9999-01-01T00:00:00Z",
        "٢٠٢٦-11-20T09:00:00+00:00",  # percent-encoded in the cursor, then read as digits
        "2026-11-20T09:00:00+00:00\x00",
    ],
)
def test_a_forged_list_cursor_out_of_bounds_or_garbled_is_a_400_on_cursor(alice_client, path, position):
    response = alice_client.get(path, {"cursor": forged_cursor(position)})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"cursor"}


@pytest.mark.parametrize("path", [HISTORY, JOURNALS])
def test_a_cursor_inside_the_bounds_pages_on(alice_client, alice, path):
    FocusSessionFactory(user=alice)
    JournalFactory(user=alice)
    response = alice_client.get(path, {"cursor": forged_cursor("9998-12-31T23:59:59.999999+14:00")})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- numbers in a query -------------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["٣", "３", "1_0", "3.0", " 3", "²"])
@pytest.mark.parametrize(
    ("path", "name"),
    [
        (SYNC, "limit"),
        (STATS, "days"),
        (HISTORY, "page_size"),
        (JOURNALS, "page_size"),
        (JOURNALS, "session"),
    ],
)
def test_a_number_in_a_query_is_ascii_digits(alice_client, path, name, digits):
    response = alice_client.get(path, {name: digits})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {name}


# --- the 415 ------------------------------------------------------------------------------------


def test_a_415_does_not_echo_the_content_type(alice_client):
    content_type = "text/plain; " + "x" * 5000
    response = alice_client.generic("POST", START, b"{}", content_type=content_type)
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert "xxxx" not in body["detail"] and len(body["detail"]) < 100


@pytest.mark.parametrize(
    "at_value",
    ["2026-11-20T09:00:00+00:00:30", "2026-11-20T09:00:00.5+00:00:00.500000", "2026-11-20T09:00:00+23:59:59"],
)
def test_an_offset_with_seconds_is_a_400_not_a_shifted_instant(alice_client, at_value):
    with frozen(T0):
        response = alice_client.post("/api/sessions/start/", {"at": at_value}, format="json")
    assert (response.status_code, set(response.json())) == (400, {"at"})


@pytest.mark.parametrize("day", ["20261120", "2026-W47-5", "2026-11-2", "2026-324"])
def test_a_day_is_written_yyyy_mm_dd_only(alice_client, day):
    response = alice_client.get("/api/sessions/history/", {"from": day})
    assert (response.status_code, set(response.json())) == (400, {"from"})


def test_a_client_id_in_other_digits_is_not_another_spelling_of_an_id(alice_client):
    response = alice_client.post(
        "/api/journals/create/", {"content": "x", "client_id": "٠" * 32}, format="json"
    )
    assert (response.status_code, set(response.json())) == (400, {"client_id"})
