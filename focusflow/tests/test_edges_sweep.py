"""Every endpoint that takes a time or a day, sent the ends of the calendar (years 1 and 9999,
the bounds themselves), every UTC offset from -12:00 to +14:00, the DST edges of the zones
that have them and seeded random values, by users in the furthest zones: the answer is never a
5xx, a value outside the contract's bounds (or not plain ASCII) is a 400 on its own field, and
afterwards every user can still move to any other zone and read their stats.

A deterministic sweep plus a seeded random sample (no property-testing library): a failure
names its seed and case, and runs again the same way."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.core.timezones import time_zone_names
from focusflow.testing import T0, forged_cursor, frozen
from journals.tests.factories import JournalFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The contract's bounds, written out here rather than imported: the test checks the code.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)

ZONES = [
    "Etc/GMT+12",  # -12:00, the furthest west
    "Pacific/Pago_Pago",  # -11:00
    "America/Adak",  # -10:00, DST -09:00
    "Pacific/Marquesas",  # -09:30
    "America/St_Johns",  # -03:30, DST -02:30
    "UTC",
    "Europe/Paris",  # DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # +10:30, DST of half an hour
    "Pacific/Chatham",  # +12:45, DST +13:45
    "Pacific/Apia",  # +13:00; skipped 2011-12-30 when it crossed the date line
    "Pacific/Kiritimati",  # +14:00
    "Etc/GMT-14",  # +14:00, the furthest east
]
# Every offset in use anywhere, and more: each quarter hour from -12:00 to +14:00.
OFFSETS = [timedelta(minutes=m) for m in range(-12 * 60, 14 * 60 + 1, 15)]
# The moment the sweep runs at: `at` may be at most 24 hours old.
NOW = T0

LOG = SESSIONS = "/api/sessions/"
START, STOP, PAUSE, RESUME = (f"{SESSIONS}{name}/" for name in ("start", "stop", "pause", "resume"))
HISTORY, STATS = f"{SESSIONS}history/", f"{SESSIONS}stats/"
JOURNALS, ME = "/api/journals/", "/api/users/me/"


def offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02}:{minutes % 60:02}"


def in_bounds(text: str) -> bool:
    """Whether the contract takes this instant: plain ASCII, with an offset, in the bounds."""
    if not (text.isascii() and text.isprintable()):
        return False
    try:
        moment = datetime.fromisoformat(text)
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return False
    return utc is not None and EARLIEST <= utc < LATEST


def day_in_bounds(text: str) -> bool:
    if not (text.isascii() and text.isprintable()):
        return False
    try:
        return FIRST_DAY <= date.fromisoformat(text) <= LAST_DAY
    except ValueError:
        return False


class Person:
    """A user in one zone, with a stopped session to correct and a journal to list."""

    def __init__(self, client_for, zone: str, *, history: bool = True) -> None:
        assert zone in time_zone_names(), zone  # one a user may choose
        self.user = UserFactory(timezone=zone)
        self.client = client_for(self.user)
        if history:
            self.session = FocusSessionFactory(user=self.user)
            JournalFactory(user=self.user)

    def log(self, start, end):
        """Both times of a logged session, each checked on its own."""
        response = self.client.post(LOG, {"start_time": start, "end_time": end})
        return {"start_time": start, "end_time": end}, response

    def patch(self, start, end):
        response = self.client.patch(f"{SESSIONS}{self.session.pk}/", {"start_time": start, "end_time": end})
        return {"start_time": start, "end_time": end}, response

    # Each sends `value` as one field of one endpoint, and names that field.

    def log_start(self, value):
        return "start_time", self.client.post(LOG, {"start_time": value, "end_time": "2026-11-20T08:00:00Z"})

    def log_end(self, value):
        return "end_time", self.client.post(LOG, {"start_time": "2026-11-20T07:30:00Z", "end_time": value})

    def patch_start(self, value):
        return "start_time", self.client.patch(f"{SESSIONS}{self.session.pk}/", {"start_time": value})

    def patch_end(self, value):
        return "end_time", self.client.patch(f"{SESSIONS}{self.session.pk}/", {"end_time": value})

    def action_at(self, path):
        return lambda value: ("at", self.client.post(path, {"at": value}))

    def cursor(self, path):
        return lambda value: ("cursor", self.client.get(path, {"cursor": forged_cursor(value)}))

    def day(self, path, name):
        return lambda value: (name, self.client.get(path, {name: value}))

    def instant_senders(self):
        return [
            self.log_start,
            self.log_end,
            self.patch_start,
            self.patch_end,
            *(self.action_at(path) for path in (START, PAUSE, RESUME, STOP)),
            self.cursor(HISTORY),
            self.cursor(JOURNALS),
        ]

    def day_senders(self):
        return [self.day(path, name) for path in (HISTORY, JOURNALS) for name in ("from", "to")]


def check(sent, value: str, *, expected_valid: bool) -> None:
    field, response = sent
    case = f"{field}={value!r}: {response.status_code} {response.content[:300]!r}"
    assert response.status_code < 500, case
    assert response.status_code != 429, case  # the sweep must stay under the rate limits
    if not expected_valid:
        assert response.status_code == 400, case
        assert field in response.json(), case


def check_times(sent) -> None:
    """A request that sent several times: each out of bounds is named in the 400."""
    values, response = sent
    for field, value in values.items():
        check((field, response), value, expected_valid=in_bounds(value))


def can_still_move_and_read(people: list[Person]) -> None:
    """No stored session makes a later write fail: every user moves to the furthest zones
    either way (every session's local day recounted there) and back, and reads."""
    for person in people:
        home = person.user.timezone
        for zone in (ZONES[0], ZONES[-1], home):
            moved = person.client.patch(ME, {"timezone": zone})
            assert moved.status_code == 200, (home, zone, moved.content)
            assert person.client.get(STATS, {"days": 366}).status_code == 200
        for path in (HISTORY, JOURNALS):
            assert person.client.get(path, {"from": "2000-01-01", "to": "9998-12-31"}).status_code == 200


def test_every_offset_at_the_ends_of_the_calendar(client_for):
    """Each offset's years 1 and 9999 and the bounds: the logged and corrected times two to a
    request; `at` (of each action) and the two list cursors take turns, so that each of them
    meets each kind of value at offsets all along the range."""
    with frozen(NOW):
        people = [Person(client_for, zone) for zone in ZONES]
        for index, offset in enumerate(OFFSETS):
            person = people[index % len(people)]  # each offset from another zone's user
            suffix = offset_text(offset)
            first, last = f"0001-01-01T00:00:00{suffix}", f"9999-12-31T23:59:59.999999{suffix}"
            # Taken from +00:00 westwards, and east of +00:00:
            lower, upper = f"2000-01-01T00:00:00{suffix}", f"9999-01-01T00:00:00{suffix}"
            for start, end in ((first, last), (lower, upper)):
                check_times(person.log(start, end))
                check_times(person.patch(start, end))
            singles = [*(person.action_at(path) for path in (START, PAUSE, RESUME, STOP))]
            singles += [person.cursor(HISTORY), person.cursor(JOURNALS)]
            for turn, value in enumerate((first, last, lower, upper), start=index):
                check(singles[turn % len(singles)](value), value, expected_valid=in_bounds(value))
        can_still_move_and_read(people)


def test_the_widest_days_and_the_odd_ones_in_every_zone(client_for):
    days = ["0001-01-01", "1999-12-31", "2000-01-01", "2011-12-30", "2026-03-29", "9998-12-31", "9999-01-01"]
    days += ["9999-12-31", "2026-02-29", "10000-01-01"]
    with frozen(NOW):
        for zone in ZONES:
            person = Person(client_for, zone)
            for value in days:
                for send in person.day_senders():
                    check(send(value), value, expected_valid=day_in_bounds(value))


def dst_edges(zone: str, year: int) -> list[datetime]:
    """The instants (UTC) at which the zone's offset changed during `year`."""
    tz, edges = ZoneInfo(zone), []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        after = moment + timedelta(minutes=30)
        if moment.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset():
            edges.append(after)
        moment = after
    return edges


def written_in(moment: datetime, zone: str) -> str:
    """The instant as a device in that zone writes it, with the offset in force then."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


@pytest.mark.parametrize(
    ("zone", "year"),
    [
        ("Europe/Paris", 2026),
        ("America/Adak", 2026),
        ("America/St_Johns", 2026),
        ("Australia/Lord_Howe", 2026),
        ("Pacific/Chatham", 2026),
        ("Pacific/Apia", 2011),  # the day it skipped
    ],
)
def test_sessions_across_a_dst_edge_count_and_survive_every_move(client_for, zone, year):
    edges = dst_edges(zone, year)
    assert edges, (zone, year)
    with frozen(NOW):
        logger, timer = Person(client_for, zone, history=False), Person(client_for, zone, history=False)
    for edge in edges:
        # Logged afterwards, across the edge, written in the zone's own offsets.
        with frozen(NOW):
            start, end = edge - timedelta(minutes=45), edge + timedelta(minutes=45)
            body = {"start_time": written_in(start, zone), "end_time": written_in(end, zone)}
            logged = logger.client.post(LOG, body)
            assert logged.status_code == 201, logged.content
            day = start.astimezone(ZoneInfo(zone)).date().isoformat()
            listed = logger.client.get(HISTORY, {"from": day, "to": day}).json()["results"]
            assert logged.json()["id"] in [session["id"] for session in listed]
        # Timed live across the edge, each action sent a little late with the offset of its moment.
        with frozen(edge + timedelta(hours=2)):
            for path, minutes in [(START, -60), (PAUSE, -1), (RESUME, 0), (STOP, 60)]:
                response = timer.client.post(
                    path, {"at": written_in(edge + timedelta(minutes=minutes), zone)}
                )
                assert response.status_code in (200, 201), (path, response.content)
            assert timer.client.get(STATS, {"days": 366}).status_code == 200
    with frozen(NOW):
        can_still_move_and_read([logger, timer])


DIGITS = {"arabic": "٠١٢٣٤٥٦٧٨٩", "fullwidth": "０１２３４５６７８９"}


def random_instant(rng: random.Random) -> str:
    """Mostly near the ends of the calendar and the bounds, with any offset up to ±23:59 (and
    a few beyond it, naive or garbled)."""
    year = rng.choice([1, 2, 1999, 2000, 2001, 2026, 2026, 9998, 9999, rng.randint(1, 9999)])
    moment = datetime(year, rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24), rng.randrange(60))
    moment = moment.replace(
        second=rng.randrange(60), microsecond=rng.choice([0, 999999, rng.randrange(10**6)])
    )
    if year == 2026:  # near now, where `at` is taken
        moment = (NOW + timedelta(minutes=rng.randint(-26 * 60, 10))).replace(tzinfo=None)
    kind = rng.random()
    if kind < 0.05:
        return moment.isoformat()  # naive
    if kind < 0.1:
        return moment.isoformat() + rng.choice(["+24:00", "-24:00", "+99:00", "+14"])
    minutes = rng.choice([rng.randint(-12 * 60, 14 * 60), rng.randint(-1439, 1439), -1439, 1439, 0])
    text = moment.isoformat() + (
        "Z" if minutes == 0 and rng.random() < 0.5 else offset_text(timedelta(minutes=minutes))
    )
    return garbled(text, rng) if rng.random() < 0.1 else text


def garbled(text: str, rng: random.Random) -> str:
    """One of the ways a number stops being plain ASCII."""
    choice = rng.randrange(3)
    if choice == 0:
        return text + "\x00"
    digits = DIGITS["arabic" if choice == 1 else "fullwidth"]
    return "".join(digits[int(c)] if c.isdigit() and rng.random() < 0.5 else c for c in text[:4]) + text[4:]


def random_day(rng: random.Random) -> str:
    year = rng.choice([1, 1999, 2000, 2026, 9998, 9999, rng.randint(1, 9999)])
    text = date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
    return garbled(text, rng) if rng.random() < 0.1 else text


@pytest.mark.parametrize("seed", [16, 1602, 20261120])
def test_random_times_and_days(client_for, seed):
    """A seeded sample: a failure names its seed (in the test id) and its case, and runs again
    the same way."""
    rng = random.Random(seed)
    with frozen(NOW):
        people = [Person(client_for, zone) for zone in ZONES]
        for _ in range(100):
            person = rng.choice(people)
            if rng.random() < 0.8:
                value = random_instant(rng)
                send, valid = rng.choice(person.instant_senders()), in_bounds(value)
            else:
                value = random_day(rng)
                send, valid = rng.choice(person.day_senders()), day_in_bounds(value)
            check(send(value), value, expected_valid=valid)
        can_still_move_and_read(people)


def test_the_sweep_knows_the_bounds():
    """The test's own idea of the bounds, pinned (a sweep that took everything would pass)."""
    assert in_bounds("2000-01-01T00:00:00Z") and not in_bounds("1999-12-31T23:59:59.999999Z")
    assert in_bounds("2000-01-01T00:00:00-12:00") and not in_bounds("2000-01-01T00:00:00+00:01")
    assert in_bounds("9998-12-31T23:59:59.999999Z") and not in_bounds("9999-01-01T00:00:00Z")
    assert in_bounds("9999-01-01T13:59:00+14:00") and not in_bounds("9998-12-31T12:00:00-12:00")
    assert not in_bounds("0001-01-01T00:00:00+14:00") and not in_bounds("9999-12-31T23:00:00-12:00")
    assert not in_bounds("2026-11-20T09:00:00") and not in_bounds("2026-11-20T09:00:00Z\x00")
    assert day_in_bounds("9998-12-31") and not day_in_bounds("9999-01-01") and not day_in_bounds("1999-12-31")
    assert sum(in_bounds(f"2000-01-01T00:00:00{offset_text(o)}") for o in OFFSETS) == 12 * 4 + 1
    assert (OFFSETS[0], OFFSETS[-1], len(OFFSETS)) == (timedelta(hours=-12), timedelta(hours=14), 105)
