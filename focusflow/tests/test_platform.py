"""The API platform: error shapes, hostile bodies, health, schema and docs."""

import json
import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

ME = "/api/users/me/"
LOGIN = "/api/users/login/"


@pytest.mark.parametrize("path", ["/api/nope/", "/api/users/nope/", "/api/", "/api/journals/abc/"])
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_answer_a_json_404_even_in_debug(client, path, debug):
    with override_settings(DEBUG=debug):
        response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_missing_trailing_slash_is_pointed_out_not_redirected(client):
    response = client.post("/api/users/login", {}, content_type="application/json")
    assert response.status_code == 404
    assert "/api/users/login/" in response.json()["detail"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_on_unknown_api_paths_get_json_not_a_csrf_page(method):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/users/login", "{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_trailing_slash_hint_names_only_real_endpoints(client):
    assert "Did you mean" not in client.get("/api/nope").json()["detail"]
    assert "Did you mean /api/users/me/" in client.get("/api/users/me").json()["detail"]


def test_a_chunked_body_without_a_length_is_a_411_when_the_server_cannot_read_it(alice_client):
    response = alice_client.post(
        "/api/sessions/start/", b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert response.json()["code"] == "length_required"


def test_the_schema_ignores_a_hostile_version_parameter(client):
    for version in ["\x01", "1\r\nX-Injected: 1", "v2"]:
        response = client.get("/api/schema/", {"version": version})
        assert response.status_code == 200
        assert "X-Injected" not in response


def test_the_schema_documents_the_password_body_of_account_deletion(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    body = paths["/api/users/me/"]["delete"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("AccountDeleteRequest")


def test_unknown_pages_outside_the_api_stay_html(client):
    response = client.get("/nope/")
    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]


def test_wrong_method_is_a_405_in_the_error_shape(alice_client):
    response = alice_client.post(ME, {})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"}


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"email": "a@x.io", "password": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"email": "\xff\xfe"}',
        b'"just a string"',
        b"null",
    ],
    ids=["syntax", "nan", "deeply-nested", "bad-utf8", "string", "null"],
)
def test_undecodable_or_odd_json_is_a_400_never_a_500(client, raw):
    response = client.post(LOGIN, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_a_ten_megabyte_body_is_a_413(client):
    body = json.dumps({"email": "a@x.io", "password": "x" * 10_000_000})
    response = client.post(LOGIN, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_form_encoded_body_is_a_415(client):
    response = client.post(LOGIN, "email=a&password=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_responses_are_json_even_when_html_is_asked_for(alice_client):
    response = alice_client.get(ME, HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 406)
    assert response["Content-Type"].startswith("application/json")


def test_health_reports_ok_without_auth(client):
    response = client.get("/api/health/", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db(transaction=True)
def test_the_health_checks_timeout_does_not_stay_on_the_connection(client):
    client.get("/api/health/")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db(transaction=True)
def test_health_is_a_503_when_the_database_is_unreachable(client):
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = client.get("/api/health/")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_schema_documents_every_contract_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/users/register/",
        "/api/users/login/",
        "/api/users/token/refresh/",
        "/api/users/logout/",
        "/api/users/me/",
        "/api/users/me/export/",
        "/api/users/me/password/",
        "/api/sessions/start/",
        "/api/sessions/stop/",
        "/api/sessions/pause/",
        "/api/sessions/resume/",
        "/api/sessions/active/",
        "/api/sessions/history/",
        "/api/sessions/stats/",
        "/api/journals/",
        "/api/journals/create/",
        "/api/journals/{id}/",
        "/api/quotes/today/",
        "/api/health/",
    ]:
        assert path in paths, path
    assert {"get", "patch", "delete"} <= set(paths["/api/users/me/"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/journals/{id}/"])
    assert "401" in paths["/api/users/login/"]["post"]["responses"]
    assert "429" in paths["/api/users/login/"]["post"]["responses"]
    assert "409" in paths["/api/sessions/start/"]["post"]["responses"]
    start_headers = {p["name"] for p in paths["/api/sessions/start/"]["post"]["parameters"]}
    assert "Idempotency-Key" in start_headers


def test_the_schema_is_valid_openapi_and_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_docs_page_serves_swagger_ui_from_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.focusflow.example"])
def test_cors_allows_the_configured_web_origin_only(client):
    allowed = client.options(
        LOGIN, HTTP_ORIGIN="https://app.focusflow.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.focusflow.example"
    other = client.options(
        LOGIN, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.urls("focusflow.tests.crash_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_json_500_without_a_traceback(client, debug, caplog):
    with override_settings(DEBUG=debug):
        response = client.get("/api/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side.", "code": "server_error"}
    assert "boom" in caplog.text  # logged for us, not shown to the client
