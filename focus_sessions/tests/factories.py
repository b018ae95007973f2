from datetime import timedelta

import factory
from django.utils import timezone

from focus_sessions.models import FocusSession
from users.tests.factories import UserFactory


class FocusSessionFactory(factory.django.DjangoModelFactory):
    """A completed session by default: `FocusSessionFactory(active=True)` for a running one."""

    class Meta:
        model = FocusSession

    class Params:
        active = False
        minutes = 25

    user = factory.SubFactory(UserFactory)
    start_time = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    is_active = factory.LazyAttribute(lambda o: o.active)
    end_time = factory.LazyAttribute(
        lambda o: None if o.active else o.start_time + timedelta(minutes=o.minutes)
    )
    focus_seconds = factory.LazyAttribute(lambda o: None if o.active else o.minutes * 60)
