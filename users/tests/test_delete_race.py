"""Deleting an account while another device writes to it, on real PostgreSQL connections."""

import threading

import pytest
from django.db import connection
from django.db.models.signals import pre_delete

from focus_sessions.models import FocusSession
from focusflow.testing import UserClient
from users import services
from users.models import User
from users.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_session_started_during_the_deletion_loses_with_a_401_and_the_deletion_completes():
    """The start's insert waits on the account lock, then fails its foreign key at commit:
    the device hears what its next request would hear anyway, a 401."""
    user = UserFactory()
    outcome: dict = {}

    def start_from_another_device():
        try:
            response = UserClient(user).post("/api/sessions/start/")
            outcome["result"] = (response.status_code, response.json()["code"])
        finally:
            connection.close()

    def meanwhile(sender, instance, **kwargs):
        # Runs inside the deletion, after Django has listed the sessions to delete.
        if instance.pk == user.pk:
            device = threading.Thread(target=start_from_another_device)
            device.start()
            device.join(timeout=2)  # without the account lock it commits at once
            outcome["thread"] = device

    pre_delete.connect(meanwhile, sender=User)
    try:
        services.user_delete(user=User.objects.get(pk=user.pk), password=PASSWORD)
    finally:
        pre_delete.disconnect(meanwhile, sender=User)
    outcome["thread"].join(timeout=10)
    assert not User.objects.filter(pk=user.pk).exists()
    assert not FocusSession.objects.exists()
    assert outcome["result"] == (401, "user_not_found")
