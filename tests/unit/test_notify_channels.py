"""The two channels against real local servers: an aiosmtpd SMTP server and an HTTP receiver.

The helpers (``smtp_sink``, ``webhook_sink``) are shared with tests/integration/test_notifications.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plentysync.runtime.mailer import DeliveryError, Mailer
from plentysync.runtime.outbound_webhook import WebhookPoster
from plentysync.sandbox.server import serving
from plentysync.settings import SmtpSettings

pytestmark = pytest.mark.anyio

SMTP_USER = "mailer"
SMTP_PASSWORD = "pw-Sup3rS3cret-smtp"
WEBHOOK_TOKEN = "T000-B000-XyZsecretToken"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)

    def settings(self, **overrides: Any) -> SmtpSettings:
        return SmtpSettings(host=self.host, port=self.port, sender="plentysync@shop.example", **overrides)

    @property
    def subjects(self) -> list[str]:
        return [m.subject for m in self.messages]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 OK"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == SMTP_USER.encode() and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@contextmanager
def smtp_sink(*, auth: bool = False) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback that keeps every message it accepts."""
    sink = SmtpSink("127.0.0.1", free_port())
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs = {"authenticator": _authenticate, "auth_required": True, "auth_require_tls": False}
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class WebhookSink:
    base: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> SecretStr:
        return SecretStr(f"{self.base}/hooks/{WEBHOOK_TOKEN}")

    @property
    def texts(self) -> list[str]:
        return [str(p["text"]) for p in self.posts]


@contextmanager
def webhook_sink() -> Iterator[WebhookSink]:
    """A Slack-like incoming-webhook receiver on loopback."""
    holder: list[WebhookSink] = []

    async def receive(request: Request) -> JSONResponse:
        sink = holder[0]
        if request.path_params["token"] != WEBHOOK_TOKEN:
            return JSONResponse({"error": "invalid_token"}, status_code=403)
        if sink.status >= 300:
            return JSONResponse({"error": "down"}, status_code=sink.status)
        sink.posts.append(await request.json())
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/hooks/{token}", receive, methods=["POST"])])
    with serving(app) as server:
        holder.append(WebhookSink(server.url))
        yield holder[0]


# -- the mailer ---------------------------------------------------------------------------------


async def test_mailer_delivers_a_plain_text_message() -> None:
    with smtp_sink() as sink:
        refused = await Mailer(sink.settings()).send("Hello", "Line one\nLine two", ["ops@shop.example", "b@x.de"])
    assert refused == []
    [got] = sink.messages
    assert got.mail_from == "plentysync@shop.example"
    assert got.rcpt_tos == ["ops@shop.example", "b@x.de"]
    assert got.subject == "Hello"
    assert got.message["To"] == "ops@shop.example, b@x.de"
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert got.body == "Line one\nLine two\n"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_mailer_logs_in_when_a_username_is_set() -> None:
    with smtp_sink(auth=True) as sink:
        await Mailer(sink.settings(username=SMTP_USER, password=SecretStr(SMTP_PASSWORD))).send("s", "b", ["a@x.de"])
        assert len(sink.messages) == 1
        with pytest.raises(DeliveryError) as refused:
            await Mailer(sink.settings()).send("s", "b", ["a@x.de"])  # no login: the server wants one
        assert "530" in str(refused.value)
        with pytest.raises(DeliveryError) as wrong:
            await Mailer(sink.settings(username=SMTP_USER, password=SecretStr(SMTP_PASSWORD + "x"))).send(
                "s", "b", ["a@x.de"]
            )
    message = str(wrong.value)
    assert "refused the login of 'mailer'" in message
    assert "check smtp.username and smtp.password" in message
    assert SMTP_PASSWORD not in message
    assert wrong.value.__cause__ is None  # no chained exception whose frames hold the password
    assert len(sink.messages) == 1


async def test_mailer_reports_an_unreachable_server() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2)
    with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1:\d+ unreachable"):
        await Mailer(settings).send("s", "b", ["a@x.de"])


async def test_mailer_asking_for_starttls_the_server_lacks_fails_clearly() -> None:
    with smtp_sink() as sink, pytest.raises(DeliveryError, match="does not support"):
        await Mailer(sink.settings(starttls=True)).send("s", "b", ["a@x.de"])
    assert sink.messages == []


# -- the webhook --------------------------------------------------------------------------------


async def test_webhook_posts_slack_compatible_json() -> None:
    with webhook_sink() as sink:
        await WebhookPoster(sink.url).post("*bold* text")
    assert sink.posts == [{"text": "*bold* text"}]


async def test_webhook_failures_name_the_host_but_never_the_url() -> None:
    with webhook_sink() as sink:
        sink.status = 500
        with pytest.raises(DeliveryError) as failed:
            await WebhookPoster(sink.url).post("x")
        bad_token = SecretStr(f"{sink.base}/hooks/wrong-{WEBHOOK_TOKEN}")
        with pytest.raises(DeliveryError) as forbidden:
            await WebhookPoster(bad_token).post("x")
    assert str(failed.value) == "webhook at 127.0.0.1 answered HTTP 500"
    assert str(forbidden.value) == "webhook at 127.0.0.1 answered HTTP 403"
    down = SecretStr(f"http://127.0.0.1:{free_port()}/hooks/{WEBHOOK_TOKEN}")
    with pytest.raises(DeliveryError) as unreachable:
        await WebhookPoster(down, timeout=2).post("x")
    assert "webhook at 127.0.0.1 unreachable" in str(unreachable.value)
    for error in (failed.value, forbidden.value, unreachable.value):
        assert WEBHOOK_TOKEN not in str(error)
        assert error.__cause__ is None
