"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) and subscriptions that point at it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from intake.models import Prescriber, WebhookSubscription
from intake.services.webhooks import webhook_subscribe

SECRET = "s3cret-of-the-practice-0123456789"
# A public address written as an IP (nothing to resolve here, where DNS answers nothing).
PUBLIC_URL = "https://93.184.215.14/pharmacy-events"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers each with the next status of `answers` (then 200)."""

    host: str
    port: int
    answers: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append(Received(path=self.path, headers=dict(self.headers.items()), body=body))
            status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.url("/elsewhere"))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(host="127.0.0.1", port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def subscribe(allow_private) -> Callable[..., WebhookSubscription]:  # type: ignore[no-untyped-def]
    """subscribe(prescriber, url): a subscription made by the real service (private addresses allowed)."""

    def _subscribe(prescriber: Prescriber, url: str, *, secret: str = SECRET) -> WebhookSubscription:
        subscription = webhook_subscribe(actor=prescriber.user, url=url, secret=secret)
        # The test's own prescriber object, as a later request would read it.
        prescriber.refresh_from_db(fields=["has_webhooks"])
        return subscription

    return _subscribe
