"""Over real HTTP through gunicorn (4 workers) on PostgreSQL and Redis: what a client sees."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from focusflow.testing import bearer
from quotes.models import DailyQuote
from quotes.tests.factories import QuoteFactory
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_cache(live_server_env):
    """The Redis the workers share, emptied: a quote cached for today by an earlier run would
    point at rows this test database no longer has."""
    client = redis.Redis.from_url(live_server_env["REDIS_URL"])
    client.flushdb()
    yield client
    client.flushdb()


def test_concurrent_first_requests_on_several_workers_agree_on_one_quote(gunicorn, shared_cache):
    QuoteFactory.create_batch(50)
    # Minted up front: the threads only do HTTP, so the first requests arrive together.
    tokens = [bearer(user) for user in UserFactory.create_batch(4)]

    def ask(n: int) -> requests.Response:
        headers = {"Authorization": tokens[n % len(tokens)]}
        return requests.get(f"{gunicorn.url}/api/quotes/today/", headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(ask, range(32)))

    assert [r.status_code for r in responses] == [200] * 32
    assert len({r.content for r in responses}) == 1
    assert len({r.headers["ETag"] for r in responses}) == 1
    [day] = DailyQuote.objects.all()
    assert responses[0].json()["id"] == day.quote_id
    assert responses[0].json()["date"] == day.date.isoformat()
    assert responses[0].headers["Cache-Control"].startswith("private, max-age=")
    assert shared_cache.keys(f"*quotes:daily:{day.date.isoformat()}")

    again = requests.get(
        f"{gunicorn.url}/api/quotes/today/",
        headers={"Authorization": tokens[0], "If-None-Match": responses[0].headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304
    assert again.content == b""


def test_with_no_quotes_the_api_answers_404_no_quotes(gunicorn, shared_cache):
    response = requests.get(
        f"{gunicorn.url}/api/quotes/today/", headers={"Authorization": bearer(UserFactory())}, timeout=10
    )
    assert response.status_code == 404
    assert response.json()["code"] == "no_quotes"
