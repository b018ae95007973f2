"""Django admin for accounts: email-based, searchable, filterable."""

import pytest

from users.models import User
from users.tests.factories import UserFactory

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
