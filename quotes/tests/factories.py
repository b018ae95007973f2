from datetime import date, timedelta

import factory

from quotes.models import DailyQuote, Quote


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    text = factory.Sequence(lambda n: f"Quote number {n}: keep going.")
    author = factory.Sequence(lambda n: f"Author {n}")


class DailyQuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyQuote

    date = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    quote = factory.SubFactory(QuoteFactory)
    cycle = 1
