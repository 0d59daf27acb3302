"""A real SMTP server in the test process (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self, refuse: set[str]) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = refuse
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class MailServer:
    """Start, stop and start again on one port, as a real outage would look to the sender."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.refuse: set[str] = set()
        self._inbox = _Inbox(self.refuse)
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self._inbox, hostname=self.host, port=self.port, ready_timeout=5)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self._inbox.lock:
            return list(self._inbox.messages)

    def clear(self) -> None:
        with self._inbox.lock:
            self._inbox.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def wait_until(self, predicate, count: int, timeout: float) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
        """The messages matching predicate, polling until there are count of them or timeout seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if predicate(m)]
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""
