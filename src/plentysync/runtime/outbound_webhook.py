"""The outgoing webhook: ``POST {"text": ...}`` (Slack's incoming-webhook format, which Mattermost,
Rocket.Chat and Teams workflows accept too).

The URL is a credential (Slack's carries its token in the path): it is never logged, and errors name
only the host. Sent with the standard library in a thread rather than the HTTP client of the API
adapters, whose request logging writes full URLs."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from pydantic import SecretStr

from plentysync.runtime.mailer import DeliveryError

TIMEOUT_SECONDS = 10.0
MAX_TEXT = 35_000
"""Slack cuts messages beyond 40,000 characters; stay below."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect would carry the message somewhere nobody configured


class WebhookPoster:
    def __init__(self, url: SecretStr, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._url = url
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    @property
    def host(self) -> str:
        """Where the webhook goes, for messages: the host only, never the path or query."""
        return urlsplit(self._url.get_secret_value()).hostname or "?"

    async def post(self, text: str) -> None:
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 20] + "\n… (truncated)"
        await asyncio.to_thread(self._post_sync, json.dumps({"text": text}).encode())

    def _post_sync(self, body: bytes) -> None:
        where = f"webhook at {self.host}"
        url = self._url.get_secret_value()
        if not url.startswith(("https://", "http://")):
            raise DeliveryError(f"{where}: not an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "plentysync"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except TimeoutError:
            raise DeliveryError(f"{where} did not answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            # the exception's text can contain the URL: report only why
            reason = getattr(exc, "reason", None)
            why = getattr(reason, "strerror", None) or type(reason or exc).__name__
            raise DeliveryError(f"{where} unreachable ({why})") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"{where} answered HTTP {status}")
