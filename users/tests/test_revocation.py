"""Revocation: logout, a password change (anywhere), deactivation and deletion lock out
access tokens at once, not after JWT_ACCESS_MINUTES; a reused refresh token revokes its whole
family. One device's logout leaves the account's other devices logged in."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from focusflow.testing import access_token_for
from users.models import RevokedTokenFamily, User
from users.tests.factories import PASSWORD
from users.tokens import FAMILY_CLAIM, TOKEN_VERSION_CLAIM, refresh_token_for, token_version

pytestmark = pytest.mark.django_db

LOGIN = "/api/users/login/"
REFRESH = "/api/users/token/refresh/"
LOGOUT = "/api/users/logout/"
ME = "/api/users/me/"
PASSWORD_URL = "/api/users/me/password/"
NEW_PASSWORD = "a-brand-new-passphrase"


def log_in(client, email="alice@example.com", password=PASSWORD) -> dict:
    response = client.post(LOGIN, {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def me(client, access: str):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")


def refused(response) -> bool:
    return response.status_code == 401 and set(response.json()) == {"detail", "code"}


# --- what tokens carry ----------------------------------------------------------------------


def test_access_and_refresh_tokens_carry_the_token_version_and_the_family(api_client, alice):
    tokens = log_in(api_client)
    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])
    assert access[TOKEN_VERSION_CLAIM] == refresh[TOKEN_VERSION_CLAIM] == token_version(alice)
    assert access[FAMILY_CLAIM] == refresh[FAMILY_CLAIM] == refresh["jti"]  # the login's first
    rotated = api_client.post(REFRESH, {"refresh": tokens["refresh"]}).json()
    assert AccessToken(rotated["access"])[FAMILY_CLAIM] == refresh["jti"]
    assert RefreshToken(rotated["refresh"])[FAMILY_CLAIM] == refresh["jti"]


@pytest.mark.parametrize("missing", [TOKEN_VERSION_CLAIM, FAMILY_CLAIM])
def test_an_access_token_without_version_or_family_is_refused(api_client, alice, missing):
    token = access_token_for(alice)
    del token[missing]
    assert refused(me(api_client, str(token)))


def test_a_refresh_token_from_before_families_is_its_own_family(api_client, alice):
    old = RefreshToken()
    old["user_id"], old[TOKEN_VERSION_CLAIM] = alice.pk, token_version(alice)
    rotated = api_client.post(REFRESH, {"refresh": str(old)})
    assert rotated.status_code == 200
    assert RefreshToken(rotated.json()["refresh"])[FAMILY_CLAIM] == old["jti"]


# --- logout ---------------------------------------------------------------------------------


def test_logout_refuses_that_logins_access_token_at_once(api_client, alice):
    tokens = log_in(api_client)
    assert me(api_client, tokens["access"]).status_code == 200
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    response = me(api_client, tokens["access"])
    assert refused(response)
    assert response.json()["code"] == "token_not_valid"


def test_logout_refuses_the_access_tokens_of_every_earlier_rotation_too(api_client, alice):
    first = log_in(api_client)
    second = api_client.post(REFRESH, {"refresh": first["refresh"]}).json()
    api_client.post(LOGOUT, {"refresh": second["refresh"]})
    assert refused(me(api_client, first["access"]))
    assert refused(me(api_client, second["access"]))


def test_logging_out_one_device_leaves_the_others_logged_in(api_client, alice):
    phone, laptop = log_in(api_client), log_in(api_client)
    api_client.post(LOGOUT, {"refresh": phone["refresh"]})
    assert refused(me(api_client, phone["access"]))
    assert me(api_client, laptop["access"]).status_code == 200
    assert api_client.post(REFRESH, {"refresh": laptop["refresh"]}).status_code == 200


# --- refresh token reuse --------------------------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(api_client, alice):
    stolen = log_in(api_client)
    legitimate = api_client.post(REFRESH, {"refresh": stolen["refresh"]}).json()
    replay = api_client.post(REFRESH, {"refresh": stolen["refresh"]})
    assert refused(replay)
    assert "already used" in replay.json()["detail"]
    # Everything the family holds is refused now, what the rotation issued included.
    assert refused(api_client.post(REFRESH, {"refresh": legitimate["refresh"]}))
    assert refused(me(api_client, legitimate["access"]))
    assert refused(me(api_client, stolen["access"]))


def test_reuse_revokes_only_that_family(api_client, alice):
    other_device = log_in(api_client)
    stolen = log_in(api_client)
    api_client.post(REFRESH, {"refresh": stolen["refresh"]})
    api_client.post(REFRESH, {"refresh": stolen["refresh"]})
    assert me(api_client, other_device["access"]).status_code == 200
    assert api_client.post(REFRESH, {"refresh": other_device["refresh"]}).status_code == 200


def test_reusing_a_logged_out_refresh_token_is_a_401_and_changes_nothing_else(api_client, alice):
    tokens = log_in(api_client)
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})
    assert refused(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))
    assert refused(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}))
    assert RevokedTokenFamily.objects.count() == 1


# --- password changes, anywhere -------------------------------------------------------------


def test_a_password_change_refuses_every_access_token_at_once_the_changing_one_included(api_client, alice):
    phone, laptop = log_in(api_client), log_in(api_client)
    response = api_client.post(
        PASSWORD_URL,
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        HTTP_AUTHORIZATION=f"Bearer {phone['access']}",
    )
    assert response.status_code == 204
    for tokens in (phone, laptop):
        assert refused(me(api_client, tokens["access"]))
        assert refused(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))
    assert me(api_client, log_in(api_client, password=NEW_PASSWORD)["access"]).status_code == 200


def test_a_password_set_by_an_admin_refuses_access_tokens_at_once(api_client, admin_client, alice):
    tokens = log_in(api_client)
    response = admin_client.post(
        f"/admin/users/user/{alice.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.content
    assert refused(me(api_client, tokens["access"]))


def test_a_password_set_by_changepassword_refuses_access_tokens_at_once(api_client, alice, monkeypatch):
    tokens = log_in(api_client)
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass", lambda *a, **k: NEW_PASSWORD
    )
    call_command("changepassword", "alice@example.com", stdout=None)
    assert refused(me(api_client, tokens["access"]))


def test_saving_the_profile_keeps_every_token(api_client, alice):
    tokens = log_in(api_client)
    api_client.patch(ME, {"display_name": "Still Alice"}, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me(api_client, tokens["access"]).status_code == 200


# --- deactivation and deletion --------------------------------------------------------------


def test_deactivation_in_the_admin_refuses_access_and_refresh_tokens_at_once(api_client, admin_client, alice):
    tokens = log_in(api_client)
    page = admin_client.post(
        f"/admin/users/user/{alice.pk}/change/",
        {"email": alice.email, "timezone": "UTC", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )  # is_active left unticked
    assert page.status_code == 302, page.content
    response = me(api_client, tokens["access"])
    assert refused(response)
    assert response.json()["code"] == "user_inactive"
    assert refused(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


def test_deleting_the_account_refuses_its_tokens_at_once(api_client, alice):
    tokens = log_in(api_client)
    response = api_client.delete(ME, {"password": PASSWORD}, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert response.status_code == 204
    assert me(api_client, tokens["access"]).json()["code"] == "user_not_found"
    assert refused(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


# --- cost and housekeeping ------------------------------------------------------------------


def test_a_revoked_or_valid_token_costs_one_query(api_client, alice, django_assert_num_queries):
    tokens = log_in(api_client)
    # the account and its family's revocation, together; then me/'s own read of the profile
    with django_assert_num_queries(2):
        assert me(api_client, tokens["access"]).status_code == 200
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})
    with django_assert_num_queries(1):
        assert refused(me(api_client, tokens["access"]))


def test_token_responses_me_and_the_export_are_never_stored_by_caches(api_client, alice):
    tokens = log_in(api_client)
    assert api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD})["Cache-Control"] == (
        "no-store"
    )
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]})["Cache-Control"] == "no-store"
    assert me(api_client, tokens["access"])["Cache-Control"] == "no-store"
    export = api_client.get("/api/users/me/export/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert export["Cache-Control"] == "no-store"
    b"".join(export.streaming_content)


def test_the_purge_command_deletes_revocations_no_token_can_outlive(api_client, alice):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        api_client.post(LOGOUT, {"refresh": str(refresh_token_for(alice))})
    api_client.post(LOGOUT, {"refresh": str(refresh_token_for(alice))})
    call_command("purge_revoked_token_families", stdout=None)
    assert RevokedTokenFamily.objects.count() == 1


def test_deleting_an_account_deletes_its_revocations(api_client, alice):
    api_client.post(LOGOUT, {"refresh": str(refresh_token_for(alice))})
    User.objects.filter(pk=alice.pk).delete()
    assert not RevokedTokenFamily.objects.exists()
