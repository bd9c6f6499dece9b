from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plentysync.magento import KEEP_ADDRESSES
from plentysync.magento.models.customers import AddressInput, CustomerInput
from plentysync.magento.models.inventory import SourceItemInput, SourceItemKey
from plentysync.magento.models.orders import ItemQty, TrackInput
from tests.unit.magento.support import FakeMagento, body_of, query_of

ADDRESS = AddressInput(country_id="DE", street=["Hauptstr. 1"], city="Berlin", firstname="Max", lastname="M")
CUSTOMER = CustomerInput(email="max@example.com", firstname="Max", lastname="M", website_id=1)


@pytest.mark.anyio
async def test_customer_update_makes_address_semantics_explicit() -> None:
    fake = FakeMagento()
    fake.on("PUT", "/rest/default/V1/customers/5", {"id": 5, "default_billing": "7", "addresses": [{"id": 7}]})
    async with fake.client() as client:
        kept = await client.customers.update(5, CUSTOMER, addresses=KEEP_ADDRESSES)
        await client.customers.update(5, CUSTOMER, addresses=[ADDRESS])
        await client.customers.update(5, CUSTOMER, addresses=[])
    assert kept.default_billing == 7
    first, second, third = (body_of(r)["customer"] for r in fake.requests)
    assert "addresses" not in first
    assert first["id"] == 5
    assert second["addresses"] == [
        {"country_id": "DE", "street": ["Hauptstr. 1"], "city": "Berlin", "firstname": "Max", "lastname": "M"}
    ]
    assert third["addresses"] == []


@pytest.mark.anyio
async def test_source_items_are_saved_in_chunks() -> None:
    fake = FakeMagento()
    fake.on("POST", "/rest/all/V1/inventory/source-items", [])
    fake.on("POST", "/rest/all/V1/inventory/source-items-delete", [])
    items = [SourceItemInput(sku=f"S{i}", source_code="default", quantity=i) for i in range(45)]
    async with fake.client() as client:
        assert await client.inventory.save_source_items(items) == 45
        assert (
            await client.inventory.delete_source_items([SourceItemKey(sku="S1", source_code="eu")], chunk_size=5) == 1
        )
        await client.inventory.save_source_items(items[:10], chunk_size=3)
    sizes = [len(body_of(r)["sourceItems"]) for r in fake.sent("POST", "/rest/all/V1/inventory/source-items")]
    assert sizes == [20, 20, 5, 1, 3, 3, 3, 1]
    assert body_of(fake.requests[0])["sourceItems"][1] == {
        "sku": "S1",
        "source_code": "default",
        "quantity": 1.0,
        "status": 1,
    }


@pytest.mark.anyio
async def test_documents_return_int_ids_from_strings_and_send_declared_fields() -> None:
    fake = FakeMagento()
    fake.on("POST", "/rest/default/V1/order/3/invoice", "4")
    fake.on("POST", "/rest/default/V1/order/3/ship", "5")
    fake.on("POST", "/rest/default/V1/order/3/refund", 6)
    async with fake.client() as client:
        assert await client.orders.invoice(3, capture=True) == 4
        shipment = await client.orders.ship(
            3,
            items=[ItemQty(order_item_id=9, qty=1)],
            tracks=[TrackInput(track_number="T1", title="DHL")],
            source_code="eu",
        )
        assert shipment == 5
        assert await client.orders.refund(3) == 6
    assert body_of(fake.requests[0]) == {"notify": False, "capture": True}
    assert body_of(fake.requests[1]) == {
        "notify": False,
        "items": [{"order_item_id": 9, "qty": 1.0}],
        "tracks": [{"track_number": "T1", "title": "DHL", "carrier_code": "custom"}],
        "arguments": {"extension_attributes": {"source_code": "eu"}},
    }


@pytest.mark.anyio
async def test_changed_since_sorts_for_a_watermark_and_parses_dates() -> None:
    fake = FakeMagento()
    fake.on(
        "GET",
        "/rest/all/V1/orders",
        {"items": [{"entity_id": "7", "updated_at": "2024-05-01 10:00:00", "grand_total": "12.50"}], "total_count": 1},
    )
    since = datetime(2024, 5, 1, 10, 5, tzinfo=UTC)
    async with fake.client() as client:
        orders = [
            o async for o in client.orders.changed_since(since, overlap=timedelta(minutes=5), statuses=["pending"])
        ]
    assert orders[0].entity_id == 7
    assert orders[0].grand_total == 12.5
    assert orders[0].updated_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    query = query_of(fake.requests[0])
    assert query["searchCriteria[filter_groups][0][filters][0][value]"] == "2024-05-01 10:00:00"
    assert query["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "in"
    assert [query[f"searchCriteria[sortOrders][{i}][field]"] for i in (0, 1)] == ["updated_at", "entity_id"]


@pytest.mark.anyio
async def test_attribute_options_skip_the_blank_placeholder() -> None:
    fake = FakeMagento()
    fake.on(
        "GET",
        "/rest/default/V1/products/attributes/color/options",
        [{"label": " ", "value": ""}, {"label": "Red", "value": "52"}],
    )
    async with fake.client() as client:
        options = await client.attributes.options("color")
        everything = await client.attributes.options("color", include_placeholder=True)
    assert [o.label for o in options] == ["Red"]
    assert len(everything) == 2
