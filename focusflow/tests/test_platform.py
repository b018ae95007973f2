"""The API platform: error shapes, hostile bodies, health, schema and docs."""

import io
import json
import logging
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
        assert response["Content-Disposition"] == 'inline; filename="FocusFlow API (1.0.0).yaml"'


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


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        (b'{"email": ' + b"1" * 5000 + b"}", "application/json", "out of range"),
        (b'{"email": 1e999}', "application/json", "out of range"),
        (b'{"email": -Infinity}', "application/json", "not valid JSON (line 1, column 12)"),
        (b'{"email": NaN}', "application/json", "not valid JSON (line 1, column 11)"),
        ('{"email": "a@x.io"}'.encode("utf-16"), "application/json; charset=utf-16", "not valid UTF-8"),
        ('{"email": "\u00e9"}'.encode("latin-1"), "application/json; charset=latin-1", "not valid UTF-8"),
        (b'{"email": "a@x.io"}', "application/json; charset=no-such-codec", None),
        (b'{"email": "\\ud800"}', "application/json", "unpaired"),
        (b'{"email": "\\udc00"}', "application/json", "unpaired"),
        (b'{"email": [' * 5000 + b"]}" * 5000, "application/json", "nested too deeply"),
        (b"{not json", "application/json", "line 1, column 2"),
    ],
    ids=[
        "huge-int", "huge-float", "infinity", "nan", "utf16", "latin1", "unknown-charset", "surrogate",
        "low-surrogate", "deep", "syntax",
    ],
)  # fmt: skip
def test_bodies_are_utf8_json_only_and_errors_name_no_python_internals(client, raw, content_type, message):
    response = client.generic("POST", LOGIN, raw, content_type=content_type)
    assert response["Content-Type"] == "application/json"
    if message is None:  # the charset parameter is ignored: UTF-8 it is
        assert response.status_code == 400
        assert set(response.json()) == {"password"}
        return
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert response.json()["code"] == "parse_error"
    assert message in detail
    for internal in ("sys.", "codec", "utf-16", "latin", "Expecting", "int_max_str_digits", "char "):
        assert internal not in detail, detail


def test_a_surrogate_pair_escape_is_fine_and_a_bom_is_tolerated(alice_client):
    body = '\ufeff{"label": "focus \\ud83d\\ude00"}'.encode()
    response = alice_client.generic("POST", "/api/sessions/start/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["label"] == "focus \U0001f600"


def test_a_ten_megabyte_body_is_a_413(client):
    body = json.dumps({"email": "a@x.io", "password": "x" * 10_000_000})
    response = client.post(LOGIN, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_form_encoded_body_is_a_415(client):
    response = client.post(LOGIN, "email=a&password=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", [LOGIN, "/api/users/me/password/", "/api/sessions/start/"])
def test_options_describes_an_action_without_a_500(alice_client, path):
    response = alice_client.options(path)
    assert response.status_code == 200
    assert "POST" in response["Allow"]
    assert response.json()["renders"] == ["application/json"]


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
        "/api/sessions/",
        "/api/sessions/{id}/",
        "/api/sync/",
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
    assert {"get", "patch", "delete"} == set(paths["/api/sessions/{id}/"]) - {"parameters"}
    assert "412" in paths["/api/sessions/{id}/"]["patch"]["responses"]
    assert "410" in paths["/api/sync/"]["get"]["responses"]
    if_match = [p for p in paths["/api/journals/{id}/"]["patch"]["parameters"] if p["name"] == "If-Match"]
    assert if_match and if_match[0]["in"] == "header"
    start_headers = {p["name"] for p in paths["/api/sessions/start/"]["post"]["parameters"]}
    assert "Idempotency-Key" in start_headers


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def _component(schema: dict, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def _bodies(schema: dict, response: dict) -> list[dict]:
    """The components a response can answer with (one, or each of a oneOf)."""
    body = response["content"]["application/json"]["schema"]
    return [_component(schema, ref) for ref in body.get("oneOf", [body])]


PUBLIC = {
    "health",
    "users_register",
    "users_login",
    "users_token_refresh",
    "users_logout",
    "users_password_reset",
    "users_password_reset_confirm",
}
# A link's token needs no sign-in; the code typed instead does.
TOKEN_OPTIONAL = {"users_email_verify", "users_email_change_confirm"}


def test_public_operations_need_no_token_and_every_other_the_bearer_scheme(schema):
    assert schema["security"] == [{"jwtAuth": []}]
    for name, operation in _operations(schema):
        public = operation["operationId"] in PUBLIC
        optional = operation["operationId"] in TOKEN_OPTIONAL
        expected = [] if public else [{"jwtAuth": []}, {}] if optional else [{"jwtAuth": []}]
        if operation["operationId"] == "events_stream":  # a browser's EventSource sends a ticket
            expected = [{"ticket": []}, {"jwtAuth": []}]
        assert operation["security"] == expected, name
        token_refused = "AuthenticationError" in json.dumps(operation["responses"].get("401"))
        assert token_refused != public, name


def test_every_field_a_response_always_sends_is_required(schema):
    components = schema["components"]["schemas"]
    responses = {
        name: component
        for name, component in components.items()
        if "properties" in component and not name.endswith("Request")
    }
    assert {"User", "FocusSession", "Journal", "PaginatedJournalList", "SyncPage"} <= set(responses)
    for name, component in responses.items():
        if name != "ValidationError":
            assert set(component["required"]) == set(component["properties"]), name
    user = components["User"]["properties"]
    assert user["daily_goal_minutes"]["nullable"] is True
    assert "nullable" not in user["timezone"]
    assert components["PatchedUserRequest"].get("required") is None  # a PATCH sends what it changes


def test_timestamps_are_date_times_server_now_included(schema):
    timestamps = [
        (name, field, prop)
        for name, component in schema["components"]["schemas"].items()
        for field, prop in component.get("properties", {}).items()
        if field.endswith(("_at", "_time", "_now")) or field == "date_joined"
    ]
    assert ("FocusSession", "server_now") in {(name, field) for name, field, _ in timestamps}
    for name, field, prop in timestamps:
        assert prop.get("format") == "date-time", (name, field)


def test_every_error_is_a_field_map_or_has_an_enum_code_one_component_per_code_set(schema):
    code_sets = {}
    for name, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (name, status) == ("GET /api/health/", "503"):  # its own body
                continue
            for body in _bodies(schema, response):
                if body.get("additionalProperties"):  # the validation error's field map
                    assert status == "400", name
                    continue
                assert {"detail", "code"} <= set(body["required"]), (name, status)
                codes = body["properties"]["code"]["enum"]
                if set(body["properties"]) == {"detail", "code"}:
                    code_sets.setdefault(frozenset(codes), set()).add(json.dumps(body, sort_keys=True))
    assert all(len(components) == 1 for components in code_sets.values())
    assert frozenset({"session_already_paused"}) in code_sets


def test_an_operation_declares_each_error_it_can_give(schema):
    paths = schema["paths"]
    codes = {
        f"{name} {status}": sorted(
            code
            for body in _bodies(schema, response)
            for code in body["properties"].get("code", {}).get("enum", [])  # none in a field map
        )
        for name, operation in _operations(schema)
        for status, response in operation["responses"].items()
        if int(status) >= 400 and (name, status) != ("GET /api/health/", "503")
    }
    assert codes["POST /api/sessions/start/ 400"] == ["bad_request", "invalid_idempotency_key", "parse_error"]
    assert codes["GET /api/users/me/ 400"] == ["bad_request"]  # a Host outside ALLOWED_HOSTS
    assert codes["POST /api/sessions/start/ 409"] == [
        "client_id_conflict",
        "session_already_active",
        "session_overlap",
    ]
    assert codes["POST /api/sessions/ 409"] == ["client_id_conflict", "session_overlap"]
    assert codes["POST /api/journals/create/ 422"] == ["idempotency_key_reused"]
    assert codes["GET /api/users/me/ 401"] == [
        "bad_authorization_header",
        "not_authenticated",
        "token_not_valid",
        "user_inactive",
        "user_not_found",
    ]
    assert codes["POST /api/users/login/ 401"] == ["invalid_credentials"]
    assert codes["POST /api/users/login/ 429"] == ["throttled"]
    assert codes["POST /api/sessions/stop/ 429"] == ["throttled"]  # every write, per user
    assert codes["GET /api/users/me/export/ 429"] == ["throttled"]
    assert codes["POST /api/users/register/ 415"] == ["unsupported_media_type"]
    assert codes["GET /api/sync/ 410"] == ["sync_cursor_expired"]
    assert codes["PATCH /api/journals/{id}/ 403"] == ["insufficient_scope", "journal_locked"]
    assert codes["GET /api/users/me/tokens/ 403"] == ["insufficient_scope"]  # no token may
    assert "GET /api/users/me/ 403" not in codes  # any token may
    assert "GET /api/sync/ 403" not in codes
    assert "GET /api/users/me/ 415" not in codes  # no body, nothing to refuse
    start_400 = paths["/api/sessions/start/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert start_400["schema"]["oneOf"][-1] == {"$ref": "#/components/schemas/ValidationError"}
    for name, operation in _operations(schema):
        assert "400" in operation["responses"], name
        assert "406" in operation["responses"], name
        assert "503" in operation["responses"], name
        if name != "GET /api/health/":
            assert "Retry-After" in operation["responses"]["503"]["headers"], name


def test_conflicts_carry_the_object_in_the_way_as_a_typed_component(schema):
    components = schema["components"]["schemas"]
    active = components["SessionAlreadyActiveError"]["properties"]["active_session"]
    assert active["oneOf"][0] == {"$ref": "#/components/schemas/FocusSession"}
    assert active["oneOf"][1]["nullable"] is True  # null when it ended meanwhile
    current = components["JournalVersionConflictError"]["properties"]["current"]
    assert current["allOf"] == [{"$ref": "#/components/schemas/Journal"}]


def test_the_sync_feed_types_each_change_by_its_kind(schema):
    components = schema["components"]["schemas"]
    page = schema["paths"]["/api/sync/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"] == {"$ref": "#/components/schemas/SyncPage"}
    assert components["SyncPage"]["properties"]["server_now"]["format"] == "date-time"
    kinds = components["SyncChange"]["discriminator"]["mapping"]
    assert set(kinds) == {"session", "journal", "profile", "tag", "goal"}
    for kind, shown in [
        ("session", "FocusSession"),
        ("journal", "Journal"),
        ("profile", "User"),
        ("tag", "Tag"),
        ("goal", "Goal"),
    ]:
        change = _component(schema, {"$ref": kinds[kind]})["properties"]
        assert change["type"]["enum"] == [kind]
        assert change["data"]["oneOf"][0] == {"$ref": f"#/components/schemas/{shown}"}
    assert "page_size" not in str(schema["paths"]["/api/sync/"]["get"]["parameters"])


def test_exports_and_stats_are_fully_typed(schema):
    components = schema["components"]["schemas"]
    export = components["Export"]["properties"]
    assert export["focus_sessions"]["items"] == {"$ref": "#/components/schemas/FocusSession"}
    assert export["journals"]["items"] == {"$ref": "#/components/schemas/Journal"}
    assert export["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert export["goals"]["items"] == {"$ref": "#/components/schemas/Goal"}
    assert components["Stats"]["properties"]["days"]["items"] == {"$ref": "#/components/schemas/DayStats"}


def test_lists_document_the_cursor_and_always_send_both_links(schema):
    history = schema["paths"]["/api/sessions/history/"]["get"]
    assert "cursor" in {parameter["name"] for parameter in history["parameters"]}
    page = schema["components"]["schemas"]["PaginatedFocusSessionList"]
    assert set(page["required"]) == {"next", "previous", "results"}
    for link in ("next", "previous"):
        assert page["properties"][link] | {"description": ""} == {
            "type": "string",
            "format": "uri",
            "nullable": True,
            "description": "",
        }


def test_not_modified_answers_have_no_body_and_keep_the_etag(schema):
    for path in ["/api/sessions/{id}/", "/api/journals/{id}/", "/api/quotes/today/"]:
        operation = schema["paths"][path]["get"]
        not_modified = operation["responses"]["304"]
        assert "content" not in not_modified
        assert "ETag" in not_modified["headers"]
        assert "If-None-Match" in {parameter["name"] for parameter in operation["parameters"]}


def test_ids_in_paths_are_integers_and_operation_ids_read_well(schema):
    parameters = schema["paths"]["/api/sessions/{id}/"]["get"]["parameters"]
    assert {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}} in parameters
    names = {operation["operationId"] for _, operation in _operations(schema)}
    assert {"health", "sync_changes", "sessions_start", "users_me_update"} <= names
    assert "health_retrieve" not in names


def test_the_schema_names_its_servers_license_and_contact(schema):
    assert schema["servers"][0]["url"] == "/"
    assert schema["info"]["license"]["url"]
    assert schema["info"]["contact"]


def test_the_schema_is_valid_openapi_and_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_docs_page_serves_swagger_ui_from_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html


def test_the_docs_page_sends_a_content_security_policy_without_unsafe_inline(client):
    response = client.get("/api/docs/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert "<script>" not in response.content.decode()  # the init script is a file: ?script
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("method", ["options", "post", "put", "patch", "delete", "trace"])
def test_any_other_method_on_the_docs_page_is_json_never_a_500(client, method):
    response = getattr(client, method)("/api/docs/")
    assert response.status_code in (200, 405)
    assert response["Content-Type"] == "application/json"


@pytest.fixture
def django_log():
    """What the `django` logger's console handler (the settings' own) writes, as text."""
    (handler,) = [h for h in logging.getLogger("django").handlers if type(h) is logging.StreamHandler]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.parametrize("path", ["/api/health/", "/api/users/login/", "/admin/"])
def test_a_host_outside_allowed_hosts_is_a_400_and_one_warning_line(client, django_log, path):
    response = client.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"detail": "The request could not be understood.", "code": "bad_request"}
    lines = django_log.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert " WARNING django.security.DisallowedHost Invalid HTTP_HOST header: 'evil.example'" in lines[0]


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
