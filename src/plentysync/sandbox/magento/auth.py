"""Who is calling: OAuth 1.0a signed integration requests (HMAC-SHA256, HMAC-SHA1), bearer tokens
(admin tokens; the integration token only with ``integration_as_bearer``), or a guest.

OAuth problems are errors of their own (401 with Magento's message and the RFC 5849 problem code in
``parameters.oauth_problem``); a bad or expired bearer token makes the caller a guest, who then gets
"The consumer isn't authorized" on protected routes, as Magento does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from oauthlib.oauth1.rfc5849 import signature, utils

from plentysync.sandbox.magento.config import MagentoSandboxConfig
from plentysync.sandbox.magento.errors import MagentoError
from plentysync.sandbox.magento.state import MagentoState, fmt_time

Principal = Literal["integration", "admin", "guest"]

_SIGNERS = {"HMAC-SHA256": signature.sign_hmac_sha256_with_client, "HMAC-SHA1": signature.sign_hmac_sha1_with_client}


@dataclass(frozen=True)
class _Secrets:
    """What oauthlib's ``sign_*_with_client`` helpers read from a client."""

    client_secret: str
    resource_owner_secret: str


_REQUIRED = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp")


def _oauth_error(status: int, message: str, problem: str, extra: dict[str, Any] | None = None) -> MagentoError:
    return MagentoError(status, message, {**(extra or {}), "oauth_problem": problem})


def verify_oauth(
    state: MagentoState,
    config: MagentoSandboxConfig,
    *,
    method: str,
    url: str,
    query: str,
    authorization: str,
    form_body: str | None,
) -> None:
    """Check an ``Authorization: OAuth ...`` request; raises :class:`MagentoError` when it fails.
    ``url`` is scheme, host and raw (still percent-encoded) path, exactly as the client addressed it."""
    try:
        header_params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)}
    except (ValueError, IndexError):
        raise _oauth_error(400, "The Authorization header is malformed.", "parameter_absent") from None
    for name in (*_REQUIRED, "oauth_token"):
        if not header_params.get(name):
            raise _oauth_error(400, '"%fieldName" is required. Enter and try again.', "parameter_absent") from None
    if header_params.get("oauth_version", "1.0") != "1.0":
        raise _oauth_error(400, 'The "%1" Oauth version isn\'t supported.', "version_rejected")
    if header_params["oauth_consumer_key"] != config.consumer_key:
        raise _oauth_error(401, "A consumer having the specified key does not exist", "consumer_key_rejected")
    if header_params["oauth_token"] != config.access_token:
        raise _oauth_error(401, "The access token is invalid. Verify and try again.", "token_rejected")
    sign = _SIGNERS.get(header_params["oauth_signature_method"])
    if sign is None:
        raise _oauth_error(
            400,
            "Signature method %method is not supported",
            "signature_method_rejected",
            {"method": header_params["oauth_signature_method"]},
        )
    nonce_key = (
        f"{header_params['oauth_consumer_key']}:{header_params['oauth_timestamp']}:{header_params['oauth_nonce']}"
    )
    params = signature.collect_parameters(
        uri_query=query, body=form_body, headers={"Authorization": authorization}, exclude_oauth_signature=True
    )
    base = signature.signature_base_string(
        method.upper(), signature.base_string_uri(url), signature.normalize_parameters(params)
    )
    expected = sign(base, _Secrets(config.consumer_secret, config.access_token_secret))
    if not signature.safe_string_equals(expected, header_params["oauth_signature"]):
        raise _oauth_error(401, "The signature is invalid. Verify and try again.", "signature_invalid")
    if nonce_key in state.used_nonces:
        raise _oauth_error(
            401,
            "The nonce is already being used by the consumer with ID %consumer_id.",
            "nonce_used",
            {"consumer_id": 1},
        )
    state.used_nonces.add(nonce_key)


def bearer_principal(state: MagentoState, config: MagentoSandboxConfig, token: str, now: datetime) -> Principal:
    if token == config.access_token:
        return "integration" if config.integration_as_bearer else "guest"
    expiry = state.admin_tokens.get(token)
    if expiry is not None and expiry > fmt_time(now):
        return "admin"
    return "guest"


def issue_admin_token(state: MagentoState, config: MagentoSandboxConfig, body: Any, now: datetime) -> str:
    """``POST /V1/integration/admin/token``: checks credentials, then the 2FA gate, then issues a token."""
    body = body if isinstance(body, dict) else {}
    for name in ("username", "password"):
        if not body.get(name):
            raise MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": name})
    if body["username"] != config.admin_username or body["password"] != config.admin_password:
        raise MagentoError(
            401,
            "The account sign-in was incorrect or your account is disabled temporarily. "
            "Please wait and try again later.",
        )
    if config.two_factor_auth:
        raise MagentoError(
            401,
            "Please use the 2fa provider-specific endpoints to obtain a token.",
            {"active_providers": ["google"]},
        )
    token = secrets.token_hex(16)
    state.admin_tokens[token] = fmt_time(now + timedelta(seconds=config.admin_token_lifetime_seconds))
    return token
