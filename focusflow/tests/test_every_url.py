"""Every method on every URL of the URL conf, anonymous and signed in: never a 5xx, and never
an HTML page under /api/ (the docs page itself aside).

The URLs come from the URL conf itself, so a new one is covered the day it is added. A path
is built for each pattern with real ids (an object of the pattern's model when it has one), and
must resolve back to that pattern; a pattern this cannot build a path for fails the test, so it
is never silently skipped.
"""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import bearer
from journals.tests.factories import JournalFactory
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"]
_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def _model_of(callback):
    admin = getattr(callback, "model_admin", None)
    if admin is not None:
        return admin.model
    viewset = getattr(callback, "cls", None)
    serializer = getattr(viewset, "serializer_class", None)
    return getattr(getattr(serializer, "Meta", None), "model", None)


def _id_for(callback) -> str:
    model = _model_of(callback)
    obj = model._default_manager.order_by("pk").first() if model else None
    return str(obj.pk) if obj else "1"


def _route_sample(route: str, object_id: str) -> str:
    def fill(match):
        kind = match["kind"] or "str"
        if kind == "uuid":
            return str(uuid.uuid4())
        is_id = kind in ("int", "path") or match["name"] in ("id", "pk", "object_id")
        return object_id if is_id else "x"

    return _CONVERTER.sub(fill, route)


def _regex_sample(regex: str, object_id: str) -> str:
    def fill(match):
        body = match["body"]
        if re.fullmatch(r"[\w|]+", body):  # alternatives: the first one
            return body.split("|")[0]
        return object_id if re.fullmatch(r"\[0-9\](\+|\{1,\d+\})|\\d\+|\.\*|\.\+|\[\^/\]\+", body) else "x"

    text = _GROUP.sub(fill, regex).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return re.sub(r"\\(.)", r"\1", text)


def _sample(pattern, object_id: str) -> str:
    if isinstance(pattern, RoutePattern):
        return _route_sample(str(pattern), object_id)
    if isinstance(pattern, RegexPattern):
        return _regex_sample(pattern.regex.pattern, object_id)
    raise AssertionError(f"no sample path for a {type(pattern).__name__}: teach test_every_url about it")


def every_url() -> list[tuple[str, URLPattern]]:
    def walk(patterns, prefix: str):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + _sample(entry.pattern, "1"))
            else:
                yield prefix + _sample(entry.pattern, _id_for(entry.callback)), entry

    urls = [("/" + path, entry) for path, entry in walk(get_resolver().url_patterns, "")]
    for path, entry in urls:
        assert resolve(path).func is entry.callback, f"{path} does not resolve back to {entry.pattern}"
    return urls


@pytest.fixture
def data(alice):
    """One row of each kind, so detail URLs find a real object."""
    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=None)
    JournalFactory(user=alice, session=session)
    QuoteFactory()
    return alice


def test_every_method_on_every_url_is_never_a_5xx_nor_html_under_the_api(data):
    admin = get_user_model().objects.create_superuser("root@example.com", "an-admin-passphrase")
    anonymous = Client(raise_request_exception=False)
    signed_in = Client(raise_request_exception=False, HTTP_AUTHORIZATION=bearer(data))
    urls = every_url()
    assert len(urls) > 50  # the admin's and the API's, not an empty walk
    failures = []
    for path, _ in urls:
        for method in METHODS:
            for name, client in (("anonymous", anonymous), ("signed in", signed_in)):
                if client is signed_in:
                    client.force_login(admin)  # a POST to the admin's logout/ ends the session
                response = client.generic(method, path, b"{}", content_type="application/json")
                if response.streaming:  # read to the end, as a client would (the export)
                    b"".join(response.streaming_content)
                content_type = response.get("Content-Type", "")
                if response.status_code >= 500:
                    failures.append(f"{method} {path} ({name}): {response.status_code}")
                elif (
                    path.startswith("/api/")
                    and "html" in content_type
                    and not (path == "/api/docs/" and method in ("GET", "HEAD"))
                ):
                    failures.append(f"{method} {path} ({name}): {content_type}")
    assert failures == [], "\n".join(failures)
