"""gunicorn.conf.py, the production server configuration, under a real gunicorn (every live
test's server reads it: gunicorn loads it from the project folder)."""

import http.client
import io
import json
import signal
import socket
import threading
import time

import psycopg2
import pytest
import requests
from django.conf import settings

from deploy.check.procs import child_pids
from focusflow.testing import bearer
from focusflow.tests.db_outage import wait_for_a_backend_waiting_on_a_lock
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """A GET with any request target, byte for byte (HTTP libraries refuse some)."""
    host = url.removeprefix("http://").split(":")[0]
    data = exchange(url, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def exchange(url: str, request: bytes, *, then_stop_sending: bool = False) -> bytes:
    """Any bytes as a request (HTTP libraries refuse malformed ones): everything the server
    sends back until it closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        if then_stop_sending:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


class _Received(io.BytesIO):
    """What the server sent, as the socket http.client reads one response from; left open
    after it, to see what followed."""

    def makefile(self, mode: str) -> io.BytesIO:
        return self

    def close(self) -> None:
        pass


def first_answer(data: bytes) -> tuple[http.client.HTTPResponse, bytes, bytes]:
    """The first response in what the server sent: itself, its body, and what followed it."""
    received = _Received(data)
    response = http.client.HTTPResponse(received)
    response.begin()
    return response, response.read(), received.read()


def expect_json_error(data: bytes, status: int, code: str) -> None:
    response, body, after = first_answer(data)
    assert (response.status, response.getheader("Content-Type"), json.loads(body)["code"]) == (
        status,
        "application/json",
        code,
    ), data[:300]
    assert after == b""


HOST = b"Host: 127.0.0.1\r\n"
CHUNKED_LOGIN = b"POST /api/auth/login/ HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
CHUNKED_LOGIN += b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"2;\x01\r\n{}\r\n0\r\n\r\n"],
    ids=["chunk size not hex", "chunk without its CRLF", "control character in an extension"],
)
def test_a_malformed_chunked_body_is_a_json_400_not_a_500(gunicorn, body):
    expect_json_error(exchange(gunicorn.url, CHUNKED_LOGIN + body), 400, "parse_error")


def test_a_chunked_body_cut_short_is_a_json_400_not_a_500(gunicorn):
    data = exchange(gunicorn.url, CHUNKED_LOGIN + b"10\r\n{}", then_stop_sending=True)
    expect_json_error(data, 400, "parse_error")


def _headers(count: int) -> bytes:
    return b"".join(b"X-Header-%d: value\r\n" % i for i in range(count))


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        (_headers(101), 431, "request_header_too_large"),
        (b"X-Padding: " + b"p" * 9000 + b"\r\n", 431, "request_header_too_large"),
        (b"X-Control: a\x01b\r\n", 400, "bad_request"),
        (b"Bad Name: value\r\n", 400, "bad_request"),
        (b"X-Folded: a\r\n b\r\n", 400, "bad_request"),
        (b"Transfer-Encoding: identity\r\n", 400, "bad_request"),
        (b"Expect: 200-ok\r\n", 417, "expectation_failed"),
    ],
    ids=[
        "101 headers",
        "a 9,000-byte header",
        "a control character in a header",
        "a space in a header name",
        "a folded header",
        "Transfer-Encoding: identity",
        "an unknown expectation",
    ],
)
def test_headers_gunicorn_refuses_are_refused_in_json(gunicorn, headers, status, code):
    request = b"GET /api/health/ HTTP/1.1\r\n" + HOST + headers + b"Connection: close\r\n\r\n"
    expect_json_error(exchange(gunicorn.url, request), status, code)


def test_a_request_line_gunicorn_refuses_is_refused_in_json(gunicorn):
    expect_json_error(
        exchange(gunicorn.url, b"GET /api/health/ HTTP/9.1\r\n" + HOST + b"\r\n"), 400, "bad_request"
    )
    expect_json_error(
        exchange(gunicorn.url, b"GET /api/?q=" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n"), 414, "uri_too_long"
    )


def test_a_malformed_chunked_body_the_app_did_not_read_adds_nothing_after_its_answer(gunicorn):
    # A static file is served before the body is read; gunicorn then drains the body, fails,
    # and closes the connection. Anything it wrote after the answer would be read as the
    # answer to the client's next request on this kept-alive connection.
    request = b"GET /static/admin/css/login.css HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    response, body, after = first_answer(exchange(gunicorn.url, request + b"zz\r\n{}\r\n0\r\n\r\n"))
    assert (response.status, response.getheader("Content-Type").split(";")[0]) == (200, "text/css")
    assert after == b""


def test_a_long_search_the_app_sees_is_a_json_400(gunicorn):
    user = UserFactory()
    response = requests.get(
        f"{gunicorn.url}/api/journals/",
        params={"search": "focus " * 1200},  # 7,200 characters: within the request-line limit
        headers={"Authorization": bearer(user)},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert "search" in response.json()


def test_a_long_unknown_path_the_app_sees_is_a_json_404(gunicorn):
    status, body = raw_get(gunicorn.url, "/api/" + "a" * 8000)
    assert status == 404
    assert b'"code":"not_found"' in body.replace(b" ", b"")


def test_a_request_line_over_gunicorns_limit_is_a_414_not_a_crash(gunicorn):
    # Behind nginx this never reaches gunicorn: nginx's own limit is lower and answers JSON.
    status, _ = raw_get(gunicorn.url, "/api/?q=" + "a" * 9000)
    assert status == 414
    assert requests.get(f"{gunicorn.url}/api/health/", timeout=10).status_code == 200


def test_workers_are_replaced_after_max_requests_without_failing_a_request(start_live_server):
    server = start_live_server(workers=2, GUNICORN_MAX_REQUESTS="10")
    first = child_pids(server.process.pid)
    with requests.Session() as session:  # kept-alive connections, as from nginx
        statuses = [session.get(f"{server.url}/api/health/", timeout=10).status_code for _ in range(60)]
    assert statuses == [200] * 60
    assert first - child_pids(server.process.pid), "a worker that served its 10-11 requests was replaced"
    server.stop()


def test_a_stopping_server_refuses_new_connections_at_once_and_finishes_its_requests(start_live_server):
    server = start_live_server(workers=1)
    user = UserFactory()
    db = settings.DATABASES["default"]
    holder = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    answers: list[requests.Response] = []
    request = threading.Thread(
        target=lambda: answers.append(
            requests.post(
                f"{server.url}/api/journals/create/",
                json={"content": "written while the server stops"},
                headers={"Authorization": bearer(user)},
                timeout=30,
            )
        )
    )
    try:
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLE journals_journal IN ACCESS EXCLUSIVE MODE")
            request.start()
            wait_for_a_backend_waiting_on_a_lock(cursor)
            server.process.send_signal(signal.SIGTERM)
            # Refused, not left waiting in the backlog until the socket closes (a reset then).
            refused = False
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                except ConnectionRefusedError:
                    refused = True
                    break
                time.sleep(0.05)
            assert refused, "the stopping server still accepted connections"
    finally:
        holder.rollback()
        holder.close()
    request.join(timeout=30)
    assert [a.status_code for a in answers] == [201]  # the request in flight was finished
    assert server.process.wait(timeout=30) == 0
