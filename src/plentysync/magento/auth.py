"""Credentials and the three ways to authenticate against Magento.

* :class:`OAuthAuth`: an Integration's four credentials, every request signed with OAuth 1.0a (RFC 5849,
  HMAC-SHA256 by default). This is the mode for an unattended service: the token never expires.
* :class:`BearerAuth`: a static bearer token (an integration token where the merchant enabled
  ``oauth/consumer/enable_integration_as_bearer``, disabled by default since 2.4.4).
* :class:`AdminTokenAuth`: an admin username and password exchanged for a 4-hour token. Refused while
  two-factor authentication is on, which is the 2.4 default.

A 401 is only worth a new login in the admin-token mode; in the other two nothing changes by itself, so the
client treats it as fatal and names the likely cause (see :func:`unauthorized_hint`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2
from oauthlib import oauth1

from plentysync.errors import FatalError, RetryableError
from plentysync.http import HttpClient, decode_body
from plentysync.http.client import default_error_message

SignatureMethod = Literal["HMAC-SHA256", "HMAC-SHA1"]


@dataclass(frozen=True)
class OAuthCredentials:
    """The four values Admin > System > Integrations shows after "Save & Activate"."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    signature_method: SignatureMethod = "HMAC-SHA256"


@dataclass(frozen=True)
class BearerCredentials:
    token: str = field(repr=False)


@dataclass(frozen=True)
class AdminCredentials:
    username: str
    password: str = field(repr=False)


MagentoCredentials = OAuthCredentials | BearerCredentials | AdminCredentials


class OAuthAuth:
    """Signs each request. The request is built by httpx2 first (it percent-encodes the searchCriteria
    brackets), then the final URL, the method and, for form bodies only, the body are signed; JSON bodies are
    not part of an RFC 5849 signature."""

    def __init__(self, credentials: OAuthCredentials) -> None:
        method = (
            oauth1.SIGNATURE_HMAC_SHA256
            if credentials.signature_method == "HMAC-SHA256"
            else oauth1.SIGNATURE_HMAC_SHA1
        )
        self._client = oauth1.Client(
            credentials.consumer_key,
            client_secret=credentials.consumer_secret,
            resource_owner_key=credentials.access_token,
            resource_owner_secret=credentials.access_token_secret,
            signature_method=method,
        )

    async def prepare(self, request: httpx2.Request) -> None:
        content_type = request.headers.get("Content-Type", "")
        form = content_type.startswith("application/x-www-form-urlencoded")
        body = request.content.decode() if form and request.content else None
        headers = {"Content-Type": content_type} if form else None
        _, signed, _ = self._client.sign(str(request.url), http_method=request.method, body=body, headers=headers)
        request.headers["Authorization"] = signed["Authorization"]

    async def refresh(self, request: httpx2.Request) -> bool:
        return False


class BearerAuth:
    def __init__(self, credentials: BearerCredentials) -> None:
        self._token = credentials.token

    async def prepare(self, request: httpx2.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self._token}"

    async def refresh(self, request: httpx2.Request) -> bool:
        return False


TWO_FACTOR_MARKER = "2fa"


class AdminTokenAuth:
    """Logs in with an admin username and password (single-flight: concurrent callers share one login)
    and logs in again once when a request with the current token answers 401.

    Call :meth:`bind` with the client's :class:`HttpClient` before the first request; ``token_path`` is the
    full path of ``/V1/integration/admin/token``.
    """

    def __init__(self, credentials: AdminCredentials, token_path: str) -> None:
        self._credentials = credentials
        self._token_path = token_path
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self._http: HttpClient | None = None
        self.logins = 0

    def bind(self, http: HttpClient) -> None:
        self._http = http

    async def prepare(self, request: httpx2.Request) -> None:
        token = self._token or await self._login(stale=None)
        request.headers["Authorization"] = f"Bearer {token}"

    async def refresh(self, request: httpx2.Request) -> bool:
        used = request.headers.get("Authorization", "").removeprefix("Bearer ")
        await self._login(stale=used)
        return True

    async def _login(self, *, stale: str | None) -> str:
        async with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            self._token = None
            self._token = await self._fetch_token()
            return self._token

    async def _fetch_token(self) -> str:
        if self._http is None:
            raise RuntimeError("AdminTokenAuth.bind() was not called")
        request = self._http.build_request(
            "POST",
            self._token_path,
            json={"username": self._credentials.username, "password": self._credentials.password},
        )
        try:
            response = await self._http.send_raw(request)
        except httpx2.HTTPError as exc:
            raise RetryableError(f"magento: admin login failed ({type(exc).__name__}: {exc})") from exc
        self.logins += 1
        body = decode_body(response)
        if response.status_code == 200 and isinstance(body, str) and body:
            return body
        message = default_error_message(body, response.status_code)
        if TWO_FACTOR_MARKER in message.lower() or (isinstance(body, dict) and "active_providers" in str(body)):
            raise FatalError(
                "magento: the admin token endpoint refuses because two-factor authentication is on "
                f"({message}). An unattended service cannot answer 2FA prompts: create an Integration "
                "(System > Extensions > Integrations), grant it the needed resources, and configure its consumer "
                "key/secret and access token/secret instead of an admin username and password.",
                status=response.status_code,
                body=body,
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(f"magento: admin login answered {response.status_code}: {message}")
        raise FatalError(
            f"magento: admin login rejected ({response.status_code}: {message}); check the username and password "
            "(six failed attempts lock the account for about 30 minutes)",
            status=response.status_code,
            body=body,
        )


def build_auth(credentials: MagentoCredentials, token_path: str) -> OAuthAuth | BearerAuth | AdminTokenAuth:
    if isinstance(credentials, OAuthCredentials):
        return OAuthAuth(credentials)
    if isinstance(credentials, BearerCredentials):
        return BearerAuth(credentials)
    return AdminTokenAuth(credentials, token_path)


def unauthorized_hint(credentials: MagentoCredentials) -> str:
    """Why a 401 that a new login cannot fix most likely happened, per authentication mode."""
    if isinstance(credentials, OAuthCredentials):
        return (
            "the integration lacks the ACL resource named above, is not activated (Save & Activate), or its keys "
            "or the server clock are wrong"
        )
    if isinstance(credentials, BearerCredentials):
        return (
            "the token lacks the ACL resource named above, was revoked, or is an integration token used as a "
            "bearer token while 'Allow OAuth Access Tokens to be used as standalone Bearer tokens' is off "
            "(the default since 2.4.4): use OAuth 1.0a signing with all four integration credentials"
        )
    return "the admin user lacks the ACL resource named above"


ErrorMessage = Callable[[Any, int], str]
