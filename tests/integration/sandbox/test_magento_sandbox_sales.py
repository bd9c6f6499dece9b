"""The simulated Magento: customers, MSI inventory and reservations, orders and their documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from plentysync.clock import ManualClock
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from tests.integration.sandbox.test_magento_sandbox import BEARER, make_client, seeded_state


@pytest.fixture
def state() -> MagentoState:
    return seeded_state()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def client(state: MagentoState, clock: ManualClock) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_magento_app(state, MagentoSandboxConfig(integration_as_bearer=True), clock)
    async with make_client(app, BEARER) as http:
        yield http


def _order_id(state: MagentoState, increment_id: str) -> int:
    return int(next(o["entity_id"] for o in state.orders.values() if o["increment_id"] == increment_id))


# customers


@pytest.mark.anyio
async def test_customer_addresses_replace_semantics(client: httpx2.AsyncClient, state: MagentoState) -> None:
    anna = next(c for c in state.customers.values() if c["email"] == "anna@example.com")
    path = f"/rest/V1/customers/{anna['id']}"
    fetched = (await client.get(path)).json()
    assert len(fetched["addresses"]) == 2
    billing = next(a for a in fetched["addresses"] if a["default_billing"])
    assert fetched["default_billing"] == str(billing["id"])
    assert isinstance(billing["default_billing"], bool)

    kept = await client.put(path, json={"customer": {"firstname": "Anne"}})
    assert kept.json()["firstname"] == "Anne"
    assert len(kept.json()["addresses"]) == 2

    new_address = {
        "firstname": "Anne",
        "lastname": "M",
        "street": ["Neu 1"],
        "city": "Bonn",
        "country_id": "DE",
        "postcode": "53111",
        "telephone": "1",
        "default_shipping": True,
    }
    replaced = (await client.put(path, json={"customer": {"addresses": [billing, new_address]}})).json()
    assert len(replaced["addresses"]) == 2
    assert billing["id"] in {a["id"] for a in replaced["addresses"]}
    added = next(a for a in replaced["addresses"] if a["id"] != billing["id"])
    assert replaced["default_shipping"] == str(added["id"])
    assert state.customer(anna["id"])["addresses"][0]["id"] == billing["id"]
    old_ids = {a["id"] for a in fetched["addresses"]} - {billing["id"]}
    for old in old_ids:
        assert (await client.get(f"/rest/V1/customers/addresses/{old}")).status_code == 404


@pytest.mark.anyio
async def test_customer_email_unique_per_website(client: httpx2.AsyncClient, state: MagentoState) -> None:
    data = {"email": "ANNA@example.com", "firstname": "A", "lastname": "B", "website_id": 1}
    duplicate = await client.post("/rest/V1/customers", json={"customer": data})
    assert duplicate.status_code == 400
    assert "same email address" in duplicate.json()["message"]
    state.websites[2] = {"id": 2, "code": "b2b", "name": "B2B", "default_group_id": 2}
    state.store_groups[2] = {
        "id": 2,
        "website_id": 2,
        "root_category_id": 2,
        "default_store_id": 9,
        "name": "B2B",
        "code": "b2b",
    }
    other_site = await client.post("/rest/V1/customers", json={"customer": {**data, "website_id": 2}})
    assert other_site.status_code == 200, other_site.text
    assert other_site.json()["website_id"] == 2
    missing = await client.get("/rest/V1/customers/9999")
    assert missing.status_code == 404
    assert missing.json()["parameters"] == {"fieldName": "customerId", "fieldValue": 9999}
    search = (
        await client.get(
            "/rest/V1/customers/search",
            params={
                "searchCriteria[filter_groups][0][filters][0][field]": "email",
                "searchCriteria[filter_groups][0][filters][0][value]": "anna@example.com",
            },
        )
    ).json()
    assert search["total_count"] == 2
    groups = (await client.get("/rest/V1/customerGroups/search", params={"searchCriteria": ""})).json()
    assert [g["id"] for g in groups["items"]] == [0, 1, 2, 3]


# inventory


@pytest.mark.anyio
async def test_source_items_upsert_delete_and_salable_qty(client: httpx2.AsyncClient, state: MagentoState) -> None:
    stock_id = state.stock_for_website(1)
    assert set(state.stock_sources(stock_id)) == {"default", "berlin"}
    pending = state.reserved("SIMPLE-1", stock_id)
    assert pending < 0
    salable = (await client.get(f"/rest/V1/inventory/get-product-salable-quantity/SIMPLE-1/{stock_id}")).json()
    assert salable == 10 + 5 + pending

    items = [{"sku": "SIMPLE-1", "source_code": "berlin", "quantity": 20, "status": 1}]
    assert (await client.post("/rest/V1/inventory/source-items", json={"sourceItems": items})).json() == []
    default_item = state.source_item("SIMPLE-1", "default")
    assert default_item is not None
    assert default_item["quantity"] == 10
    assert state.salable_qty("SIMPLE-1", stock_id) == 30 + pending

    listed = await client.get(
        "/rest/V1/inventory/source-items",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "sku",
            "searchCriteria[filter_groups][0][filters][0][value]": "SIMPLE-1",
        },
    )
    assert {(i["source_code"], i["quantity"]) for i in listed.json()["items"]} == {("default", 10), ("berlin", 20)}

    deleted = await client.post(
        "/rest/V1/inventory/source-items-delete", json={"sourceItems": [{"sku": "SIMPLE-1", "source_code": "berlin"}]}
    )
    assert deleted.json() == []
    assert state.source_item("SIMPLE-1", "berlin") is None
    bad = await client.post(
        "/rest/V1/inventory/source-items",
        json={"sourceItems": [{"sku": "SIMPLE-1", "source_code": "nowhere", "quantity": 1, "status": 1}]},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"]
    configurable = await client.get(f"/rest/V1/inventory/get-product-salable-quantity/SHIRT/{stock_id}")
    assert configurable.status_code == 400
    assert (await client.get(f"/rest/V1/inventory/is-product-salable/EBOOK/{stock_id}")).json() is True


@pytest.mark.anyio
async def test_legacy_stock_item_writes_default_source(client: httpx2.AsyncClient, state: MagentoState) -> None:
    item = (await client.get("/rest/V1/stockItems/SHIRT-RED")).json()
    assert item["qty"] == 4
    result = await client.put(
        f"/rest/V1/products/SHIRT-RED/stockItems/{item['item_id']}", json={"stockItem": {"qty": 9, "is_in_stock": True}}
    )
    assert result.json() == str(item["item_id"])
    source_item = state.source_item("SHIRT-RED", "default")
    assert source_item is not None
    assert source_item["quantity"] == 9
    assert (await client.get("/rest/V1/stockStatuses/SHIRT-RED")).json()["stock_status"] == 1


# orders


@pytest.mark.anyio
async def test_seeded_order_shapes(client: httpx2.AsyncClient, state: MagentoState) -> None:
    orders = (await client.get("/rest/V1/orders", params={"searchCriteria": ""})).json()
    by_increment = {o["increment_id"]: o for o in orders["items"]}
    assert set(by_increment) == {"000000101", "000000102", "000000103"}
    pending = by_increment["000000101"]
    assert (pending["state"], pending["status"]) == ("new", "pending")
    parent = next(i for i in pending["items"] if i["product_type"] == "configurable")
    child = next(i for i in pending["items"] if i.get("parent_item_id") == parent["item_id"])
    assert parent["sku"] == child["sku"] == "SHIRT-RED"
    assert child["price"] == 0
    assert child["parent_item"]["item_id"] == parent["item_id"]
    assert parent["product_option"]["extension_attributes"]["configurable_item_options"]
    assert "shipping_address" not in pending
    shipping = pending["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    assert shipping["city"] == "Hamburg"
    assert pending["payment"]["additional_information"][0] == "Bank Transfer Payment"
    guest = by_increment["000000102"]
    assert guest["customer_is_guest"] == 1
    assert guest["coupon_code"] == "SAVE5"
    assert guest["discount_amount"] == -5
    assert guest["state"] == "processing"
    assert by_increment["000000103"]["state"] == "complete"


@pytest.mark.anyio
async def test_invoice_ship_refund_transitions(
    client: httpx2.AsyncClient, state: MagentoState, clock: ManualClock
) -> None:
    order_id = _order_id(state, "000000101")
    stock_id = state.stock_for_website(1)
    before = state.salable_qty("SHIRT-RED", stock_id)
    updated_before = state.orders[order_id]["updated_at"]
    clock.advance(30)

    cannot_refund = await client.post(f"/rest/V1/order/{order_id}/refund", json={})
    assert cannot_refund.status_code == 400

    invoice_id = (await client.post(f"/rest/V1/order/{order_id}/invoice", json={"capture": True})).json()
    assert isinstance(invoice_id, str)
    order = (await client.get(f"/rest/V1/orders/{order_id}")).json()
    assert (order["state"], order["status"]) == ("processing", "processing")
    assert order["total_paid"] == order["grand_total"]
    assert order["updated_at"] > updated_before
    invoice = (await client.get(f"/rest/V1/invoices/{invoice_id}")).json()
    assert invoice["order_id"] == order_id
    assert invoice["grand_total"] == order["grand_total"]
    assert (await client.post(f"/rest/V1/order/{order_id}/invoice", json={})).status_code == 400
    assert (await client.post(f"/rest/V1/orders/{order_id}/cancel")).json() is False

    parent = next(i for i in order["items"] if i["product_type"] == "configurable")
    source_before = state.source_item("SHIRT-RED", "default")
    assert source_before is not None
    qty_before = source_before["quantity"]
    ship_body: dict[str, Any] = {
        "items": [{"order_item_id": parent["item_id"], "qty": 2}],
        "tracks": [{"track_number": "0034", "title": "DHL", "carrier_code": "dhl"}],
        "arguments": {"extension_attributes": {"source_code": "default"}},
    }
    shipment_id = (await client.post(f"/rest/V1/order/{order_id}/ship", json=ship_body)).json()
    assert isinstance(shipment_id, str)
    after_ship = state.source_item("SHIRT-RED", "default")
    assert after_ship is not None
    assert after_ship["quantity"] == qty_before - 2
    assert state.salable_qty("SHIRT-RED", stock_id) == before
    assert state.orders[order_id]["state"] == "processing"
    shipment = (await client.get(f"/rest/V1/shipment/{shipment_id}")).json()
    assert shipment["tracks"][0]["track_number"] == "0034"
    assert shipment["extension_attributes"]["source_code"] == "default"

    await client.post(f"/rest/V1/order/{order_id}/ship", json={})
    assert state.orders[order_id]["state"] == "complete"
    track = (
        await client.post(
            "/rest/V1/shipment/track",
            json={
                "entity": {
                    "order_id": order_id,
                    "parent_id": int(shipment_id),
                    "track_number": "X2",
                    "title": "UPS",
                    "carrier_code": "ups",
                    "qty": 1,
                    "weight": 0,
                    "description": "",
                }
            },
        )
    ).json()
    assert (await client.delete(f"/rest/V1/shipment/track/{track['entity_id']}")).json() is True

    creditmemo_id = (await client.post(f"/rest/V1/order/{order_id}/refund", json={})).json()
    assert isinstance(creditmemo_id, str)
    closed = (await client.get(f"/rest/V1/orders/{order_id}")).json()
    assert (closed["state"], closed["status"]) == ("closed", "closed")
    assert closed["total_refunded"] == closed["total_paid"]
    memos = (await client.get("/rest/V1/creditmemos", params={"searchCriteria": ""})).json()
    assert int(creditmemo_id) in {m["entity_id"] for m in memos["items"]}


@pytest.mark.anyio
async def test_cancel_hold_and_comments(client: httpx2.AsyncClient, state: MagentoState) -> None:
    order_id = _order_id(state, "000000101")
    stock_id = state.stock_for_website(1)
    assert (await client.post(f"/rest/V1/orders/{order_id}/hold")).json() is True
    assert state.orders[order_id]["status"] == "holded"
    assert (await client.post(f"/rest/V1/orders/{order_id}/hold")).status_code == 400
    assert (await client.post(f"/rest/V1/orders/{order_id}/unhold")).json() is True
    assert state.orders[order_id]["state"] == "new"

    comment = {
        "statusHistory": {
            "comment": "Checked",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "status": "fraud",
            "parent_id": order_id,
        }
    }
    assert (await client.post(f"/rest/V1/orders/{order_id}/comments", json=comment)).json() is True
    comments = (await client.get(f"/rest/V1/orders/{order_id}/comments")).json()
    assert comments["items"][0]["comment"] == "Checked"
    assert (await client.get(f"/rest/V1/orders/{order_id}/statuses")).json() == "fraud"

    assert (await client.post(f"/rest/V1/orders/{order_id}/cancel")).json() is True
    assert state.orders[order_id]["state"] == "canceled"
    assert state.reserved("SHIRT-RED", stock_id) == 0

    missing = await client.get("/rest/V1/orders/999999")
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_comment_without_status_change_when_configured(state: MagentoState) -> None:
    app = create_magento_app(state, MagentoSandboxConfig(integration_as_bearer=True, comment_changes_status=False))
    order_id = _order_id(state, "000000101")
    async with make_client(app, BEARER) as http:
        body = {
            "statusHistory": {
                "comment": "x",
                "status": "processing",
                "is_customer_notified": 0,
                "is_visible_on_front": 0,
                "parent_id": order_id,
            }
        }
        await http.post(f"/rest/V1/orders/{order_id}/comments", json=body)
    assert state.orders[order_id]["status"] == "pending"


@pytest.mark.anyio
async def test_raw_order_create_keeps_given_amounts_without_reservation(
    client: httpx2.AsyncClient, state: MagentoState
) -> None:
    stock_id = state.stock_for_website(1)
    before = state.salable_qty("EBOOK", stock_id)
    entity = {
        "customer_email": "market@example.com",
        "grand_total": 4.2,
        "base_grand_total": 4.2,
        "items": [{"sku": "EBOOK", "qty_ordered": 1, "price": 4.2, "product_type": "virtual"}],
        "billing_address": {
            "firstname": "M",
            "lastname": "P",
            "street": ["A 1"],
            "city": "C",
            "country_id": "DE",
            "postcode": "1",
            "telephone": "1",
        },
        "payment": {"method": "checkmo"},
    }
    created = (await client.post("/rest/V1/orders", json={"entity": entity})).json()
    assert created["grand_total"] == 4.2
    assert created["increment_id"]
    assert state.salable_qty("EBOOK", stock_id) == before
    bad = await client.post("/rest/V1/orders", json={"entity": {"grand_total": 1}})
    assert bad.status_code == 400
