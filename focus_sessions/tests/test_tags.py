"""Tags (contract: "Tags and goals (v1.2)"): every row over HTTP, tags on sessions, the offline
story of two devices that made the same tag, and what a delete or a merge does to sessions."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from focus_sessions import services, tags
from focus_sessions.exceptions import TagNameTaken
from focus_sessions.models import FocusDayTag, FocusSession, SessionTag, Tag
from focusflow.testing import T0, DeviceCopy, at
from users.models import User

pytestmark = pytest.mark.django_db

TAGS, SESSIONS, SYNC, GOALS = "/api/tags/", "/api/sessions/", "/api/sync/", "/api/goals/"


def one(tag_id) -> str:
    return f"{TAGS}{tag_id}/"


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def log(client, start: float, end: float, **extra):
    return client.post(SESSIONS, {"start_time": iso(start), "end_time": iso(end), **extra}, format="json")


def device(client) -> DeviceCopy:
    def fetch(params):
        response = client.get(SYNC, params)
        assert response.status_code == 200, response.content
        return response.json()

    return DeviceCopy(fetch)


def make(client, name: str, **extra) -> dict:
    response = client.post(TAGS, {"name": name, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- POST /api/tags/ ----------------------------------------------------------------------------


def test_a_new_tag_is_201_with_every_field_and_its_version_as_etag(alice_client):
    response = alice_client.post(TAGS, {"name": "  Thesis ", "color": "#1E90FF"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "color",
        "archived",
        "client_id",
        "version",
        "created_at",
        "updated_at",
    }
    assert (body["name"], body["color"], body["archived"], body["version"]) == ("Thesis", "#1e90ff", False, 1)
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({}, "name"),
        ({"name": "ok", "color": "blue"}, "color"),
        ({"name": "ok", "color": "#12345"}, "color"),
        ({"name": "ok", "client_id": 12}, "client_id"),
    ],
)
def test_a_bad_tag_is_a_400_on_its_field(alice_client, body, field):
    response = alice_client.post(TAGS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_fifty_characters_after_trimming_are_fine(alice_client):
    assert alice_client.post(TAGS, {"name": f" {'x' * 50} "}, format="json").status_code == 201


def test_tags_need_a_token(api_client):
    assert api_client.get(TAGS).status_code == 401
    assert api_client.post(TAGS, {"name": "x"}, format="json").status_code == 401


def test_the_same_name_in_another_case_is_a_409_with_the_tag_that_has_it(alice_client):
    first = make(alice_client, "Spanish")
    response = alice_client.post(TAGS, {"name": "sPANISH"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "tag_name_taken"
    assert response.json()["existing"] == first


def test_an_archived_tag_keeps_its_name_taken_and_a_deleted_one_frees_it(alice_client):
    archived = make(alice_client, "Old")
    alice_client.patch(one(archived["id"]), {"archived": True}, format="json")
    assert alice_client.post(TAGS, {"name": "old"}, format="json").status_code == 409
    assert alice_client.delete(one(archived["id"])).status_code == 204
    assert alice_client.post(TAGS, {"name": "old"}, format="json").status_code == 201


def test_two_users_may_have_the_same_tag_name(alice_client, bob_client):
    make(alice_client, "Reading")
    make(bob_client, "reading")


def test_a_repeated_client_id_is_200_with_the_tag_and_other_fields_a_409(alice_client):
    client_id = str(uuid.uuid4())
    first = make(alice_client, "Piano", client_id=client_id)
    again = alice_client.post(TAGS, {"name": "Piano", "client_id": client_id}, format="json")
    assert (again.status_code, again.json()) == (200, first)
    other = alice_client.post(TAGS, {"name": "Drums", "client_id": client_id}, format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "client_id_conflict"
    assert other.json()["existing"] == first
    assert Tag.objects.count() == 1


def test_the_client_id_of_a_deleted_tag_is_a_410_and_makes_nothing(alice_client):
    client_id = str(uuid.uuid4())
    tag = make(alice_client, "Gone", client_id=client_id)
    alice_client.delete(one(tag["id"]))
    response = alice_client.post(TAGS, {"name": "Gone", "client_id": client_id}, format="json")
    assert response.status_code == 410
    assert response.json()["code"] == "client_id_deleted"
    assert not Tag.objects.exists()


# --- GET /api/tags/ -----------------------------------------------------------------------------


def test_the_list_is_by_name_case_insensitively_and_filters_archived(alice_client, bob_client):
    for name in ("banana", "Apple", "cherry"):
        make(alice_client, name)
    make(bob_client, "aardvark")
    cherry = Tag.objects.get(name="cherry")
    alice_client.patch(one(cherry.pk), {"archived": True}, format="json")
    body = alice_client.get(TAGS).json()
    assert [t["name"] for t in body["results"]] == ["Apple", "banana", "cherry"]
    assert [t["name"] for t in alice_client.get(TAGS, {"archived": "true"}).json()["results"]] == ["cherry"]
    assert [t["name"] for t in alice_client.get(TAGS, {"archived": "false"}).json()["results"]] == [
        "Apple",
        "banana",
    ]
    assert alice_client.get(TAGS, {"archived": "maybe"}).status_code == 400


def test_the_list_pages_through_every_tag_once(alice_client):
    for n in range(25):
        make(alice_client, f"Tag {n:02d}")
    first = alice_client.get(TAGS, {"page_size": 10}).json()
    seen = [t["name"] for t in first["results"]]
    url = first["next"]
    while url:
        page = alice_client.get(url).json()
        seen += [t["name"] for t in page["results"]]
        url = page["next"]
    assert seen == [f"Tag {n:02d}" for n in range(25)]


def test_the_list_costs_two_queries_whatever_its_size(alice_client, django_assert_num_queries):
    for n in range(30):
        make(alice_client, f"t{n}")
    with django_assert_num_queries(2):  # the user; one page
        alice_client.get(TAGS, {"page_size": 100})


# --- GET/PATCH/DELETE /api/tags/<id>/ -------------------------------------------------------------


def test_bobs_token_on_alices_tag_is_a_404_for_every_method(alice_client, bob_client):
    tag = make(alice_client, "Mine")
    assert bob_client.get(one(tag["id"])).status_code == 404
    assert bob_client.patch(one(tag["id"]), {"name": "x"}, format="json").status_code == 404
    assert bob_client.delete(one(tag["id"])).status_code == 404
    assert bob_client.post(f"{one(tag['id'])}merge/", {"into": tag["id"]}, format="json").status_code == 404
    assert Tag.objects.get(pk=tag["id"]).name == "Mine"


def test_a_rename_bumps_the_version_and_a_stale_if_match_is_a_412_with_the_tag(alice_client):
    tag = make(alice_client, "Draft")
    renamed = alice_client.patch(one(tag["id"]), {"name": "Final"}, format="json", HTTP_IF_MATCH='"1"')
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["version"], renamed["ETag"]) == ("Final", 2, '"2"')
    stale = alice_client.patch(one(tag["id"]), {"name": "Other"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["current"]["name"] == "Final"
    stale_delete = alice_client.delete(one(tag["id"]), HTTP_IF_MATCH='"1"')
    assert stale_delete.status_code == 412
    assert Tag.objects.filter(pk=tag["id"]).exists()


def test_a_stale_if_match_wins_over_a_bad_body(alice_client):
    tag = make(alice_client, "Draft")
    alice_client.patch(one(tag["id"]), {"name": "Next"}, format="json")
    assert (
        alice_client.patch(one(tag["id"]), {"name": ""}, format="json", HTTP_IF_MATCH='"1"').status_code
        == 412
    )


def test_a_rename_onto_another_tags_name_is_a_409(alice_client):
    make(alice_client, "Math")
    physics = make(alice_client, "Physics")
    response = alice_client.patch(one(physics["id"]), {"name": "MATH"}, format="json")
    assert response.status_code == 409
    assert response.json()["existing"]["name"] == "Math"


def test_a_change_that_changes_nothing_keeps_the_version(alice_client):
    tag = make(alice_client, "Same", color="#aabbcc")
    again = alice_client.patch(one(tag["id"]), {"name": "Same", "color": "#AABBCC"}, format="json")
    assert again.json()["version"] == 1


def test_a_bad_patch_is_a_400(alice_client):
    tag = make(alice_client, "x")
    assert alice_client.patch(one(tag["id"]), {"archived": "perhaps"}, format="json").status_code == 400
    assert alice_client.patch(one(tag["id"]), {"color": "red"}, format="json").status_code == 400


def test_get_answers_304_while_unchanged(alice_client):
    tag = make(alice_client, "x")
    assert alice_client.get(one(tag["id"]), HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert alice_client.get(one(999999)).status_code == 404


# --- tags on sessions -----------------------------------------------------------------------------


def test_sessions_carry_sorted_tags_from_start_log_and_patch(alice_client):
    a, b = make(alice_client, "a")["id"], make(alice_client, "b")["id"]
    with at(0):
        logged = log(alice_client, -60, -30, tags=[b, a, b])
        assert logged.status_code == 201
        assert logged.json()["tags"] == sorted([a, b])
        started = alice_client.post(f"{SESSIONS}start/", {"tags": [a]}, format="json").json()
        assert started["tags"] == [a]
        patched = alice_client.patch(f"{SESSIONS}{started['id']}/", {"tags": [b]}, format="json").json()
        assert (patched["tags"], patched["version"]) == ([b], 2)
        stopped = alice_client.post(f"{SESSIONS}stop/").json()
        assert stopped["tags"] == [b]
        cleared = alice_client.patch(f"{SESSIONS}{stopped['id']}/", {"tags": []}, format="json").json()
    assert cleared["tags"] == []
    assert set(SessionTag.objects.values_list("session_id", "tag_id")) == {
        (logged.json()["id"], a),
        (logged.json()["id"], b),
    }


def test_a_tag_that_never_was_yours_is_a_400_on_tags(alice_client, bob_client):
    bobs = make(bob_client, "bob's")["id"]
    with at(0):
        response = log(alice_client, -60, -30, tags=[bobs])
        assert response.status_code == 400
        assert "tags" in response.json()
        assert log(alice_client, -60, -30, tags=[10**12]).status_code == 400
        assert log(alice_client, -60, -30, tags=[2**63]).status_code == 400
        assert log(alice_client, -60, -30, tags="1").status_code == 400
    assert not FocusSession.objects.exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Spanish", "sPANISH"),
        ("Straße", "STRASSE"),  # lower() keeps "ß"; case folding makes it "ss"
        ("ΣΑΣ", "σας"),  # a final sigma
        ("Étude", "éTUDE"),
        ("\u00e9t\u00e9", "e\u0301te\u0301"),  # one character, or a letter and an accent
        ("\u1fb7", "\u1fbc\u0342"),  # equal only folded after decomposing (iota subscript)
    ],
)
def test_names_that_fold_to_the_same_are_one_name(alice_client, first, second):
    made = make(alice_client, first)
    response = alice_client.post(TAGS, {"name": second}, format="json")
    assert response.status_code == 409
    assert response.json()["existing"] == made
    other = make(alice_client, "other")
    response = alice_client.patch(one(other["id"]), {"name": second}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "tag_name_taken"


def test_a_tag_merged_away_counts_as_the_tag_it_went_into(alice_client):
    """A device that did not hear of a merge yet tags with the merged tag: its sessions, goals
    and filters get the tag it went into, through any later merge, until that one is deleted."""
    a, b, c = (make(alice_client, name)["id"] for name in ("a", "b", "c"))
    assert alice_client.post(f"{one(a)}merge/", {"into": b}, format="json").status_code == 200
    with at(0):
        response = log(alice_client, -60, -50, tags=[a])
        assert response.status_code == 201
        assert response.json()["tags"] == [b]
        assert alice_client.post(f"{one(b)}merge/", {"into": c}, format="json").status_code == 200
        second = log(alice_client, -40, -30, tags=[a, b])
        assert second.json()["tags"] == [c]
        history = alice_client.get(f"{SESSIONS}history/", {"tag": a}).json()["results"]
        assert [(s["id"], s["tags"]) for s in history] == [
            (second.json()["id"], [c]),
            (response.json()["id"], [c]),
        ]
        stats = alice_client.get(f"{SESSIONS}stats/", {"tag": b, "days": 1}).json()
        assert stats["days"][0]["sessions"] == 2
        goal = alice_client.post(GOALS, {"tag": a, "period": "day", "target_minutes": 5}, format="json")
        assert goal.status_code == 201
        assert goal.json()["tag"] == c
        alice_client.delete(one(c))
        assert log(alice_client, -20, -10, tags=[a, b]).json()["tags"] == []
        for tag in (a, b, c):
            assert alice_client.get(f"{SESSIONS}history/", {"tag": tag}).status_code == 400
            body = {"tag": tag, "period": "week", "target_minutes": 5}
            response = alice_client.post(GOALS, body, format="json")
            assert response.status_code == 400
            assert "tag" in response.json()


def test_a_tag_you_deleted_is_dropped_silently(alice_client):
    kept, gone = make(alice_client, "kept")["id"], make(alice_client, "gone")["id"]
    alice_client.delete(one(gone))
    with at(0):
        response = log(alice_client, -60, -30, tags=[gone, kept])
    assert response.status_code == 201
    assert response.json()["tags"] == [kept]


def test_at_most_ten_tags_on_a_session(alice_client):
    ids = [make(alice_client, f"t{n}")["id"] for n in range(11)]
    with at(0):
        assert log(alice_client, -60, -30, tags=ids[:10] + ids[:10]).status_code == 201
        response = log(alice_client, -20, -10, tags=ids)
    assert response.status_code == 400
    assert "tags" in response.json()


def test_history_filters_by_tag(alice_client):
    a, b = make(alice_client, "a")["id"], make(alice_client, "b")["id"]
    with at(0):
        first = log(alice_client, -60, -50, tags=[a]).json()
        log(alice_client, -40, -30, tags=[b])
        both = log(alice_client, -20, -10, tags=[a, b]).json()
        body = alice_client.get(f"{SESSIONS}history/", {"tag": a}).json()
        assert [s["id"] for s in body["results"]] == [both["id"], first["id"]]
        assert alice_client.get(f"{SESSIONS}history/", {"tag": "x"}).status_code == 400


def test_history_of_a_tag_that_is_not_yours_is_a_400_on_tag(alice_client, bob_client):
    bobs = make(bob_client, "bob's")["id"]
    gone = make(alice_client, "gone")["id"]
    alice_client.delete(one(gone))
    for tag in (bobs, gone, 10**12):
        response = alice_client.get(f"{SESSIONS}history/", {"tag": tag})
        assert response.status_code == 400
        assert "tag" in response.json()


# --- delete and merge -----------------------------------------------------------------------------


def test_deleting_a_tag_takes_it_off_its_sessions_each_a_new_version_in_sync(alice_client):
    a, b = make(alice_client, "a")["id"], make(alice_client, "b")["id"]
    with at(0):
        only_a = log(alice_client, -60, -50, tags=[a]).json()
        both = log(alice_client, -40, -30, tags=[a, b]).json()
        untouched = log(alice_client, -20, -10, tags=[b]).json()
    phone = device(alice_client)
    phone.sync()
    assert alice_client.delete(one(a)).status_code == 204
    body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    changes = {(c["type"], c["id"]): c for c in body["changes"]}
    assert changes[("tag", a)]["deleted"] is True
    assert changes[("session", only_a["id"])]["data"]["tags"] == []
    assert changes[("session", only_a["id"])]["data"]["version"] == 2
    assert changes[("session", both["id"])]["data"]["tags"] == [b]
    assert ("session", untouched["id"]) not in changes
    seqs = [c for c in body["changes"]]
    assert len(seqs) == 3
    assert not SessionTag.objects.filter(tag_id=a).exists()
    assert alice_client.get(one(a)).status_code == 404


def test_merging_moves_every_session_once_and_deletes_the_merged_tag(alice_client):
    old, new = make(alice_client, "old")["id"], make(alice_client, "new", color="#000000")["id"]
    with at(0):
        only_old = log(alice_client, -60, -50, tags=[old]).json()
        both = log(alice_client, -40, -30, tags=[old, new]).json()
    alice_client.patch(one(new), {"archived": True}, format="json")
    response = alice_client.post(f"{one(old)}merge/", {"into": new}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response.json()["id"] == new
    assert FocusSession.objects.get(pk=only_old["id"]).tag_ids == [new]
    assert FocusSession.objects.get(pk=both["id"]).tag_ids == [new]
    assert FocusSession.objects.get(pk=only_old["id"]).version == 2
    assert not Tag.objects.filter(pk=old).exists()
    assert list(FocusDayTag.objects.values_list("tag_id", "sessions")) == [(new, 2)]


def test_merge_refusals(alice_client):
    tag = make(alice_client, "a")["id"]
    other = make(alice_client, "b")["id"]
    merge = f"{one(tag)}merge/"
    assert alice_client.post(merge, {"into": tag}, format="json").status_code == 400
    assert alice_client.post(merge, {"into": 10**12}, format="json").status_code == 400
    assert alice_client.post(merge, {}, format="json").status_code == 400
    assert alice_client.post(merge, {"into": other}, format="json", HTTP_IF_MATCH='"7"').status_code == 412
    assert alice_client.post(f"{one(10**12)}merge/", {"into": other}, format="json").status_code == 404
    assert Tag.objects.count() == 2


def test_merging_into_another_users_tag_is_a_400(alice_client, bob_client):
    tag = make(alice_client, "a")["id"]
    bobs = make(bob_client, "b")["id"]
    assert alice_client.post(f"{one(tag)}merge/", {"into": bobs}, format="json").status_code == 400


# --- the offline story ---------------------------------------------------------------------------


def test_a_phone_offline_and_another_device_converge_on_one_tag(client_for, alice):
    phone, web = client_for(alice), client_for(alice)
    phone_copy, web_copy = device(phone), device(web)
    phone_copy.sync()
    web_copy.sync()
    # The web app made "Thesis" while the phone was offline; the phone made its own, tagged three
    # sessions with it, and uploads everything with its client ids when it is back.
    web_tag = make(web, "Thesis")
    phone_tag_client_id = str(uuid.uuid4())
    upload = phone.post(TAGS, {"name": "thesis", "client_id": phone_tag_client_id}, format="json")
    assert upload.status_code == 409
    assert upload.json()["code"] == "tag_name_taken"
    mapped = upload.json()["existing"]["id"]  # the phone maps its own tag to the server's
    assert mapped == web_tag["id"]
    session_ids = []
    with at(0):
        for n in range(3):
            body = {
                "start_time": iso(-60 + 15 * n),
                "end_time": iso(-50 + 15 * n),
                "tags": [mapped],
                "client_id": str(uuid.uuid4()),
            }
            response = phone.post(SESSIONS, body, format="json")
            assert response.status_code == 201
            session_ids.append(response.json()["id"])
            # A lost answer: the same upload again changes nothing.
            assert phone.post(SESSIONS, body, format="json").status_code == 200
    phone_copy.sync()
    web_copy.sync()
    assert phone_copy.snapshot() == web_copy.snapshot()
    assert [phone_copy.objects[("session", i)]["tags"] for i in session_ids] == [[mapped]] * 3
    assert [key for key in phone_copy.objects if key[0] == "tag"] == [("tag", mapped)]
    with at(0):
        stats = web.get(f"{SESSIONS}stats/", {"days": 1, "tag": mapped}).json()
    assert stats["days"][-1]["sessions"] == 3


def test_a_tag_service_refuses_another_users_tag_as_not_found(alice, bob):
    tag, _ = tags.tag_create(user=alice, name="x")
    with pytest.raises(Exception) as refused:
        tags.tag_delete(user=bob, tag_id=tag.pk)
    assert refused.value.status_code == 404


def test_the_export_has_tags_and_goals(alice_client, alice):
    tag, _ = tags.tag_create(user=alice, name="Export me")
    alice_client.post("/api/goals/", {"tag": tag.pk, "period": "week", "target_minutes": 300}, format="json")
    response = alice_client.get("/api/users/me/export/")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    import json

    document = json.loads(body)
    assert [t["name"] for t in document["tags"]] == ["Export me"]
    assert [(g["tag"], g["period"]) for g in document["goals"]] == [(tag.pk, "week")]


def test_deleting_the_account_removes_its_tags_and_goals(alice_client, alice, password):
    tag, _ = tags.tag_create(user=alice, name="x")
    with at(0):
        services.focus_session_log(
            user=alice, start_time=T0 - timedelta(hours=1), end_time=T0 - timedelta(minutes=30), tags=[tag.pk]
        )
    alice_client.post("/api/goals/", {"tag": tag.pk, "period": "day", "target_minutes": 30}, format="json")
    assert alice_client.delete("/api/users/me/", {"password": password}, format="json").status_code == 204
    assert not Tag.objects.exists()
    assert not SessionTag.objects.exists()
    assert not FocusDayTag.objects.exists()


BEFORE_0009 = [("focus_sessions", "0008_tags_in_postgres_terms")]


def migrated_to(target) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())
    return executor


def apps_before_0009(executor: MigrationExecutor):
    others = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] != "focus_sessions"]
    return executor.loader.project_state([*others, *BEFORE_0009]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_to_case_folded_names_keeps_every_tag():
    """0009 folds the names of the tags there are: of two old tags that fold to one name, the
    later keeps no fold (nothing renamed behind its owner's back) until it is renamed."""
    apps = apps_before_0009(migrated_to(BEFORE_0009))
    Account, OldTag = apps.get_model("users", "User"), apps.get_model("focus_sessions", "Tag")
    user = Account.objects.create(email="old@example.com")
    now = timezone.now()
    made = [
        OldTag.objects.create(user=user, name=name, created_at=now, updated_at=now).pk
        for name in ("Straße", "STRASSE", "ss\x1fx", "Spanish")
    ]
    try:
        migrated_to(None)
        folds = dict(Tag.objects.filter(user_id=user.pk).values_list("pk", "name_fold"))
        assert folds == {made[0]: "strasse", made[1]: None, made[2]: "ss\x1fx", made[3]: "spanish"}
        account = User.objects.get(pk=user.pk)
        with pytest.raises(TagNameTaken):
            tags.tag_create(user=account, name="SPANISH")
        with pytest.raises(TagNameTaken):
            tags.tag_update(user=account, tag_id=made[1], name="strasse")  # taken, once renamed
        assert tags.tag_update(user=account, tag_id=made[1], name="Strasse 2").name_fold == "strasse 2"
    finally:
        migrated_to(None)


@pytest.mark.django_db(transaction=True)
def test_the_release_before_0009_still_makes_and_renames_tags_on_its_schema():
    """During a deploy the code of the release before keeps serving on the migrated schema
    (docs/operations.md, "Migrations"): its model knows no `name_fold`."""
    executor = migrated_to(BEFORE_0009)
    apps = apps_before_0009(executor)
    Account, OldTag = apps.get_model("users", "User"), apps.get_model("focus_sessions", "Tag")
    user = Account.objects.create(email="old@example.com")
    try:
        migrated_to(None)
        now = timezone.now()
        old = OldTag.objects.create(user=user, name="Made by the old code", created_at=now, updated_at=now)
        old.name = "Renamed by the old code"
        old.save()
        with pytest.raises(IntegrityError):  # its own refusal still holds
            OldTag.objects.create(user=user, name="RENAMED BY THE OLD CODE", created_at=now, updated_at=now)
    finally:
        migrated_to(None)
