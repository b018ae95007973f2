"""Stream slots without Redis (one process): the 50-stream limit, renewal, lapse, and a slot
whose stream never started (the client left during the opening) given back."""

import time

import pytest

from focusflow.events import slots


@pytest.fixture(autouse=True)
def one_process(settings, monkeypatch):
    settings.REDIS_URL = None
    settings.EVENTS_MAX_STREAMS_PER_USER = 3
    settings.EVENTS_HEARTBEAT_SECONDS = 1
    monkeypatch.setattr(slots, "_local", {})
    monkeypatch.setattr(slots, "_unstarted", {})


def test_an_account_gets_its_limit_of_slots_and_one_back_when_a_stream_ends():
    taken = [slots.stream_slot_take(user_id=1) for _ in range(3)]
    assert all(taken)
    assert slots.stream_slot_take(user_id=1) is None
    assert slots.stream_slot_take(user_id=2) is not None  # another account's count
    slots.stream_slot_release(user_id=1, slot=taken[0])
    assert slots.stream_slot_take(user_id=1) is not None


def test_renewed_slots_stay_and_the_others_lapse(monkeypatch):
    taken = [slots.stream_slot_take(user_id=1) for _ in range(3)]
    for slot in taken:
        slots.stream_slot_started(slot)
    later = time.time() + 2 * slots.SLOT_HEARTBEATS
    slots.stream_slots_keep([(1, taken[0])])
    monkeypatch.setattr(slots.time, "time", lambda: later - slots.SLOT_HEARTBEATS + 0.5)
    slots.stream_slots_keep([(1, taken[0])])  # the one stream still open
    monkeypatch.setattr(slots.time, "time", lambda: later)
    assert slots.stream_slot_take(user_id=1) is not None
    assert slots.stream_slot_take(user_id=1) is not None
    assert slots.stream_slot_take(user_id=1) is None  # the renewed one still counts


def test_a_slot_whose_stream_never_started_is_given_back_on_the_next_renewal(monkeypatch):
    taken = [slots.stream_slot_take(user_id=1) for _ in range(3)]
    slots.stream_slot_started(taken[0])
    assert slots.stream_slot_take(user_id=1) is None
    now = time.monotonic() + slots.UNSTARTED_SECONDS + 1
    monkeypatch.setattr(slots.time, "monotonic", lambda: now)
    slots.stream_slots_keep([(1, taken[0])])
    assert slots.stream_slot_take(user_id=1) is not None
    assert slots.stream_slot_take(user_id=1) is not None
    assert slots.stream_slot_take(user_id=1) is None
