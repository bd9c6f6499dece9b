"""The Magento client over real HTTP against the sandbox (uvicorn on loopback), with faults injected.

The recorder sits INSIDE the fault middleware, so it sees only requests that reached the app: a count of 1
means the write was applied exactly once, whatever the faults did to the answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from plentysync.errors import FatalError, OutcomeUnknownError, RetryableError
from plentysync.http import HttpConfig, RetryConfig
from plentysync.magento import (
    AdminCredentials,
    BearerCredentials,
    MagentoClient,
    MagentoClientConfig,
    MagentoCredentials,
    OAuthCredentials,
)
from plentysync.magento.models.customers import CustomerInput
from plentysync.magento.models.inventory import SourceItemInput
from plentysync.magento.models.orders import OrderInput
from plentysync.sandbox.catalog import generate
from plentysync.sandbox.faults import FaultInjector, FaultMiddleware, FaultRule
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
from plentysync.sandbox.server import serving
from tests.integration.clients.magento_tour import magento_tour

FAST = HttpConfig(read_timeout=2.0, retry=RetryConfig(attempts=4, wait_initial=0.01, wait_max=0.05, wait_jitter=0))


@dataclass
class Sandbox:
    url: str
    state: MagentoState
    config: MagentoSandboxConfig
    faults: FaultInjector
    recorder: Recorder

    def client(self, credentials: MagentoCredentials | None = None, http: HttpConfig = FAST) -> MagentoClient:
        creds = credentials or BearerCredentials(self.config.access_token)
        return MagentoClient(MagentoClientConfig(self.url, creds, http=http, page_size=20))


def _serve(config: MagentoSandboxConfig) -> Iterator[Sandbox]:
    state = MagentoState()
    state.load_catalog(generate(3, 7))
    faults, recorder = FaultInjector(), Recorder()
    app = FaultMiddleware(
        RecordingMiddleware(create_magento_app(state, config), recorder, system="magento"),
        faults,
        system="magento",
        tokens=state,
    )
    with serving(app) as server:
        yield Sandbox(server.url, state, config, faults, recorder)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from _serve(MagentoSandboxConfig(integration_as_bearer=True))


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[MagentoClient]:
    async with sandbox.client() as magento:
        yield magento


@pytest.mark.anyio
async def test_tour(sandbox: Sandbox, client: MagentoClient) -> None:
    await magento_tour(client, sandbox.state)
    failed = [(e.method, e.path, e.status) for e in sandbox.recorder.exchanges() if e.status >= 400]
    assert failed == [("GET", "/rest/default/V1/products/NO-SUCH-SKU", 404)]  # the tour's deliberate miss


@pytest.mark.anyio
async def test_oauth_signed_requests_are_accepted(sandbox: Sandbox) -> None:
    cfg = sandbox.config
    creds = OAuthCredentials(cfg.consumer_key, cfg.consumer_secret, cfg.access_token, cfg.access_token_secret)
    async with sandbox.client(creds) as magento:
        skus = [p.sku async for p in magento.products.search(page_size=30)]
    assert sorted(s or "" for s in skus) == sorted(sandbox.state.products)


@pytest.mark.anyio
async def test_bearer_refused_when_integration_as_bearer_is_off() -> None:
    for box in _serve(MagentoSandboxConfig(integration_as_bearer=False)):
        async with box.client() as magento:
            with pytest.raises(FatalError, match="standalone Bearer"):
                await magento.stores.websites()
        assert box.recorder.count() == 1


@pytest.mark.anyio
async def test_admin_token_with_2fa_is_refused_with_advice() -> None:
    for box in _serve(MagentoSandboxConfig(two_factor_auth=True)):
        async with box.client(AdminCredentials(box.config.admin_username, box.config.admin_password)) as magento:
            with pytest.raises(FatalError, match="Integration"):
                await magento.stores.websites()


@pytest.mark.anyio
async def test_expired_admin_token_logs_in_once_more() -> None:
    for box in _serve(MagentoSandboxConfig(two_factor_auth=False)):
        async with box.client(AdminCredentials(box.config.admin_username, box.config.admin_password)) as magento:
            await magento.stores.websites()
            box.faults.add(FaultRule("expire_token", path="/V1/store/websites", times=1))
            assert await magento.stores.websites()
        assert box.recorder.count("POST", "/V1/integration/admin/token") == 2


@pytest.mark.anyio
async def test_429_storm_recovers_honouring_retry_after(sandbox: Sandbox, client: MagentoClient) -> None:
    # The fault middleware rounds Retry-After up to whole seconds (at least 1), so one 429 costs a second.
    sandbox.faults.add(FaultRule("rate_limit", path="/V1/store/websites", times=1, retry_after=0.01))
    assert await client.stores.websites()
    assert sandbox.recorder.count("GET", "/V1/store/websites") == 1
    assert client.http.budget is not None
    assert client.http.budget.snapshot()["read"].throttled == 1


@pytest.mark.anyio
async def test_5xx_on_a_read_is_retried(sandbox: Sandbox, client: MagentoClient) -> None:
    sandbox.faults.add(FaultRule("status", status=503, path="/V1/products", method="GET", times=2))
    assert [p async for p in client.products.search(page_size=50)]


@pytest.mark.anyio
async def test_persistent_5xx_gives_up(sandbox: Sandbox, client: MagentoClient) -> None:
    sandbox.faults.add(FaultRule("status", status=500, path="/V1/store/websites"))
    with pytest.raises(RetryableError):
        await client.stores.websites()


def _raw_order(sandbox: Sandbox, ext_id: str) -> OrderInput:
    sku = next(iter(sandbox.state.products))
    return OrderInput(
        ext_order_id=ext_id, customer_email="raw@example.com", grand_total=10, base_grand_total=10, store_id=1,
        customer_is_guest=1, state="new", status="pending",
        items=[{"sku": sku, "name": "x", "qty_ordered": 1, "price": 10, "product_type": "simple"}],
        payment={"method": "checkmo"},
    )  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(("fault", "applied"), [("drop_after", 1), ("status", 0)])
async def test_unknown_outcome_of_an_order_create_is_reconciled(
    sandbox: Sandbox, client: MagentoClient, fault: str, applied: int
) -> None:
    """drop_after: the app saved the order, the answer was lost; status: a 500 in front of the app. Either way the
    client cannot know, raises OutcomeUnknownError without retrying, and the look-up tells the truth."""
    before = len(sandbox.state.orders)
    sandbox.faults.add(FaultRule(fault, status=500, method="POST", path="/V1/orders$", times=1))  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknownError):
        await client.orders.create(_raw_order(sandbox, f"EXT-{fault}"))
    assert sandbox.recorder.count("POST", "/V1/orders") == applied
    assert len(sandbox.state.orders) == before + applied
    found = await client.orders.find_by_ext_order_id(f"EXT-{fault}")
    assert (found is not None) == bool(applied)
    if found is not None:
        assert found.entity_id in sandbox.state.orders


@pytest.mark.anyio
async def test_5xx_on_a_customer_create_is_not_retried(sandbox: Sandbox, client: MagentoClient) -> None:
    sandbox.faults.add(FaultRule("status", status=500, method="POST", path="/V1/customers$", times=1))
    who = CustomerInput(email="once@example.com", firstname="O", lastname="N", website_id=1)
    with pytest.raises(OutcomeUnknownError):
        await client.customers.create(who)
    assert sandbox.recorder.count("POST", "/V1/customers") == 0
    assert await client.customers.find_by_email("once@example.com") is None


@pytest.mark.anyio
async def test_drop_before_on_an_upsert_is_retried_and_applied_once(sandbox: Sandbox, client: MagentoClient) -> None:
    sandbox.faults.add(FaultRule("drop_before", method="POST", path="/V1/inventory/source-items$", times=1))
    sku = next(iter(sandbox.state.products))
    await client.inventory.save_source_items([SourceItemInput(sku=sku, source_code="default", quantity=42)])
    assert sandbox.recorder.count("POST", "/V1/inventory/source-items") == 1
    assert sandbox.state.source_items[(sku, "default")]["quantity"] == 42


@pytest.mark.anyio
async def test_latency_beyond_the_read_timeout_is_retried_then_fails(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule("latency", latency_ms=300, path="/V1/store/websites", times=1))
    slow = HttpConfig(read_timeout=0.1, retry=RetryConfig(attempts=2, wait_initial=0.01, wait_max=0.02, wait_jitter=0))
    async with sandbox.client(http=slow) as magento:
        assert await magento.stores.websites()
    sandbox.faults.add(FaultRule("latency", latency_ms=300, path="/V1/store/storeViews"))
    async with sandbox.client(http=slow) as magento:
        with pytest.raises(RetryableError):
            await magento.stores.store_views()
