"""Email over SMTP (stdlib ``smtplib``, in a thread): plain text, STARTTLS or TLS, optional login.

Failures come back as :class:`DeliveryError` with a message that is safe to log and show: the SMTP
password never appears in it (it is scrubbed even should a server echo it)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from plentysync.settings import SmtpSettings


class DeliveryError(Exception):
    """A message could not be handed over; ``str()`` is safe to log (no secrets)."""


class Mailer:
    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def build(self, subject: str, body: str, recipients: Sequence[str]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.smtp.sender.rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid("plentysync", domain=domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to an alert
        message.set_content(body)
        return message

    async def send(self, subject: str, body: str, recipients: Sequence[str]) -> list[str]:
        """Hand the message over; returns the recipients the server refused while taking it for
        the others (sending again would duplicate it for those). All refused: DeliveryError."""
        if not recipients:
            raise DeliveryError("no recipients configured (notifications.recipients)")
        message = self.build(subject, body, recipients)
        try:
            return await asyncio.to_thread(self._send_sync, message, list(recipients))
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(self._describe(exc)) from None

    def _send_sync(self, message: EmailMessage, recipients: list[str]) -> list[str]:
        s = self.smtp
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.ssl:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        with client:
            client.ehlo()
            if s.starttls:
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                password = s.password.get_secret_value() if s.password is not None else ""
                client.login(s.username, password)
            refused = client.send_message(message, from_addr=s.sender, to_addrs=recipients)
        return sorted(refused)

    def _describe(self, exc: BaseException) -> str:
        where = f"SMTP {self.smtp.host}:{self.smtp.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = (
                f"{where} refused the login of {self.smtp.username!r} ({exc.smtp_code}); "
                "check smtp.username and smtp.password"
            )
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            text = f"{where} refused the recipients {', '.join(sorted(exc.recipients))}"
        elif isinstance(exc, smtplib.SMTPResponseException):
            error = exc.smtp_error
            reply = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            text = f"{where} answered {exc.smtp_code} {reply[:200]}"
        elif isinstance(exc, smtplib.SMTPNotSupportedError):
            text = f"{where} does not support what the settings ask for: {exc}"
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            text = f"{where} closed the connection ({exc})"
        elif isinstance(exc, ssl.SSLError):
            why = exc.reason or type(exc).__name__
            text = f"{where}: TLS failed ({why}); check smtp.ssl / smtp.starttls and the port"
        elif isinstance(exc, TimeoutError):
            text = f"{where} did not answer within {self.smtp.timeout_seconds:g} s"
        elif isinstance(exc, OSError):
            text = f"{where} unreachable ({exc.strerror or type(exc).__name__})"
        else:
            text = f"{where}: {type(exc).__name__}: {exc}"
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        secret = self.smtp.password.get_secret_value() if self.smtp.password is not None else ""
        return text.replace(secret, "***") if secret else text
