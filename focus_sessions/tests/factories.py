from datetime import timedelta

import factory
from django.utils import timezone

from focus_sessions.models import FocusSession
from focus_sessions.rollup import rollup_count
from users.tests.factories import UserFactory


class FocusSessionFactory(factory.django.DjangoModelFactory):
    """A completed session by default: `FocusSessionFactory(active=True)` for a running one.

    A user's sessions never overlap (the database refuses it), so each completed session starts
    half an hour before the one made before it, all of them over an hour ago, and a running one
    starts ten minutes ago, after them all.
    """

    class Meta:
        model = FocusSession

    class Params:
        active = False
        minutes = 25
        slot = factory.Sequence(lambda n: n)

    user = factory.SubFactory(UserFactory)
    start_time = factory.LazyAttribute(
        lambda o: (
            timezone.now() - (timedelta(minutes=10) if o.active else timedelta(hours=2, minutes=30 * o.slot))
        )
    )
    is_active = factory.LazyAttribute(lambda o: o.active)
    end_time = factory.LazyAttribute(
        lambda o: None if o.active else o.start_time + timedelta(minutes=o.minutes)
    )
    focus_seconds = factory.LazyAttribute(lambda o: None if o.active else o.minutes * 60)
    last_event_at = factory.LazyAttribute(lambda o: o.start_time)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        session = super()._create(model_class, *args, **kwargs)
        rollup_count(session, user=session.user, sign=1)  # counted for stats, as the services do
        return session
