"""A browser's live updates, in a real headless Chromium: a page of the web app (served by the
test, on another origin) buys a ticket with its access token, opens EventSource on an events
process (uvicorn), and sees a session started over the API; when its stream drops, it buys a
new ticket and resumes from its last event id, as the contract tells browsers to."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import LiveServer
from focusflow.testing import bearer
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = """<!doctype html>
<html><body><script>
window.received = [];
window.lastId = null;
async function ticket() {
  const headers = {Authorization: TOKEN};
  const answer = await fetch(EVENTS + "/api/events/ticket/", {method: "POST", headers});
  return (await answer.json()).ticket;
}
async function connect() {
  let url = EVENTS + "/api/events/?ticket=" + encodeURIComponent(await ticket());
  if (window.lastId) url += "&cursor=" + encodeURIComponent(window.lastId);
  const source = new EventSource(url);
  window.source = source;
  for (const name of ["ready", "change", "end"]) {
    source.addEventListener(name, (event) => {
      window.lastId = event.lastEventId || window.lastId;
      window.received.push({event: name, id: event.lastEventId, data: JSON.parse(event.data)});
    });
  }
}
connect();
</script></body></html>"""


class PageServer(ThreadingHTTPServer):
    """The web app's origin: one page (`html`)."""

    def __init__(self) -> None:
        self.html = ""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = server.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_a_page_sees_a_session_started_over_the_api_and_resumes_with_a_new_ticket(live_server_env, browser):
    alice = UserFactory(email="alice@example.com")
    token = bearer(alice)
    page_server = PageServer()
    events = LiveServer({**live_server_env, "CORS_ALLOWED_ORIGINS": page_server.url}, events=True)
    try:
        page_server.html = PAGE.replace("EVENTS", f'"{events.url}"').replace("TOKEN", f'"{token}"')
        page = browser.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.on("requestfailed", lambda request: console.append(f"failed {request.url}"))
        page.on("response", lambda response: console.append(f"{response.status} {response.url}"))
        page.goto(page_server.url)
        try:
            page.wait_for_function("window.received.some(e => e.event === 'ready')", timeout=10_000)
        except Exception:
            raise AssertionError(console) from None

        started = requests.post(
            f"{events.url}/api/sessions/start/", headers={"Authorization": token}, json={}
        )
        assert started.status_code == 201
        session = started.json()["id"]
        page.wait_for_function(
            f"window.received.some(e => e.event === 'change' && e.data.id === {session})",
            timeout=5_000,
        )

        # The stream drops; meanwhile the session stops. The page reconnects with a new ticket.
        page.evaluate("window.source.close()")
        stopped = requests.post(f"{events.url}/api/sessions/stop/", headers={"Authorization": token}, json={})
        assert stopped.status_code == 200
        page.evaluate("connect()")
        page.wait_for_function(
            "window.received.filter(e => e.event === 'ready').length === 2", timeout=10_000
        )
        received = page.evaluate("window.received")
        assert [(e["event"], e["data"].get("type")) for e in received] == [
            ("ready", None),
            ("change", "session"),
            ("change", "session"),
            ("ready", None),
        ]
        assert received[1]["data"]["data"]["is_active"] is True
        assert received[2]["data"]["data"]["is_active"] is False
        assert received[3]["id"] == received[2]["id"]
        page.close()
    finally:
        events.stop()
        page_server.shutdown()
