"""API clients built from stored connections, and a quick check that a connection works.

What a connection stores, per system (credentials are encrypted; options are plain JSON):

=========  ==========================  =====================================================================
system     options                     credentials
=========  ==========================  =====================================================================
plenty     —                           ``username``, ``password`` (a back-end user with REST rights)
magento    ``auth`` = ``oauth``        ``consumer_key``, ``consumer_secret``, ``access_token``,
           (the default)               ``access_token_secret`` (an Integration, "Save & Activate")
magento    ``auth`` = ``bearer``       ``token`` (an integration token used as bearer token)
magento    ``auth`` = ``admin``        ``username``, ``password`` (an admin user; refused while 2FA is on)
=========  ==========================  =====================================================================

Magento connections also take the option ``store_code`` (default ``default``): the store view that reads
and store-scoped writes address. Everything about timeouts, retries, page and batch sizes and request
logging comes from the ``[http]`` settings, so all connections behave alike.

Given the state database (and ``http.shared_budget`` on, the default), a PlentyONE client keeps its API
budget there, shared with every other process using the same system and user
(:mod:`plentysync.http.shared_budget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plentysync.crypto import SecretBox
from plentysync.db import Database
from plentysync.engine.connections import Connection
from plentysync.errors import ConfigError, PlentysyncError, SyncError
from plentysync.http import HttpConfig, RequestLog, RetryConfig
from plentysync.http.budget import GateSnapshot, RateBudget
from plentysync.http.shared_budget import account_key, shared_rate_budget
from plentysync.magento import (
    ALL_STORES,
    AdminCredentials,
    BearerCredentials,
    MagentoClient,
    MagentoClientConfig,
    MagentoCredentials,
    OAuthCredentials,
)
from plentysync.magento._base import parse_list
from plentysync.magento.models.stores import StoreView
from plentysync.plenty import PlentyClient, PlentyClientConfig, PlentyCredentials
from plentysync.plenty.sessions import DbSessionStore
from plentysync.plenty.throttle import parse_plenty_headers
from plentysync.settings import Settings
from plentysync.sync.credentials import (
    DEFAULT_STORE_CODE,
    SECRET_CREDENTIALS,
    magento_auth_mode,
)

CHECK_ATTEMPTS = 2
"""A connection check should answer within seconds, not wait out the full retry schedule."""
CHECK_RETRY_TIMEOUT = 30.0


def _credential(connection: Connection, field_name: str) -> str:
    secret = connection.credentials.get(field_name)
    value = "" if secret is None else secret.get_secret_value()
    if not value:
        raise ConfigError(f"connection '{connection.name}' has no credential '{field_name}'")
    return value


def _expect_system(connection: Connection, system: str) -> None:
    if connection.system != system:
        raise ConfigError(f"connection '{connection.name}' is a {connection.system} connection, not {system}")


def http_config(settings: Settings, *, retry: RetryConfig | None = None) -> HttpConfig:
    http = settings.http
    return HttpConfig(
        connect_timeout=http.connect_timeout_seconds,
        read_timeout=http.read_timeout_seconds,
        write_timeout=http.read_timeout_seconds,
        retry=retry or RetryConfig(attempts=http.max_attempts),
    )


def request_log(settings: Settings, profile: str | None) -> RequestLog | None:
    """The profile's request log when ``http.log_requests`` is on (nothing is logged without a profile)."""
    if not settings.http.log_requests or not profile:
        return None
    return RequestLog.for_profile(
        settings.effective_log_dir,
        profile,
        personal_fields=settings.http.personal_data_fields,
        log_bodies=settings.http.log_bodies,
    )


SHARED_LEASE_MARGIN = 10.0
"""Seconds a shared budget slot outlives the longest a single request may take (its timeouts)."""


def shared_budget_lease(http: HttpConfig) -> float:
    """How long a call holds a slot of the shared budget at most: a process killed mid-call frees it then."""
    longest = http.connect_timeout + http.write_timeout + http.read_timeout + http.pool_timeout
    return max(120.0, longest + SHARED_LEASE_MARGIN)


def plenty_client(
    connection: Connection,
    settings: Settings,
    *,
    profile: str | None = None,
    retry: RetryConfig | None = None,
    db: Database | None = None,
) -> PlentyClient:
    """A PlentyONE client for ``connection``; use it as ``async with``. ``retry`` overrides the settings'.

    With ``db`` (and ``http.shared_budget`` on) the API budget is the one in the state database that every
    process using this system and user shares; without, the client keeps its own. With ``db`` the live
    session is recorded there too: a process that dies without logging out leaves it to the next one to
    take over or revoke, instead of holding one of the account's capped sessions for a day."""
    _expect_system(connection, "plenty")
    username = _credential(connection, "username")
    credentials = PlentyCredentials(username, _credential(connection, "password"))
    config = PlentyClientConfig(
        base_url=connection.base_url,
        http=http_config(settings, retry=retry),
        write_concurrency=settings.http.plenty_write_concurrency,
        stock_batch_size=settings.http.plenty_stock_batch_size,
        request_log=request_log(settings, profile),
    )
    budget: RateBudget | None = None
    account = account_key(connection.base_url, username)
    sessions = DbSessionStore(db, SecretBox.from_settings(settings), account) if db is not None else None
    if db is not None and settings.http.shared_budget:
        budget = shared_rate_budget(
            db,
            account,
            parse_plenty_headers,
            write_concurrency=config.write_concurrency,
            read_concurrency=config.read_concurrency,
            max_requests_per_second=config.max_requests_per_second,
            max_wait=config.budget_max_wait,
            reserve=config.budget_reserve,
            lease_seconds=shared_budget_lease(config.http),
        )
    return PlentyClient(credentials, config, budget=budget, sessions=sessions)


def magento_credentials(connection: Connection) -> MagentoCredentials:
    mode = magento_auth_mode(connection.options)
    if mode == "bearer":
        return BearerCredentials(_credential(connection, "token"))
    if mode == "admin":
        return AdminCredentials(_credential(connection, "username"), _credential(connection, "password"))
    return OAuthCredentials(
        consumer_key=_credential(connection, "consumer_key"),
        consumer_secret=_credential(connection, "consumer_secret"),
        access_token=_credential(connection, "access_token"),
        access_token_secret=_credential(connection, "access_token_secret"),
    )


def magento_client(
    connection: Connection, settings: Settings, *, profile: str | None = None, retry: RetryConfig | None = None
) -> MagentoClient:
    """A Magento client for ``connection``; use it as ``async with``. ``retry`` overrides the settings'."""
    _expect_system(connection, "magento")
    config = MagentoClientConfig(
        base_url=connection.base_url,
        credentials=magento_credentials(connection),
        store_code=str(connection.options.get("store_code") or DEFAULT_STORE_CODE),
        page_size=settings.http.magento_page_size,
        source_items_chunk_size=settings.http.magento_batch_size,
        http=http_config(settings, retry=retry),
    )
    return MagentoClient(config, request_log=request_log(settings, profile))


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of :func:`check_connection`. ``message`` is one line; ``details`` is JSON-ready."""

    name: str
    system: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def _scrub(message: str, connection: Connection) -> str:
    """Remove any stored secret from an error message (a server may echo what it was sent)."""
    line = message.strip().splitlines()[0] if message.strip() else "failed"
    for key, secret in connection.credentials.items():
        value = secret.get_secret_value()
        if key in SECRET_CREDENTIALS and len(value) >= 4:
            line = line.replace(value, "***")
    return line


def budget_details(snapshot: Mapping[str, GateSnapshot]) -> dict[str, Any]:
    """The PlentyONE budget per kind of call: each announced window's limit, calls left and reset."""
    return {
        kind: {
            window.name: {"limit": window.limit, "calls_left": window.calls_left, "resets_in": window.resets_in}
            for window in gate.windows
        }
        for kind, gate in snapshot.items()
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


async def _check_plenty(
    connection: Connection, settings: Settings, retry: RetryConfig, db: Database | None
) -> ConnectionCheck:
    async with plenty_client(connection, settings, retry=retry, db=db) as client:
        await client.login()
        webstores = await client.reference.webstores()
        warehouses = await client.reference.warehouses()
        plenty_ids = sorted(w.storeIdentifier for w in webstores if w.storeIdentifier is not None)
        details: dict[str, Any] = {
            "webstores": len(webstores),
            "plenty_ids": plenty_ids,
            "warehouses": [{"id": w.id, "name": w.name} for w in warehouses],
            "budget": budget_details(client.budget_snapshot()),
        }
    ids = ", ".join(map(str, plenty_ids)) or "none"
    stores, stocks = _count(len(webstores), "webstore"), _count(len(warehouses), "warehouse")
    message = f"logged in; {stores} (plentyId {ids}), {stocks}"
    return ConnectionCheck(connection.name, connection.system, True, message, details)


def _store_code_problem(store_code: str, codes: list[str]) -> str | None:
    if store_code == ALL_STORES or store_code in codes:
        return None
    known = ", ".join(codes) or "none"
    return f"no store view '{store_code}' (known: {known}); fix the connection's option store_code"


async def _check_magento(connection: Connection, settings: Settings, retry: RetryConfig) -> ConnectionCheck:
    async with magento_client(connection, settings, retry=retry) as client:
        store_code = client.config.store_code
        try:
            websites = await client.stores.websites()
        except SyncError as exc:
            # An unknown store code answers 404 "Request does not match any route", which reads like a
            # wrong base URL; ask the admin scope which codes exist to tell the two apart.
            if exc.status != 404:
                raise
            try:
                body = await client.request("GET", "/V1/store/storeViews", store=ALL_STORES)
            except SyncError:
                raise exc from None
            problem = _store_code_problem(store_code, [v.code for v in parse_list(StoreView, body) if v.code])
            if problem is None:
                raise
            return ConnectionCheck(connection.name, connection.system, False, problem)
        views = await client.stores.store_views()
    details: dict[str, Any] = {
        "auth": magento_auth_mode(connection.options),
        "store_code": store_code,
        "websites": [{"id": w.id, "code": w.code, "name": w.name} for w in websites],
        "store_views": [{"id": v.id, "code": v.code, "name": v.name, "website_id": v.website_id} for v in views],
    }
    summary = f"{_count(len(websites), 'website')}, {_count(len(views), 'store view')}"
    problem = _store_code_problem(store_code, [v.code for v in views if v.code])
    if problem is not None:
        return ConnectionCheck(connection.name, connection.system, False, f"{summary}, but {problem}", details)
    return ConnectionCheck(connection.name, connection.system, True, f"{summary}; store view '{store_code}'", details)


async def check_connection(
    connection: Connection, settings: Settings, *, db: Database | None = None
) -> ConnectionCheck:
    """Log in and read a little reference data. Never raises for what the remote side answers: any
    plentysync error becomes ``ok=False`` with its one-line message, secrets removed. With ``db`` a
    PlentyONE check uses (and shows) the budget shared with the other processes."""
    retry = RetryConfig(attempts=min(CHECK_ATTEMPTS, settings.http.max_attempts), timeout=CHECK_RETRY_TIMEOUT)
    try:
        if connection.system == "plenty":
            return await _check_plenty(connection, settings, retry, db)
        if connection.system == "magento":
            return await _check_magento(connection, settings, retry)
        raise ConfigError(f"connection '{connection.name}' has an unknown system {connection.system!r}")
    except PlentysyncError as exc:
        return ConnectionCheck(connection.name, connection.system, False, _scrub(str(exc), connection))
