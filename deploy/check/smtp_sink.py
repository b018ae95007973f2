"""A real SMTP server that keeps what it receives: the mail server of the worker's tests and of
`make deploy-test` (aiosmtpd, on a loopback port).

It can be taken down and brought back on the same port (an SMTP outage), and can hold the next
message mid-transfer, never answering its end of DATA (a send the worker is killed in): a
message whose sender goes away before the server's answer is not kept, as a real server
would not deliver it.
"""

import asyncio
import email
import email.policy
import logging
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from deploy.check.procs import free_port

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.arrivals: list[float] = []  # time.monotonic() of each message's acceptance, in order
        self.holding = threading.Event()  # set while a message is being held
        self.refuse: dict[str, str] = {}  # recipient: the answer to its RCPT, e.g. "550 No such user"
        self._hold_next = False
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The worker's EMAIL_URL for this server."""
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def start(self) -> "SmtpSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def up(self) -> bool:
        return self._controller is not None

    def hold_next(self) -> None:
        self._hold_next = True
        self.holding.clear()

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self._hold_next:
            self._hold_next = False
            self.holding.set()
            await asyncio.sleep(3600)  # cancelled when the sender's connection goes
        self.arrivals.append(time.monotonic())
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted"

    def arrived_at(self, message: EmailMessage) -> float:
        """When the server accepted `message` (time.monotonic(), this process's clock)."""
        return self.arrivals[next(i for i, kept in enumerate(self.messages) if kept is message)]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 30) -> list[EmailMessage]:
        """The messages to `address` once there are `count` of them; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.to(address)) >= count:
                return found
            time.sleep(0.05)
        arrived = len(self.to(address))
        raise AssertionError(f"{count} message(s) to {address} did not arrive within {timeout} s: {arrived}")


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
