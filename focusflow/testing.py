"""Helpers every app's tests share: tokens, the fixed clock, real races, the Redis test database.

Fixtures built on these (personas, API clients, gunicorn) are in the root `conftest.py`.
"""

import base64
import html
import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import urlencode

import jsonschema
import requests
import time_machine
from django.db import connection
from django.utils.html import strip_tags
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from users.tokens import FAMILY_CLAIM, TOKEN_VERSION_CLAIM, token_version

T = TypeVar("T")

# The Redis database the suite may empty at will (live servers and cache tests share it).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The suite's usual "now": a Friday morning in UTC.
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def access_token_for(user, *, family: str | None = None) -> AccessToken:
    """A real access token for `user` (anything with `.pk` and `.password`), as a login would
    issue, of its own new family unless one is named, without the refresh token."""
    token = AccessToken()
    token[api_settings.USER_ID_CLAIM] = user.pk
    token[TOKEN_VERSION_CLAIM] = token_version(user)
    token[FAMILY_CLAIM] = family or token[api_settings.JTI_CLAIM]
    return token


def bearer(user) -> str:
    """An `Authorization` header value with a real access token for `user`."""
    return f"Bearer {access_token_for(user)}"


class UserClient(APIClient):
    """Sends a fresh access token for its user with every request, minted at the (possibly
    frozen) current time, so tests can move the clock without tokens expiring under them. The
    tokens are of the account as it was when the client was made: they stop working when its
    password changes, as real ones do."""

    def __init__(self, user, **defaults) -> None:
        super().__init__(**defaults)
        # Not the instance, so the client keeps presenting the token after the account is gone.
        self.token_user = SimpleNamespace(pk=user.pk, password=user.password)

    def request(self, **kwargs):
        kwargs.setdefault("HTTP_AUTHORIZATION", bearer(self.token_user))
        return super().request(**kwargs)


def forged_cursor(position: str) -> str:
    """A list cursor as DRF encodes one (base64 of `p=<position>`), pointing where we like."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def frozen(at: datetime) -> time_machine.travel:
    """The clock stopped at `at` (as a context manager or decorator)."""
    return time_machine.travel(at, tick=False)


def at(minutes: float) -> time_machine.travel:
    """The clock stopped `minutes` after T0."""
    return frozen(T0 + timedelta(minutes=minutes))


def all_at_once(work: Callable[[int], T], n: int) -> list[T]:
    """Run `work(0)` ... `work(n - 1)` in n threads released together by one barrier, each on
    its own database connection; results in order. An error in any thread is raised here."""
    barrier = threading.Barrier(n, timeout=30)

    def run(index: int) -> T:
        barrier.wait()
        try:
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def send_all_at_once(calls: list[tuple[str, str, dict[str, Any]]]) -> list[requests.Response]:
    """Send (method, url, requests keyword arguments) calls together over real HTTP."""
    return all_at_once(
        lambda i: requests.request(calls[i][0], calls[i][1], timeout=30, **calls[i][2]), len(calls)
    )


def streamed_json(response) -> Any:
    """The JSON document of a streamed response (the data export)."""
    return json.loads(b"".join(response.streaming_content))


def changelist_rows(response) -> list[list[str]]:
    """The rows of an admin changelist as an admin reads them: each cell's text (the
    selection checkbox an empty cell)."""
    return [
        [html.unescape(strip_tags(str(cell))).strip() for cell in row] for row in response.context["results"]
    ]


# --- A device's copy, kept by the sync feed ------------------------------------------------------

# Fields that say "now" rather than what is stored: left out when copies are compared.
_CLOCK_FIELDS = {"server_now"}
_RUNNING_FIELDS = {"duration_seconds", "paused_seconds"}


def comparable(kind: str, data: dict) -> dict:
    """An object's data without what only reflects the clock it was read at."""
    drop = _CLOCK_FIELDS | (_RUNNING_FIELDS if kind == "session" and data.get("is_active") else set())
    return {key: value for key, value in data.items() if key not in drop}


class DeviceCopy:
    """What a phone or the web app keeps: every object it has synced, by (type, id)."""

    def __init__(self, fetch: Callable[[dict], Any], *, limit: int = 200) -> None:
        self.fetch = fetch  # fetch(params) -> the JSON body of GET /api/sync/
        self.limit = limit
        self.objects: dict[tuple[str, int], dict] = {}
        self.cursor: str | None = None

    def sync(self) -> int:
        """Apply pages in order until `has_more` is false; returns how many pages it took."""
        pages = 0
        while True:
            params = {"limit": self.limit, **({"cursor": self.cursor} if self.cursor else {})}
            body = self.fetch(params)
            pages += 1
            for change in body["changes"]:
                key = (change["type"], change["id"])
                if change["deleted"]:
                    self.objects.pop(key, None)
                else:
                    self.objects[key] = change["data"]
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return pages

    def snapshot(self) -> dict[tuple[str, int], dict]:
        return {key: comparable(key[0], data) for key, data in self.objects.items()}


# --- Every answer is one the schema declares -----------------------------------------------------


def _as_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a "null" type, references point
    at `$defs`, and what only annotates is dropped."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    skipped = {"nullable", "discriminator", "readOnly", "writeOnly", "example"}
    schema = {key: _as_json_schema(value) for key, value in node.items() if key not in skipped}
    if "$ref" in schema:
        schema["$ref"] = schema["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        if "type" not in schema:
            return {"anyOf": [schema, {"type": "null"}]}
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    return schema


class SchemaConformance:
    """Checks that an answer of an API operation is one the served OpenAPI schema declares for
    it: its status, and its body (none, or JSON valid against the declared schema). Requests
    that name no operation (an unknown path, an undocumented method) are not checked, nor are
    streamed bodies, which the test reads itself."""

    def __init__(self, schema: dict) -> None:
        self.definitions = {name: _as_json_schema(s) for name, s in schema["components"]["schemas"].items()}
        self.operations = []
        for path, item in schema["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$")
            for method, operation in item.items():
                if method != "parameters":
                    self.operations.append(("{" in path, pattern, method.upper(), path, operation))
        self.operations.sort(key=lambda entry: entry[0])  # fixed paths before templated ones
        self._validators: dict[tuple[str, str, str], jsonschema.Draft202012Validator] = {}

    @classmethod
    def of_served_schema(cls) -> "SchemaConformance":
        from drf_spectacular.generators import SchemaGenerator
        from drf_spectacular.renderers import OpenApiJsonRenderer

        schema = SchemaGenerator(urlconf="focusflow.urls").get_schema(request=None, public=True)
        return cls(json.loads(OpenApiJsonRenderer().render(schema)))

    def check(self, method: str, path: str, response) -> None:
        # The path first (a fixed one before a template: /sessions/active/ is not /sessions/{id}/),
        # then the method among that path's operations.
        paths = (entry[3] for entry in self.operations if entry[1].match(path))
        template = next(paths, None)
        found = (entry for entry in self.operations if entry[3] == template and entry[2] == method)
        match = next(found, None)
        if match is None or response.streaming:
            return
        *_, template, operation = match
        status = str(response.status_code)
        declared = operation["responses"].get(status)
        where = f"{method} {path} answered {status}"
        assert declared is not None, f"{where}, which {template} does not declare: {response.content[:500]!r}"
        content = declared.get("content")
        if content is None:
            assert not response.content, f"{where} with a body, which it declares without one"
            return
        key = (method, template, status)
        if key not in self._validators:
            schema = {**_as_json_schema(content["application/json"]["schema"]), "$defs": self.definitions}
            self._validators[key] = jsonschema.Draft202012Validator(schema)
        body = json.loads(response.content)
        problem = next(self._validators[key].iter_errors(body), None)
        assert problem is None, f"{where} with a body its schema does not allow ({problem.message}): {body}"


# --- Jobs and mail --------------------------------------------------------------------------


def queued_jobs(task_name: str | None = None) -> list[dict]:
    """The jobs waiting in the queue (procrastinate's table), oldest first."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    jobs = ProcrastinateJob.objects.filter(status="todo").order_by("id")
    if task_name is not None:
        jobs = jobs.filter(task_name=task_name)
    return list(jobs.values("id", "task_name", "args"))


def run_queued_jobs() -> int:
    """Run the queued jobs here, in the test's transaction, as the worker would run them
    (the same task functions with the stored arguments), until none is left; how many ran.
    Tests of the worker itself run the real one (users/tests/test_recovery_live.py)."""
    from procrastinate.contrib.django import app

    ran = 0
    while jobs := queued_jobs():
        for job in jobs:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job["id"]])
            app.tasks[job["task_name"]].func(**job["args"])
            ran += 1
    return ran


_MAILED_TOKEN = re.compile(r"\?token=([A-Za-z0-9_-]+)")
_MAILED_CODE = re.compile(r"^[ \t]+([0-9A-Z]{4}-[0-9A-Z]{4})\r?$", re.MULTILINE)


def mailed_token(text: str) -> str:
    """The token of the link in an email's plain-text part."""
    return _MAILED_TOKEN.search(text).group(1)


def mailed_code(text: str) -> str:
    """The code (`XXXX-XXXX`) in an email's plain-text part."""
    return _MAILED_CODE.search(text).group(1)


class EventStream:
    """A client of `GET /api/events/`, as a native app holds one: a thread reads the stream and
    queues its events as they arrive, each `{"event", "id", "data", "at"}` (`data` parsed; `at`:
    time.monotonic() on arrival), comment lines as `{"comment", "at"}`."""

    def __init__(self, url: str, *, headers: dict | None = None, params: dict | None = None) -> None:
        self.response = requests.get(url, headers=headers, params=params, stream=True, timeout=(5, 120))
        self.status_code = self.response.status_code
        self._queue: queue.Queue = queue.Queue()
        self.ended = threading.Event()
        if self.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict = {}
        try:
            for raw in self.response.iter_lines(chunk_size=None):
                line = raw.decode()
                if line.startswith(":"):
                    self._queue.put({"comment": line[1:].strip(), "at": time.monotonic()})
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                elif fields:
                    self._queue.put(
                        {
                            "event": fields.get("event", "message"),
                            "id": fields.get("id"),
                            "data": json.loads(fields.get("data", "null")),
                            "at": time.monotonic(),
                        }
                    )
                    fields = {}
        except (requests.RequestException, OSError, AttributeError):
            pass  # closed by close(), or by the server
        finally:
            self.ended.set()

    def next(self, *, timeout: float = 5, comments: bool = False) -> dict:
        """The next event (and, with `comments`, comment line); fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no event within {timeout} s") from None
            if comments or "event" in item:
                return item

    def until(self, name: str, *, timeout: float = 5) -> list[dict]:
        """The events up to and including the next `name` event."""
        seen = []
        while not seen or seen[-1]["event"] != name:
            seen.append(self.next(timeout=timeout))
        return seen

    def nothing_for(self, seconds: float) -> None:
        try:
            item = self.next(timeout=seconds)
        except AssertionError:
            return
        raise AssertionError(f"unexpected event: {item}")

    def close(self) -> None:
        self.response.close()
