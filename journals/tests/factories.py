import factory

from journals.models import Journal
from users.tests.factories import UserFactory


class JournalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journal

    user = factory.SubFactory(UserFactory)
    content = factory.Faker("paragraph")
    session = None
