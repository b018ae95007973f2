"""Every endpoint of the URL conf, tried with a personal access token that lacks the scope the
contract says it needs: 403 `insufficient_scope`, naming that scope. The list is generated from
the URL conf, so an endpoint added later is tried without editing this file; one the contract
below does not name is expected to refuse every token (the default of `focusflow.api.scopes`)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from focusflow.api.scopes import ANY_TOKEN, SCOPES
from users.personal_tokens import personal_token_create

pytestmark = pytest.mark.django_db

_GROUP = re.compile(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)")
SAFE = {"get", "head", "options"}


def contract_scope(path: str, method: str) -> str | None:
    """The scope a token needs, as "Personal access tokens (v1.2)" lists them: ANY_TOKEN for
    what any token may do, None for what no token may."""
    read = method in SAFE
    for prefix, family in (
        ("/api/sessions/", "sessions"),
        ("/api/tags/", "sessions"),
        ("/api/goals/", "sessions"),
    ):
        if path.startswith(prefix):
            return f"{family}:{'read' if read else 'write'}"
    if path.startswith("/api/journals/"):
        return f"journals:{'read' if read else 'write'}"
    if path.startswith("/api/webhooks/"):
        return "webhooks:manage"
    if path == "/api/users/me/" and read:
        return ANY_TOKEN
    if path.startswith(("/api/quotes/", "/api/sync/", "/api/events/")):
        return ANY_TOKEN
    return None


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def endpoints() -> list[tuple[str, str]]:
    """(method, path) of every authenticated API endpoint, ids filled in."""
    found = set()
    for pattern, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if view is None or not issubclass(view, APIView):
            continue
        if any(issubclass(permission, AllowAny) for permission in view.permission_classes):
            continue  # public: it takes no token at all
        path = "/" + _GROUP.sub("1", pattern).replace("^", "").replace("$", "").replace("\\", "")
        methods = getattr(callback, "actions", None) or {m: m for m in view.http_method_names}
        found.update((method, path) for method in methods if method not in ("head", "options"))
    return sorted(found, key=lambda endpoint: (endpoint[1], endpoint[0]))


ENDPOINTS = endpoints()


def test_the_generated_list_covers_the_api():
    paths = {path for _, path in ENDPOINTS}
    assert {"/api/sessions/start/", "/api/tags/1/merge/", "/api/users/me/tokens/", "/api/sync/"} <= paths
    assert len(ENDPOINTS) > 30


def _lacking(scope: str) -> list[str]:
    """Every scope but `scope` and what implies it."""
    lacking = {scope, scope.replace(":read", ":write")}
    return [held for held in SCOPES if held not in lacking]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m.upper()} {p}" for m, p in ENDPOINTS])
def test_a_token_lacking_the_scope_is_refused(api_client, alice, method, path):
    needed = contract_scope(path, method)
    scopes = [] if needed == ANY_TOKEN else _lacking(needed) if needed else list(SCOPES)
    _, token = personal_token_create(user=alice, name="probe", scopes=scopes, password_version_seen=None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = getattr(api_client, method)(path, {}, format="json")
    if needed == ANY_TOKEN:
        assert response.status_code not in (401, 403), response.content
        return
    assert response.status_code == 403, response.content
    assert response.json() == {
        "detail": response.json()["detail"],
        "code": "insufficient_scope",
        "required_scope": needed,
    }


REACHABLE = [(method, path) for method, path in ENDPOINTS if contract_scope(path, method) is not None]


@pytest.mark.parametrize(("method", "path"), REACHABLE, ids=[f"{m.upper()} {p}" for m, p in REACHABLE])
def test_a_token_with_the_scope_gets_past_the_check(api_client, alice, method, path):
    needed = contract_scope(path, method)
    scopes = [] if needed == ANY_TOKEN else [needed]
    _, token = personal_token_create(user=alice, name="probe", scopes=scopes, password_version_seen=None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code not in (401, 403), response.content
