"""Personal access tokens (contract: "Personal access tokens (v1.2)"): made with a login, shown
once, stored as a keyed hash, limited to their scopes, ended by deletion, expiry, any new
password and the account's deletion."""

import re
import zlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from focusflow.api.scopes import SCOPES
from focusflow.testing import T0, all_at_once, frozen, run_queued_jobs
from journals.models import Journal
from users import services
from users.models import PersonalAccessToken, User
from users.personal_tokens import MAX_LIVE_TOKENS, TokenLimitReached, personal_token_create
from users.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKENS = "/api/users/me/tokens/"
ME = "/api/users/me/"
TOKEN_SHAPE = re.compile(r"^ffp_[0-9A-Za-z]{36}$")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def make(client, *, scopes=("sessions:read",), **body) -> dict:
    response = client.post(TOKENS, {"name": "status bar", "scopes": list(scopes), **body})
    assert response.status_code == 201, response.content
    return response.json()


def as_token(api_client, token: str):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def crc32_base62(text: str) -> str:
    """A secret scanner's own check of a candidate: CRC32 of the 30 random characters, in base62,
    six digits, most significant first."""
    number, digits = zlib.crc32(text.encode()), ""
    for _ in range(6):
        number, digit = divmod(number, 62)
        digits = BASE62[digit] + digits
    return digits


# --- making, listing, deleting ---------------------------------------------------------------


def test_a_token_is_shown_once_recognisable_by_a_scanner_and_stored_only_as_a_hash(alice_client, alice):
    with frozen(T0):
        made = make(alice_client, scopes=["sessions:write", "sessions:read", "sessions:write"])
    token = made["token"]
    assert TOKEN_SHAPE.match(token)
    assert token[-6:] == crc32_base62(token[4:34])
    assert made["prefix"] == token[4:12]
    assert made["scopes"] == ["sessions:read", "sessions:write"]  # each once, in the contract's order
    assert made["created_at"] == "2026-11-20T09:00:00Z"
    assert made["expires_at"] == "2027-02-18T09:00:00Z"  # 90 days by default
    assert made["last_used_at"] is None
    listed = alice_client.get(TOKENS).json()["results"]
    assert listed == [{key: value for key, value in made.items() if key != "token"}]
    row = PersonalAccessToken.objects.get()
    assert token not in {row.digest, row.prefix, row.name} and len(row.digest) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM users_personalaccesstoken t")
        assert token[4:] not in cursor.fetchone()[0]


def test_two_tokens_differ_and_list_newest_first(alice_client):
    first, second = make(alice_client), make(alice_client)
    assert first["token"] != second["token"]
    assert [t["id"] for t in alice_client.get(TOKENS).json()["results"]] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["sessions:admin"]}, "scopes"),
        ({"name": "x", "scopes": "sessions:read"}, "scopes"),
        ({"name": "x", "scopes": [["sessions:read"]]}, "scopes"),
        ({"name": "x"}, "scopes"),
        ({"scopes": []}, "name"),
        ({"name": "   ", "scopes": []}, "name"),
        ({"name": "x" * 101, "scopes": []}, "name"),
        ({"name": "a\x00b", "scopes": []}, "name"),
        ({"name": "x", "scopes": [], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": [], "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "scopes": [], "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "x", "scopes": [], "expires_in_days": 1.5}, "expires_in_days"),
    ],
)
def test_bad_input_is_a_400_on_its_field(alice_client, body, field):
    response = alice_client.post(TOKENS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not PersonalAccessToken.objects.exists()


def test_a_token_with_no_scopes_and_a_year_is_allowed(alice_client):
    with frozen(T0):
        made = make(alice_client, scopes=[], expires_in_days=365)
    assert made["scopes"] == [] and made["expires_at"] == "2027-11-20T09:00:00Z"


def test_deleting_a_token_ends_it_at_once_and_only_its_owner_can(alice_client, bob_client, api_client):
    made = make(alice_client)
    assert bob_client.delete(f"{TOKENS}{made['id']}/").status_code == 404
    assert as_token(api_client, made["token"]).get(ME).status_code == 200
    assert alice_client.delete(f"{TOKENS}{made['id']}/").status_code == 204
    response = as_token(api_client, made["token"]).get(ME)
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"
    assert alice_client.delete(f"{TOKENS}{made['id']}/").status_code == 404
    assert alice_client.get(TOKENS).json()["results"] == []


@pytest.mark.parametrize("token_id", ["99999999999999999999", "0"])
def test_deleting_an_odd_id_is_a_404(alice_client, token_id):
    assert alice_client.delete(f"{TOKENS}{token_id}/").status_code == 404


def test_the_twenty_first_live_token_is_a_409_and_expired_ones_do_not_count(alice_client, alice):
    with frozen(T0 - timedelta(days=2)):
        personal_token_create(
            user=alice, name="old", scopes=[], expires_in_days=1, password_version_seen=None
        )
    for n in range(MAX_LIVE_TOKENS):
        personal_token_create(user=alice, name=f"t{n}", scopes=[], password_version_seen=None)
    response = alice_client.post(TOKENS, {"name": "one more", "scopes": []})
    assert response.status_code == 409 and response.json()["code"] == "token_limit_reached"
    assert len(alice_client.get(TOKENS, {"page_size": 100}).json()["results"]) == MAX_LIVE_TOKENS


@pytest.mark.django_db(transaction=True)
def test_devices_racing_for_the_last_token_get_one_between_them():
    user = User.objects.create_user(email="racer@example.com", password=PASSWORD)
    for n in range(MAX_LIVE_TOKENS - 1):
        personal_token_create(user=user, name=f"t{n}", scopes=[], password_version_seen=None)

    def make_one(index: int) -> str:
        try:
            personal_token_create(user=user, name=f"race {index}", scopes=[], password_version_seen=None)
            return "made"
        except TokenLimitReached:
            return "refused"

    assert sorted(all_at_once(make_one, 4)) == ["made", "refused", "refused", "refused"]
    assert PersonalAccessToken.objects.filter(user=user).count() == MAX_LIVE_TOKENS


def test_the_owner_is_emailed_how_to_revoke_a_new_token(alice_client, alice):
    User.objects.filter(pk=alice.pk).update(email_verified=True)
    made = make(alice_client)
    assert mail.outbox == []  # by the worker, not the request
    run_queued_jobs()
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    text = message.body
    assert f"ffp_{made['prefix']}..." in text and '"status bar"' in text
    assert f"DELETE /api/users/me/tokens/{made['id']}/" in text
    assert made["token"] not in text and made["token"] not in message.alternatives[0][0]


def test_an_unverified_address_is_not_shown_the_name_its_requester_chose(alice_client):
    make(alice_client, name="<b>click evil.example</b>")
    run_queued_jobs()
    (message,) = mail.outbox
    assert "evil.example" not in message.body and "evil.example" not in message.alternatives[0][0]


# --- authenticating with one -----------------------------------------------------------------


def test_a_mistyped_token_is_refused_without_a_query(alice_client, api_client):
    token = make(alice_client)["token"]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (wrong, token[:-1], token + "0", "ffp_", "ffp_" + "é" * 36):
        with CaptureQueriesContext(connection) as queries:
            response = as_token(api_client, bad).get(ME)
        assert response.status_code == 401, bad
        assert response.json()["code"] == "token_not_valid"
        assert len(queries) == 0


def test_a_well_formed_token_that_was_never_issued_is_a_401(api_client, alice):
    body = "A" * 30
    response = as_token(api_client, f"ffp_{body}{crc32_base62(body)}").get(ME)
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"


def test_a_request_with_a_token_costs_one_query_and_last_used_is_written_once_a_minute(
    alice_client, api_client
):
    token = make(alice_client)["token"]
    client = as_token(api_client, token)
    with frozen(T0 + timedelta(seconds=10)), CaptureQueriesContext(connection) as first:
        assert client.get(ME).status_code == 200
    with frozen(T0 + timedelta(seconds=50)), CaptureQueriesContext(connection) as second:
        assert client.get(ME).status_code == 200
    with frozen(T0 + timedelta(minutes=1, seconds=5)), CaptureQueriesContext(connection) as third:
        assert client.get(ME).status_code == 200

    def updates(queries) -> int:
        return sum(query["sql"].startswith("UPDATE") for query in queries.captured_queries)

    assert (updates(first), updates(second), updates(third)) == (1, 0, 1)
    # The token; its account (from the shared cache with REDIS_URL: not in these tests); the profile.
    assert len(second) == 3
    assert alice_client.get(TOKENS).json()["results"][0]["last_used_at"] == "2026-11-20T09:01:00Z"


def test_an_expired_token_is_a_401(alice_client, api_client):
    with frozen(T0):
        token = make(alice_client, expires_in_days=1)["token"]
    with frozen(T0 + timedelta(days=1, seconds=-1)):
        assert as_token(api_client, token).get(ME).status_code == 200
    with frozen(T0 + timedelta(days=1)):
        assert as_token(api_client, token).get(ME).status_code == 401
        assert alice_client.get(TOKENS).json()["results"] == []


def test_the_scheme_name_is_case_insensitive(alice_client, api_client):
    token = make(alice_client)["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"bearer {token}")
    assert api_client.get(ME).status_code == 200


# --- what ends every token -------------------------------------------------------------------


def test_a_password_change_ends_every_token(alice_client, alice, api_client):
    tokens = [make(alice_client)["token"], make(alice_client)["token"]]
    response = alice_client.post(
        "/api/users/me/password/", {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"}
    )
    assert response.status_code == 204
    for token in tokens:
        assert as_token(api_client, token).get(ME).status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_a_password_set_anywhere_else_ends_every_token(alice_client, alice, api_client):
    token = make(alice_client)["token"]
    user = User.objects.get(pk=alice.pk)
    user.set_password("set-by-an-admin-123")  # the admin's form, `manage.py changepassword`
    user.save()
    assert as_token(api_client, token).get(ME).status_code == 401


def test_a_password_reset_ends_every_token(alice_client, alice, api_client):
    token = make(alice_client)["token"]
    api_client.post("/api/users/password/reset/", {"email": "alice@example.com"})
    run_queued_jobs()
    reset_mail = next(message for message in mail.outbox if "reset" in message.subject.lower())
    reset = re.search(r"\?token=([A-Za-z0-9_-]+)", reset_mail.body).group(1)
    services.password_reset_confirm(token=reset, new_password="a-brand-new-passphrase")
    assert as_token(api_client, token).get(ME).status_code == 401


def test_a_login_that_ended_cannot_make_a_token(alice, client_for):
    client = client_for(alice)  # its tokens are of the password as it is now
    user = User.objects.get(pk=alice.pk)
    user.set_password("a-brand-new-passphrase")
    user.save()
    assert client.post(TOKENS, {"name": "x", "scopes": []}).status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_a_deleted_account_takes_its_tokens_with_it(alice_client, api_client):
    token = make(alice_client)["token"]
    assert alice_client.delete(ME, {"password": PASSWORD}).status_code == 204
    assert as_token(api_client, token).get(ME).status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_an_inactive_account_is_refused(alice_client, alice, api_client):
    token = make(alice_client)["token"]
    services.user_deactivate(user=User.objects.get(pk=alice.pk))
    response = as_token(api_client, token).get(ME)
    assert response.status_code == 401 and response.json()["code"] == "user_inactive"


# --- scopes ----------------------------------------------------------------------------------


def refused_for(response, scope):
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "insufficient_scope" and body["required_scope"] == scope
    return True


def test_a_token_reaches_only_what_its_scopes_allow(alice_client, api_client):
    reader = as_token(api_client, make(alice_client, scopes=["sessions:read"])["token"])
    assert reader.get("/api/sessions/history/").status_code == 200
    assert reader.get("/api/sessions/stats/").status_code == 200
    assert reader.get("/api/tags/").status_code == 200
    assert reader.get("/api/goals/").status_code == 200
    assert refused_for(reader.post("/api/sessions/start/", {}), "sessions:write")
    assert refused_for(reader.post("/api/tags/", {"name": "x"}), "sessions:write")
    assert refused_for(reader.get("/api/journals/"), "journals:read")
    assert refused_for(reader.post("/api/journals/create/", {"content": "x"}), "journals:write")


def test_a_write_scope_implies_its_read_scope(alice_client, api_client):
    writer = as_token(api_client, make(alice_client, scopes=["journals:write"])["token"])
    assert writer.post("/api/journals/create/", {"content": "from a script"}).status_code == 201
    assert writer.get("/api/journals/").status_code == 200
    assert refused_for(writer.get("/api/sessions/history/"), "sessions:read")
    assert Journal.objects.get().content == "from a script"


def test_any_token_reads_the_profile_the_quote_and_sync(alice_client, api_client):
    client = as_token(api_client, make(alice_client, scopes=[])["token"])
    assert client.get(ME).status_code == 200
    assert client.get("/api/quotes/today/").status_code in (200, 404)  # 404: no quotes loaded
    assert client.get("/api/sync/").status_code == 200
    assert client.post("/api/events/ticket/").status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", ME, {"display_name": "Mallory"}),
        ("delete", ME, {"password": PASSWORD}),
        ("post", "/api/users/me/password/", {"current_password": PASSWORD, "new_password": "x-new-pass-123"}),
        ("post", "/api/users/me/email/change/", {"new_email": "m@example.com", "password": PASSWORD}),
        ("post", "/api/users/me/email/verify/resend/", {}),
        ("get", "/api/users/me/export/", None),
        ("get", TOKENS, None),
        ("post", TOKENS, {"name": "another", "scopes": list(SCOPES)}),
        ("delete", f"{TOKENS}1/", None),
        ("post", "/api/users/email/verify/", {"code": "ABCD-EFGH"}),
        ("post", "/api/users/email/change/confirm/", {"code": "ABCD-EFGH"}),
    ],
)
def test_no_token_may_manage_the_account_whatever_its_scopes(
    alice_client, alice, api_client, method, path, body
):
    client = as_token(api_client, make(alice_client, scopes=list(SCOPES))["token"])
    response = getattr(client, method)(path, body) if body is not None else getattr(client, method)(path)
    assert refused_for(response, None)
    alice = User.objects.get(pk=alice.pk)
    assert alice.display_name == "Alice" and alice.check_password(PASSWORD)
    assert PersonalAccessToken.objects.count() == 1


def test_tokens_count_against_their_own_limit_not_the_accounts(alice_client, api_client, settings):
    settings.TOKEN_THROTTLE_RATE = "2/minute"
    settings.USER_READ_THROTTLE_RATE = "5/minute"
    client = as_token(api_client, make(alice_client)["token"])
    with frozen(T0):
        assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 429]
        assert [alice_client.get(ME).status_code for _ in range(5)] == [200] * 5  # the app is not locked out


def test_bob_cannot_reach_alices_objects_with_his_token(alice_client, bob_client, api_client):
    session = alice_client.post("/api/sessions/start/", {}).json()
    client = as_token(api_client, make(bob_client, scopes=["sessions:write"])["token"])
    assert client.get(f"/api/sessions/{session['id']}/").status_code == 404
    assert client.get("/api/sessions/history/").json()["results"] == []


def test_a_token_is_used_until_its_expiry_at_the_latest(alice_client, alice):
    made = make(alice_client, expires_in_days=7)
    row = PersonalAccessToken.objects.get(pk=made["id"])
    assert row.expires_at - row.created_at == timedelta(days=7)
    assert row.expires_at > timezone.now()


def test_an_admin_deleting_a_token_revokes_it_and_never_sees_its_value(
    admin_client, alice_client, api_client
):
    made = make(alice_client)
    page = admin_client.get(f"/admin/users/personalaccesstoken/{made['id']}/change/")
    assert page.status_code == 200 and made["token"].encode() not in page.content
    listing = admin_client.get("/admin/users/personalaccesstoken/", {"q": made["prefix"]})
    assert made["prefix"].encode() in listing.content and made["token"].encode() not in listing.content
    response = admin_client.post(
        "/admin/users/personalaccesstoken/",
        {"action": "delete_selected", "_selected_action": [made["id"]], "post": "yes"},
    )
    assert response.status_code == 302
    assert as_token(api_client, made["token"]).get(ME).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_with_the_shared_cache_a_token_costs_one_query_and_a_deactivation_counts_at_once(
    redis_cache, api_client
):
    user = User.objects.create_user(email="dana@example.com", password=PASSWORD)
    _, token = personal_token_create(user=user, name="bar", scopes=[], password_version_seen=None)
    client = as_token(api_client, token)
    assert client.get(ME).status_code == 200  # the account's state is cached from here
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    assert len(queries) == 2  # the token; the profile shown
    services.user_deactivate(user=user)
    response = client.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "user_inactive"


def test_a_token_made_under_the_previous_secret_key_works_while_that_key_is_a_fallback(
    alice_client, api_client, settings
):
    token = make(alice_client)["token"]
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    assert as_token(api_client, token).get(ME).status_code == 401  # the rotation without a fallback
    settings.SECRET_KEY_FALLBACKS = [old]
    assert as_token(api_client, token).get(ME).status_code == 200
