"""Goals (contract: "Tags and goals (v1.2)"): every row over HTTP, the daily goal kept in step
with the profile's `daily_goal_minutes` both ways, goals in stats."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from focus_sessions import services, tags
from focus_sessions.models import Goal
from focusflow.testing import DeviceCopy
from users.models import User

pytestmark = pytest.mark.django_db

GOALS, ME, SYNC, STATS = "/api/goals/", "/api/users/me/", "/api/sync/", "/api/sessions/stats/"


def one(goal_id) -> str:
    return f"{GOALS}{goal_id}/"


def goal(client, **body) -> dict:
    response = client.post(GOALS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_goal_is_201_with_every_field(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="Spanish")
    response = alice_client.post(
        GOALS, {"tag": tag.pk, "period": "week", "target_minutes": 300}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "tag",
        "period",
        "target_minutes",
        "client_id",
        "version",
        "created_at",
        "updated_at",
    }
    assert (body["tag"], body["period"], body["target_minutes"], body["version"]) == (tag.pk, "week", 300, 1)
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tag": None, "period": "day", "target_minutes": 1441}, "target_minutes"),
        ({"tag": None, "period": "week", "target_minutes": 10081}, "target_minutes"),
        ({"tag": None, "period": "week", "target_minutes": 0}, "target_minutes"),
        ({"tag": None, "period": "month", "target_minutes": 10}, "period"),
        ({"tag": 10**12, "period": "day", "target_minutes": 10}, "tag"),
        ({"tag": "x", "period": "day", "target_minutes": 10}, "tag"),
        ({"period": "day", "target_minutes": 10}, "tag"),
    ],
)
def test_a_bad_goal_is_a_400_on_its_field(alice_client, body, field):
    response = alice_client.post(GOALS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Goal.objects.exists()


def test_a_goal_on_another_users_tag_is_a_400(alice_client, bob):
    bobs, _ = tags.tag_create(user=bob, name="bob's")
    response = alice_client.post(
        GOALS, {"tag": bobs.pk, "period": "day", "target_minutes": 10}, format="json"
    )
    assert response.status_code == 400
    assert "tag" in response.json()


def test_goals_need_a_token(api_client):
    assert api_client.get(GOALS).status_code == 401


def test_a_second_goal_for_a_tag_and_period_is_a_409_with_the_first(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="x")
    first = goal(alice_client, tag=tag.pk, period="day", target_minutes=30)
    response = alice_client.post(GOALS, {"tag": tag.pk, "period": "day", "target_minutes": 60}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "goal_exists"
    assert response.json()["existing"] == first
    goal(alice_client, tag=tag.pk, period="week", target_minutes=60)  # another period is fine


def test_only_one_goal_with_no_tag_per_period(alice_client):
    goal(alice_client, tag=None, period="week", target_minutes=600)
    response = alice_client.post(GOALS, {"tag": None, "period": "week", "target_minutes": 60}, format="json")
    assert response.status_code == 409
    assert Goal.objects.count() == 1


def test_client_id_rules_apply_to_goals(alice_client):
    client_id = str(uuid.uuid4())
    body = {"tag": None, "period": "week", "target_minutes": 60, "client_id": client_id}
    first = goal(alice_client, **body)
    again = alice_client.post(GOALS, body, format="json")
    assert (again.status_code, again.json()) == (200, first)
    other = alice_client.post(GOALS, {**body, "target_minutes": 61}, format="json")
    assert (other.status_code, other.json()["code"]) == (409, "client_id_conflict")
    alice_client.delete(one(first["id"]))
    gone = alice_client.post(GOALS, body, format="json")
    assert (gone.status_code, gone.json()["code"]) == (410, "client_id_deleted")


def test_bobs_token_on_alices_goal_is_a_404(alice_client, bob_client):
    mine = goal(alice_client, tag=None, period="week", target_minutes=60)
    assert bob_client.get(one(mine["id"])).status_code == 404
    assert bob_client.patch(one(mine["id"]), {"target_minutes": 5}, format="json").status_code == 404
    assert bob_client.delete(one(mine["id"])).status_code == 404
    assert Goal.objects.get(pk=mine["id"]).target_minutes == 60


def test_patch_changes_a_goal_and_a_stale_if_match_is_a_412(alice_client, alice):
    mine = goal(alice_client, tag=None, period="week", target_minutes=60)
    changed = alice_client.patch(one(mine["id"]), {"target_minutes": 90}, format="json", HTTP_IF_MATCH='"1"')
    assert (changed.status_code, changed.json()["target_minutes"], changed.json()["version"]) == (200, 90, 2)
    stale = alice_client.patch(one(mine["id"]), {"target_minutes": 5}, format="json", HTTP_IF_MATCH='"1"')
    assert (stale.status_code, stale.json()["current"]["target_minutes"]) == (412, 90)
    assert alice_client.delete(one(mine["id"]), HTTP_IF_MATCH='"1"').status_code == 412
    assert alice_client.patch(one(mine["id"]), {"period": "day"}, format="json").status_code == 200
    too_much = alice_client.patch(one(mine["id"]), {"period": "week", "target_minutes": 20000}, format="json")
    assert too_much.status_code == 400


def test_patch_onto_an_existing_tag_and_period_is_a_409(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="x")
    goal(alice_client, tag=tag.pk, period="week", target_minutes=60)
    other = goal(alice_client, tag=None, period="week", target_minutes=60)
    response = alice_client.patch(one(other["id"]), {"tag": tag.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "goal_exists")


def test_the_list_is_newest_first_and_only_mine(alice_client, bob_client):
    first = goal(alice_client, tag=None, period="week", target_minutes=60)
    second = goal(alice_client, tag=None, period="day", target_minutes=30)
    goal(bob_client, tag=None, period="day", target_minutes=30)
    assert [g["id"] for g in alice_client.get(GOALS).json()["results"]] == [second["id"], first["id"]]


# --- the daily goal is the profile's daily_goal_minutes -------------------------------------------


def daily(user) -> Goal | None:
    return Goal.objects.filter(user=user, tag__isnull=True, period="day").first()


def test_setting_daily_goal_minutes_sets_the_goal_and_clearing_it_deletes_it(alice_client, alice):
    alice_client.patch(ME, {"daily_goal_minutes": 45}, format="json")
    assert daily(alice).target_minutes == 45
    alice_client.patch(ME, {"daily_goal_minutes": 50}, format="json")
    assert (daily(alice).target_minutes, daily(alice).version) == (50, 2)
    alice_client.patch(ME, {"daily_goal_minutes": None}, format="json")
    assert daily(alice) is None


def test_the_daily_goal_sets_daily_goal_minutes_both_ways_and_both_are_in_sync(alice_client, alice):
    phone = DeviceCopy(lambda params: alice_client.get(SYNC, params).json())
    phone.sync()
    made = goal(alice_client, tag=None, period="day", target_minutes=40)
    assert alice_client.get(ME).json()["daily_goal_minutes"] == 40
    body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    assert sorted(c["type"] for c in body["changes"]) == ["goal", "profile"]
    phone.sync()
    alice_client.patch(one(made["id"]), {"target_minutes": 70}, format="json")
    assert User.objects.get(pk=alice.pk).daily_goal_minutes == 70
    # Moved to a week: it no longer is the daily goal.
    alice_client.patch(one(made["id"]), {"period": "week"}, format="json")
    assert User.objects.get(pk=alice.pk).daily_goal_minutes is None
    alice_client.patch(one(made["id"]), {"period": "day"}, format="json")
    assert User.objects.get(pk=alice.pk).daily_goal_minutes == 70
    alice_client.delete(one(made["id"]))
    assert User.objects.get(pk=alice.pk).daily_goal_minutes is None
    phone.sync()
    assert phone.objects[("profile", alice.pk)]["daily_goal_minutes"] is None
    assert not [key for key in phone.objects if key[0] == "goal"]


def test_a_tagged_daily_goal_is_not_the_profiles(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="x")
    goal(alice_client, tag=tag.pk, period="day", target_minutes=40)
    assert User.objects.get(pk=alice.pk).daily_goal_minutes is None


# --- deleting and merging tags with goals --------------------------------------------------------


def test_deleting_a_tag_deletes_its_goals_with_tombstones(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="x")
    mine = goal(alice_client, tag=tag.pk, period="day", target_minutes=40)
    phone = DeviceCopy(lambda params: alice_client.get(SYNC, params).json())
    phone.sync()
    alice_client.delete(f"/api/tags/{tag.pk}/")
    body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    assert {(c["type"], c["id"], c["deleted"]) for c in body["changes"]} == {
        ("goal", mine["id"], True),
        ("tag", tag.pk, True),
    }


def test_merging_moves_goals_unless_the_target_has_one_for_that_period(alice_client, alice):
    old, _ = tags.tag_create(user=alice, name="old")
    new, _ = tags.tag_create(user=alice, name="new")
    moved = goal(alice_client, tag=old.pk, period="week", target_minutes=100)
    clashing = goal(alice_client, tag=old.pk, period="day", target_minutes=10)
    kept = goal(alice_client, tag=new.pk, period="day", target_minutes=20)
    alice_client.post(f"/api/tags/{old.pk}/merge/", {"into": new.pk}, format="json")
    assert Goal.objects.get(pk=moved["id"]).tag_id == new.pk
    assert Goal.objects.get(pk=moved["id"]).version == 2
    assert not Goal.objects.filter(pk=clashing["id"]).exists()
    assert Goal.objects.get(pk=kept["id"]).target_minutes == 20


# --- goals in stats -------------------------------------------------------------------------------


def test_stats_show_each_goals_current_period_and_the_day_goals_met(alice_client, alice):
    wednesday = datetime(2026, 11, 18, 12, tzinfo=UTC)
    tag, _ = tags.tag_create(user=alice, name="x")
    with time_machine.travel(wednesday, tick=False):
        for days_ago, minutes, tagged in [(0, 30, True), (1, 20, False), (2, 60, True), (3, 90, True)]:
            start = wednesday - timedelta(days=days_ago, hours=2)
            services.focus_session_log(
                user=alice,
                start_time=start,
                end_time=start + timedelta(minutes=minutes),
                tags=[tag.pk] if tagged else None,
            )
        week = goal(alice_client, tag=tag.pk, period="week", target_minutes=90)
        day_all = goal(alice_client, tag=None, period="day", target_minutes=25)
        day_tag = goal(alice_client, tag=tag.pk, period="day", target_minutes=50)
        stats = alice_client.get(STATS, {"days": 3}).json()
    # Monday 16th to today: 60 + 30 minutes with the tag (Sunday's 90 is last week).
    assert stats["goals"] == [
        {"goal": week["id"], "period_start": "2026-11-16", "focus_seconds": 90 * 60, "met": True},
        {"goal": day_all["id"], "period_start": "2026-11-18", "focus_seconds": 30 * 60, "met": True},
        {"goal": day_tag["id"], "period_start": "2026-11-18", "focus_seconds": 30 * 60, "met": False},
    ]
    assert [(d["date"], d["goals_met"], d["goal_met"]) for d in stats["days"]] == [
        ("2026-11-16", [day_all["id"], day_tag["id"]], True),
        ("2026-11-17", [], False),
        ("2026-11-18", [day_all["id"]], True),
    ]
    assert stats["by_tag"] == [
        {"tag": tag.pk, "sessions": 2, "focus_seconds": 90 * 60},
        {"tag": None, "sessions": 1, "focus_seconds": 20 * 60},
    ]


def test_stats_of_an_unknown_tag_are_a_400_on_tag(alice_client, bob):
    bobs, _ = tags.tag_create(user=bob, name="b")
    for value in (bobs.pk, 10**12, "x", "0"):
        response = alice_client.get(STATS, {"tag": value})
        assert response.status_code == 400
        assert "tag" in response.json()


def test_stats_with_goals_and_many_tags_cost_two_queries(alice_client, alice, django_assert_num_queries):
    made = [tags.tag_create(user=alice, name=f"t{n}")[0].pk for n in range(30)]
    start = datetime(2026, 11, 1, 8, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        for n in range(60):
            at = start + timedelta(hours=7 * n)
            services.focus_session_log(
                user=alice, start_time=at, end_time=at + timedelta(minutes=25), tags=made[n % 30 : n % 30 + 3]
            )
        for tag in made[:10]:
            goal(alice_client, tag=tag, period="week", target_minutes=60)
            goal(alice_client, tag=tag, period="day", target_minutes=10)
        # the user; the window's days, tags and goals and the streaks, in one statement
        with django_assert_num_queries(2):
            stats = alice_client.get(STATS, {"days": 366}).json()
        # the user; the tag; the window's sessions with the tag; the goals; the tag's streaks
        with django_assert_num_queries(5):
            alice_client.get(STATS, {"days": 366, "tag": made[0]})
    assert len(stats["by_tag"]) == 30
    assert len(stats["goals"]) == 20


def test_a_goal_patch_naming_the_tag_merged_into_its_own_is_no_change(alice_client, alice):
    """A device that did not hear of a merge sends the goal's tag as it knew it: the same tag,
    so no new version (other devices' If-Match stays good)."""
    a, _ = tags.tag_create(user=alice, name="a")
    b, _ = tags.tag_create(user=alice, name="b")
    made = goal(alice_client, tag=a.pk, period="day", target_minutes=5)
    tags.tag_merge(user=alice, tag_id=a.pk, into_id=b.pk)
    moved = alice_client.get(f"{GOALS}{made['id']}/").json()
    assert moved["tag"] == b.pk
    response = alice_client.patch(f"{GOALS}{made['id']}/", {"tag": a.pk}, format="json")
    assert response.status_code == 200
    assert response.json() == moved
