from __future__ import annotations

from typing import Any

import httpx2
import pytest

from plentysync.errors import (
    FatalError,
    OutcomeUnknownError,
    RemoteNotFoundError,
    RemoteValidationError,
    RetryableError,
)
from plentysync.magento import SearchCriteria, list_fields
from plentysync.magento.models.orders import OrderInput
from plentysync.magento.models.products import BasePriceInput, ProductInput
from tests.unit.magento.support import FakeMagento, body_of, query_of, reply


def _paged(rows: list[dict[str, Any]], *, clamp: bool) -> Any:
    """A list route that clamps ``currentPage`` to the last page (or answers empty pages past the end)."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        query = query_of(request)
        size = int(query["searchCriteria[pageSize]"])
        current = int(query["searchCriteria[currentPage]"])
        last = max(1, -(-len(rows) // size))
        if clamp:
            current = min(current, last)
        return reply({"items": rows[(current - 1) * size : current * size], "total_count": len(rows)})

    return handler


@pytest.mark.anyio
@pytest.mark.parametrize("clamp", [True, False])
@pytest.mark.parametrize("count", [0, 1, 4, 5, 11])
async def test_pagination_stops_on_total_count(clamp: bool, count: int) -> None:
    fake = FakeMagento()
    rows = [{"sku": f"S{i}"} for i in range(count)]
    fake.on("GET", "/rest/default/V1/products", _paged(rows, clamp=clamp))
    async with fake.client(page_size=5) as client:
        skus = [p.sku async for p in client.products.search()]
    assert skus == [r["sku"] for r in rows]
    assert len(fake.requests) == max(1, -(-count // 5))


@pytest.mark.anyio
async def test_pagination_stops_on_empty_page_without_total_count() -> None:
    fake = FakeMagento()
    pages = iter([{"items": [{"sku": "A"}, {"sku": "B"}]}, {"items": []}])
    fake.on("GET", "/rest/default/V1/products", lambda _r: reply(next(pages)))
    async with fake.client(page_size=2) as client:
        assert [p.sku async for p in client.products.search()] == ["A", "B"]
    assert len(fake.requests) == 2


@pytest.mark.anyio
async def test_page_size_never_exceeds_300_and_fields_are_passed() -> None:
    fake = FakeMagento()
    fake.on("GET", "/rest/default/V1/products", {"items": [], "total_count": 0})
    async with fake.client(page_size=1000) as client:
        pages = client.products.pages(SearchCriteria().page(500), fields=list_fields("sku"))
        assert [p async for p in pages] == []
    query = query_of(fake.requests[0])
    assert query["searchCriteria[pageSize]"] == "300"
    assert query["fields"] == "items[sku],total_count"


@pytest.mark.anyio
async def test_sku_is_one_fully_encoded_segment_and_writes_go_to_all() -> None:
    fake = FakeMagento()
    fake.on("PUT", "/rest/all/V1/products/a%2Fb%20c%23%3F%2B", {"sku": "a/b c#?+"})
    fake.on("PUT", "/rest/de/V1/products/a%2Fb%20c%23%3F%2B", {"sku": "a/b c#?+", "name": "Hemd"})
    async with fake.client() as client:
        product = await client.products.update("a/b c#?+", ProductInput(sku="a/b c#?+"))
        translated = await client.products.update("a/b c#?+", ProductInput(sku="a/b c#?+", name="Hemd"), store="de")
    assert product.sku == "a/b c#?+"
    assert translated.name == "Hemd"
    assert body_of(fake.requests[1]) == {"product": {"sku": "a/b c#?+", "name": "Hemd"}}


@pytest.mark.anyio
async def test_missing_route_is_fatal_but_missing_entity_is_not_found() -> None:
    fake = FakeMagento()
    missing = {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "customerId", "fieldValue": 9},
    }
    fake.on("GET", "/rest/default/V1/customers/9", reply(missing, 404))
    async with fake.client() as client:
        with pytest.raises(RemoteNotFoundError, match="customerId = 9"):
            await client.customers.get(9)
        with pytest.raises(FatalError, match="wrong base URL"):
            await client.stores.country("DE")


@pytest.mark.anyio
async def test_list_parameters_are_rendered_in_messages() -> None:
    fake = FakeMagento()
    fake.on(
        "POST", "/rest/all/V1/products", reply({"message": "Invalid product data: %1", "parameters": ["bad set"]}, 400)
    )
    async with fake.client() as client:
        with pytest.raises(RemoteValidationError, match="Invalid product data: bad set"):
            await client.products.save(ProductInput(sku="A"))
    assert len(fake.requests) == 1


@pytest.mark.anyio
async def test_upserts_are_retried_after_5xx() -> None:
    fake = FakeMagento()
    answers = iter([reply({"message": "Internal Error"}, 503), reply([])])
    fake.on("POST", "/rest/all/V1/products/base-prices", lambda _r: next(answers))
    async with fake.client() as client:
        assert await client.products.update_base_prices([BasePriceInput(sku="A", price=9.5)]) == []
    assert len(fake.requests) == 2
    assert body_of(fake.requests[1]) == {"prices": [{"sku": "A", "price": 9.5, "store_id": 0}]}


@pytest.mark.anyio
async def test_non_idempotent_create_is_not_retried_after_5xx() -> None:
    fake = FakeMagento()
    fake.on("POST", "/rest/default/V1/orders", reply({"message": "Internal Error"}, 500))
    order = OrderInput(
        customer_email="x@example.com", grand_total=1, base_grand_total=1, items=[], payment={"method": "checkmo"}
    )
    async with fake.client() as client:
        with pytest.raises(OutcomeUnknownError):
            await client.orders.create(order)
    assert len(fake.requests) == 1


@pytest.mark.anyio
async def test_reads_are_retried_until_exhausted() -> None:
    fake = FakeMagento()
    fake.on("GET", "/rest/default/V1/store/websites", reply({"message": "busy"}, 502))
    async with fake.client() as client:
        with pytest.raises(RetryableError):
            await client.stores.websites()
    assert len(fake.requests) == 3


@pytest.mark.anyio
async def test_rate_limit_honours_retry_after() -> None:
    fake = FakeMagento()
    answers = [reply({"message": "Too Many Requests"}, 429, {"Retry-After": "0"})]
    fake.on(
        "GET", "/rest/default/V1/store/websites", lambda _r: answers.pop() if answers else reply([{"id": 0}, {"id": 1}])
    )
    async with fake.client() as client:
        assert [w.id for w in await client.stores.websites()] == [1]
        assert [w.id for w in await client.stores.websites(include_admin=True)] == [0, 1]
    assert len(fake.requests) == 3
