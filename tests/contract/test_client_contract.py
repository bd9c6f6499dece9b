"""Every request the two clients send on their tours of every resource, and every response the
sandboxes give them, checked against the official specs.

The tours (``tests/integration/clients/*_tour.py``) call each public client method at least once; the
recorder sits outside the fault layer, so nothing the client sent escapes the check."""

from __future__ import annotations

from typing import Any

import pytest

from plentysync.http.client import HttpConfig
from plentysync.magento import MagentoClient, MagentoClientConfig, OAuthCredentials
from plentysync.sandbox.catalog import generate
from plentysync.sandbox.faults import FaultInjector, FaultMiddleware
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
from plentysync.sandbox.server import serving
from tests.contract.validate import ContractValidator
from tests.integration.clients.magento_tour import magento_tour
from tests.integration.clients.plenty_support import FAST_RETRY, plenty_sandbox
from tests.integration.clients.plenty_tour import tour as plenty_tour

pytestmark = pytest.mark.anyio


def _distinct_routes(validator: ContractValidator, exchanges: list[Any]) -> set[str]:
    return {validator.route_label(e) for e in exchanges}


async def test_plenty_client_and_sandbox_follow_the_spec(contract_validator: ContractValidator) -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        async with sandbox.client() as plenty:
            await plenty_tour(plenty, sandbox.state)
    exchanges = sandbox.recorder.exchanges()
    report = contract_validator.validate_exchanges(exchanges)
    assert report.ok, str(report)
    assert len(_distinct_routes(contract_validator, exchanges)) >= 75  # 79 operations today


async def test_magento_client_and_sandbox_follow_the_spec(contract_validator: ContractValidator) -> None:
    config = MagentoSandboxConfig()
    state = MagentoState()
    state.load_catalog(generate(3, 7))
    recorder = Recorder()
    app = RecordingMiddleware(
        FaultMiddleware(create_magento_app(state, config), FaultInjector(), system="magento", tokens=state),
        recorder,
        system="magento",
    )
    credentials = OAuthCredentials(
        config.consumer_key, config.consumer_secret, config.access_token, config.access_token_secret
    )
    with serving(app) as server:
        client_config = MagentoClientConfig(server.url, credentials, http=HttpConfig(retry=FAST_RETRY), page_size=20)
        async with MagentoClient(client_config) as magento:
            await magento_tour(magento, state)
    exchanges = recorder.exchanges()
    report = contract_validator.validate_exchanges(exchanges)
    assert report.ok, str(report)
    assert len(_distinct_routes(contract_validator, exchanges)) >= 95  # 98 operations today
