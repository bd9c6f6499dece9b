from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from plentysync.plenty.models.orders import Order
from plentysync.plenty.models.reference import Webstore
from tests.unit.plenty.fakes import FakePlenty, json_response

pytestmark = pytest.mark.anyio


def pages(total: int, per_page: int, *, clamp: bool = True, as_strings: bool = False) -> Any:
    last = max(1, -(-total // per_page))

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        size = int(request.url.params["itemsPerPage"])
        assert size == per_page
        if clamp:
            page = min(page, last)
        ids = list(range((page - 1) * size + 1, min(page * size, total) + 1))
        body: dict[str, Any] = {
            "page": str(page) if as_strings else page,
            "totalsCount": total,
            "isLastPage": page >= last,
            "lastPageNumber": str(last) if as_strings else last,
            "itemsPerPage": str(size),
            "entries": [{"id": i} for i in ids],
        }
        return httpx2.Response(200, json=body)

    return handler


async def collect(fake: FakePlenty, per_page: int) -> list[int]:
    async with fake.client(items_per_page=per_page) as plenty:
        return [o.id async for o in plenty.paginate("/rest/orders", Order) if o.id is not None]


@pytest.mark.parametrize("as_strings", [False, True])
async def test_pages_are_followed_until_the_last(as_strings: bool) -> None:
    fake = FakePlenty(routes={"GET /rest/orders": pages(7, 3, as_strings=as_strings)})
    assert await collect(fake, 3) == list(range(1, 8))
    assert [r.url.params["page"] for r in fake.sent("GET", "/rest/orders")] == ["1", "2", "3"]


async def test_is_last_page_missing_stops_at_last_page_number() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        return httpx2.Response(200, json={"page": page, "lastPageNumber": 2, "entries": [{"id": page}]})

    fake = FakePlenty(routes={"GET /rest/orders": handler})
    assert await collect(fake, 1) == [1, 2]


async def test_a_clamped_page_is_not_read_as_new_data() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = min(int(request.url.params["page"]), 2)
        return httpx2.Response(200, json={"page": page, "isLastPage": False, "entries": [{"id": page}]})

    fake = FakePlenty(routes={"GET /rest/orders": handler})
    assert await collect(fake, 1) == [1, 2]
    assert len(fake.sent("GET", "/rest/orders")) == 3


async def test_an_empty_page_ends_the_stream() -> None:
    fake = FakePlenty(routes={"GET /rest/orders": json_response({"page": 1, "isLastPage": False, "entries": []})})
    assert await collect(fake, 5) == []
    assert len(fake.sent("GET", "/rest/orders")) == 1


async def test_pages_stream_one_at_a_time() -> None:
    fake = FakePlenty(routes={"GET /rest/orders": pages(10, 2)})
    async with fake.client(items_per_page=2) as plenty:
        stream = plenty.paginate("/rest/orders", Order)
        first = await anext(aiter(stream))
        assert first.id == 1
        assert len(fake.sent("GET", "/rest/orders")) == 1


async def test_plain_array_routes_are_read_in_one_call() -> None:
    fake = FakePlenty(routes={"GET /rest/webstores": json_response([{"id": 0, "storeIdentifier": 12345}])})
    async with fake.client() as plenty:
        stores = await plenty.reference.webstores()
    assert [s.storeIdentifier for s in stores] == [12345]
    assert isinstance(stores[0], Webstore)


async def test_with_is_sent_as_a_with_brackets_list_and_plus_is_encoded() -> None:
    fake = FakePlenty(routes={"GET /rest/orders": json_response({"page": 1, "isLastPage": True, "entries": []})})
    since = datetime(2026, 5, 29, 13, 13, 12, tzinfo=timezone(timedelta(hours=2)))
    async with fake.client() as plenty:
        _ = [o async for o in plenty.orders.list_updated(since, with_=["addresses", "orderItems.variation"])]
    request = fake.sent("GET", "/rest/orders")[0]
    raw = request.url.query.decode()
    assert "updatedAtFrom=2026-05-29T13%3A13%3A12%2B02%3A00" in raw
    assert "+" not in raw
    assert request.url.params.get_list("with[]") == ["addresses", "orderItems.variation"]
    assert request.url.params["updatedAtFrom"] == "2026-05-29T13:13:12+02:00"


async def test_naive_datetimes_are_refused() -> None:
    fake = FakePlenty()
    async with fake.client() as plenty:
        with pytest.raises(ValueError, match="timezone-aware"):
            plenty.orders.list_updated(datetime(2026, 5, 29, 13, 0))
    assert fake.requests == []


async def test_customer_classes_object_map_is_parsed() -> None:
    fake = FakePlenty(routes={"GET /rest/accounts/contacts/classes": json_response({"1": "Endkunde", "3": "B2B"})})
    async with fake.client() as plenty:
        classes = await plenty.contacts.customer_classes()
    assert {(c.id, c.name) for c in classes} == {(1, "Endkunde"), (3, "B2B")}
