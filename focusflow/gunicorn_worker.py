"""gunicorn's gthread worker, refusing what it cannot parse in the API's JSON instead of HTML.

gunicorn answers a request it cannot read (a control character in a header, more than
`limit_request_fields` headers, a malformed request line, ...) itself, before the app sees it,
with an HTML page (`gunicorn.util.write_error`). Behind nginx those answers reach clients as
they are: nginx passes such headers on, and the app servers' own answers pass unchanged. The
contract wants every answer in the API's shape, `{"detail", "code"}`, and a 4xx for anything
the client sent wrong. gunicorn.conf.py runs this worker.

It imports nothing of Django: gunicorn's arbiter loads the worker class before the app.
"""

import json
from http import HTTPStatus

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

BAD_REQUEST = (400, "bad_request", "The request could not be understood.")

# What the parser refuses, by its exception: status, code and detail, as nginx answers the same
# requests (deploy/nginx/focusflow.conf). Any other parse error is a 400 `bad_request`.
REFUSALS: tuple[tuple[type[Exception], tuple[int, str, str]], ...] = (
    (errors.LimitRequestLine, (414, "uri_too_long", "The URL is too long.")),
    (errors.LimitRequestHeaders, (431, "request_header_too_large", "The request headers are too large.")),
    # gunicorn says 501: the contract answers what the client got wrong with a 4xx.
    (
        errors.UnsupportedTransferCoding,
        (400, "unsupported_transfer_encoding", "Send the body with a Content-Length or chunked."),
    ),
    (errors.ExpectationFailed, (417, "expectation_failed", "Only `Expect: 100-continue` is supported.")),
)

# Parse errors that are the app's fault or the server's, not the client's: a 500, as in gunicorn.
SERVER_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem)


class JsonErrorWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        """gunicorn's `handle_error`, with the answer in JSON."""
        ip = addr[0] if addr else ""
        if req is not None and req.body is not None and req.body.failed:
            # Reading the body failed after the app had answered: gunicorn drains what the app
            # left unread (a malformed chunked body on a path that reads none). A page written
            # now would be read as the answer to the client's next request; the connection
            # just closes.
            self.log.warning("Invalid request body from ip=%s after the answer: %s", ip, exc)
            return
        if isinstance(exc, errors.ParseException) and not isinstance(exc, SERVER_FAULTS):
            self.log.warning("Invalid request from ip=%s: %s", ip, exc)
            status, code, detail = next(
                (answer for kind, answer in REFUSALS if isinstance(exc, kind)), BAD_REQUEST
            )
        else:
            self.log.exception("Error handling request")
            status, code, detail = 500, "server_error", "Something went wrong on our side."
        body = json.dumps({"detail": detail, "code": code}).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode() + body)
        except Exception:
            self.log.debug("Failed to send error message.")
