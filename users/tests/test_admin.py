"""Django admin for accounts: email-based, searchable, filterable."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from focusflow.testing import T0, at, changelist_rows
from users import services
from users.models import User
from users.services import auth_tokens_for
from users.tests.factories import UserFactory
from users.tokens import refresh_token_for, refresh_token_logout

pytestmark = pytest.mark.django_db


def test_the_user_list_searches_by_email_and_filters(admin_client, alice, bob):
    response = admin_client.get("/admin/users/user/", {"q": "alice"})
    assert response.status_code == 200
    assert b"alice@example.com" in response.content
    assert b"bob@example.com" not in response.content
    assert admin_client.get("/admin/users/user/", {"is_active__exact": "1"}).status_code == 200


def test_an_admin_creates_an_account_by_email(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {"email": "New@Example.com", "password1": "a-strong-passphrase", "password2": "a-strong-passphrase"},
    )
    assert response.status_code == 302, response.content
    assert User.objects.filter(email="new@example.com").exists()


def test_the_change_form_validates_the_time_zone(admin_client):
    user = UserFactory()
    page = admin_client.get(f"/admin/users/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b"password" in page.content
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/",
        {"email": user.email, "timezone": "Nowhere/Land", "is_active": "on", "date_joined_0": "2026-01-01",
         "date_joined_1": "00:00:00"},
    )  # fmt: skip
    assert response.status_code == 200  # the form again, with the error
    assert b"Unknown time zone" in response.content


LIST = "/admin/users/user/"


def test_the_user_list_shows_last_login_to_the_second_and_an_active_toggle(admin_client, alice):
    User.objects.filter(pk=alice.pk).update(last_login=T0, date_joined=T0 - timedelta(days=30))
    page = admin_client.get(LIST, {"q": "alice"})
    [row] = changelist_rows(page)
    assert row[1:4] == ["alice@example.com", "2026-11-20 09:00:00 UTC", "2026-10-21 09:00:00 UTC"]
    assert 'name="form-0-is_active"' in page.content.decode()
    assert "display_name" not in page.context["cl"].list_display


def test_a_long_email_is_cut_in_the_list_and_whole_on_hover(admin_client):
    UserFactory(email="maximilian.alexander.worthington@university.example.org")
    page = admin_client.get(LIST, {"q": "maximilian"})
    [row] = changelist_rows(page)
    assert row[1] == "maximilian.alexander.worthingto…"
    assert 'title="maximilian.alexander.worthington@university.example.org"' in page.content.decode()


def _formset(users, **changes) -> dict[str, str]:
    """The list's "active" formset as the admin posts it, with `changes` ({user: active})."""
    data = {"form-TOTAL_FORMS": str(len(users)), "form-INITIAL_FORMS": str(len(users)), "_save": "Save"}
    for i, user in enumerate(users):
        data[f"form-{i}-id"] = str(user.pk)
        if changes.get(user.email, user.is_active):
            data[f"form-{i}-is_active"] = "on"
    return data


def test_unticking_active_in_the_list_deactivates_through_the_service(admin_client, alice, bob, monkeypatch):
    deactivated = []
    real = services.user_deactivate

    def spy(*, user):
        deactivated.append(user.email)
        return real(user=user)

    monkeypatch.setattr(services, "user_deactivate", spy)
    shown = list(admin_client.get(LIST, {"q": "example.com"}).context["cl"].result_list)
    response = admin_client.post(f"{LIST}?q=example.com", _formset(shown, **{"alice@example.com": False}))
    assert response.status_code == 302
    assert deactivated == ["alice@example.com"]
    assert list(User.objects.filter(is_active=False).values_list("email", flat=True)) == ["alice@example.com"]


def test_the_deactivate_action_locks_accounts_and_their_tokens_out(admin_client, alice, bob, client_for):
    tokens = auth_tokens_for(user=alice)
    response = admin_client.post(LIST, {"action": "deactivate", "_selected_action": [alice.pk]}, follow=True)
    assert "Deactivated 1 account(s)" in response.content.decode()
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.is_active, bob.is_active) == (False, True)
    assert client_for(alice).get("/api/users/me/").status_code == 401
    assert APIClient().post("/api/users/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert client_for(bob).get("/api/users/me/").status_code == 200


def test_the_deactivate_action_spares_the_admin_who_runs_it(admin_client, admin_user, alice):
    response = admin_client.post(
        LIST, {"action": "deactivate", "_selected_action": [alice.pk, admin_user.pk]}, follow=True
    )
    assert "Your own account stays active." in response.content.decode()
    assert list(User.objects.filter(is_active=False).values_list("email", flat=True)) == ["alice@example.com"]


def test_the_user_form_offers_no_groups_or_permissions(admin_client, alice):
    form = admin_client.get(f"{LIST}{alice.pk}/change/").context["adminform"].form
    assert "groups" not in form.fields
    assert "user_permissions" not in form.fields
    assert {"is_active", "is_staff", "is_superuser"} <= set(form.fields)


def test_the_token_blacklist_can_be_read_but_not_written(admin_client, alice):
    refresh = refresh_token_for(alice)
    spent = refresh_token_for(alice)
    refresh_token_logout(str(spent))
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    blacklisted = BlacklistedToken.objects.get()
    for path, obj in [("outstandingtoken", outstanding), ("blacklistedtoken", blacklisted)]:
        base = f"/admin/token_blacklist/{path}/"
        listing = admin_client.get(base)
        assert listing.status_code == 200
        assert "alice@example.com" in listing.content.decode()
        assert not listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
        view = admin_client.get(f"{base}{obj.pk}/change/")
        assert view.status_code == 200
        assert str(refresh) not in view.content.decode()  # a live credential is never shown
        assert str(spent) not in view.content.decode()
        assert admin_client.get(f"{base}add/").status_code == 403
        assert admin_client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
        assert admin_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 1


def _users_shown(admin_client, path: str, **filters) -> list[str]:
    # No actions on these lists, so no selection column: the user is the second cell.
    return [row[1] for row in changelist_rows(admin_client.get(f"/admin/token_blacklist/{path}/", filters))]


def test_the_token_lists_filter_by_blacklisted_and_by_email(admin_client, alice, bob):
    refresh_token_for(alice)
    refresh_token_logout(str(refresh_token_for(bob)))
    assert _users_shown(admin_client, "outstandingtoken", blacklisted="yes") == ["bob@example.com"]
    assert _users_shown(admin_client, "outstandingtoken", blacklisted="no") == ["alice@example.com"]
    assert _users_shown(admin_client, "outstandingtoken", user_email="alice@example.com") == [
        "alice@example.com"
    ]
    assert _users_shown(admin_client, "blacklistedtoken", user_email="bob@example.com") == ["bob@example.com"]
    assert _users_shown(admin_client, "blacklistedtoken", user_email="alice@example.com") == []


def test_a_time_zone_changed_in_the_admin_reaches_sync_and_recounts_stats(admin_client, alice, client_for):
    """The admin changes the profile through users.services.user_update, as the API does: the
    other devices' sync sees the profile change, and the stats count days in the new zone."""
    from focus_sessions.tests.factories import FocusSessionFactory

    # Thursday 23:30 UTC: Thursday in UTC, already Friday in Paris. The clock: Friday 10:00 UTC.
    FocusSessionFactory(user=alice, start_time=T0.replace(hour=23, minute=30) - timedelta(days=1), minutes=20)
    with at(60):
        app = client_for(alice)
        synced = app.get("/api/sync/").json()["cursor"]
        response = admin_client.post(
            f"{LIST}{alice.pk}/change/",
            {"email": alice.email, "timezone": "Europe/Paris", "is_active": "on",
             "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
        )  # fmt: skip
        assert response.status_code == 302, response.content

        changes = app.get("/api/sync/", {"cursor": synced}).json()["changes"]
        stats = app.get("/api/sessions/stats/", {"days": 7}).json()
    assert [(c["type"], c["data"]["timezone"]) for c in changes] == [("profile", "Europe/Paris")]
    assert [d["date"] for d in stats["days"] if d["sessions"]] == [T0.date().isoformat()]  # Friday


def test_the_user_list_shows_whether_each_email_is_verified_and_filters_by_it(admin_client, alice, bob):
    User.objects.filter(pk=alice.pk).update(email_verified=True)
    page = admin_client.get(LIST).content.decode()
    assert 'alt="verified" title="email verified"' in page
    assert 'alt="not verified" title="email not verified"' in page
    rows = changelist_rows(admin_client.get(LIST, {"email_verified__exact": "1"}))
    assert [row[1] for row in rows] == ["alice@example.com"]


def test_an_admin_can_send_a_password_reset(admin_client, alice, bob):
    from focusflow.testing import queued_jobs

    User.objects.filter(pk=bob.pk).update(is_active=False)
    body = {"action": "send_password_reset", "_selected_action": [alice.pk, bob.pk]}
    response = admin_client.post(LIST, body, follow=True)
    assert response.status_code == 200
    assert "on its way to 1 account(s)" in response.content.decode()
    assert [job["args"]["email"] for job in queued_jobs("users.send_password_reset")] == [alice.email]


def test_an_address_changed_by_an_admin_is_not_verified_and_voids_the_old_links(admin_client, alice):
    from users.models import AccountLink
    from users.recovery import Purpose, link_issue

    User.objects.filter(pk=alice.pk).update(email_verified=True)
    link_issue(user=alice, purpose=Purpose.RESET, email=alice.email)
    response = admin_client.post(
        f"{LIST}{alice.pk}/change/",
        {"email": "alice@new.example", "timezone": "UTC", "is_active": "on",
         "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    alice.refresh_from_db()
    assert (alice.email, alice.email_verified) == ("alice@new.example", False)
    assert not AccountLink.objects.filter(user=alice).exists()
