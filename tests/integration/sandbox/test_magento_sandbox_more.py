"""The simulated Magento: attribute updates and deletes, attribute sets, product websites, base-price reads,
invoice refunds, stock updates and deletes, stock-source unlinking, salability, and seed catalogs of any size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plentysync.clock import ManualClock
from plentysync.sandbox.catalog import generate
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from plentysync.sandbox.magento.state import SOURCE_ITEM_TYPES
from tests.integration.sandbox.test_magento_sandbox import BEARER, make_client, seeded_state

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORDER_STATES = {
    "pending": "new",
    "processing": "processing",
    "complete": "complete",
    "canceled": "canceled",
    "holded": "holded",
}
"""Seed order status -> the Magento order state it reaches when loaded (an invoice completes a virtual-only
order, so a "processing" one of only virtual lines ends up complete)."""


@pytest.fixture
def state() -> MagentoState:
    return seeded_state()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def client(state: MagentoState, clock: ManualClock) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_magento_app(state, MagentoSandboxConfig(integration_as_bearer=True), clock)
    async with make_client(app, BEARER) as http:
        yield http


def _order_id(state: MagentoState, increment_id: str) -> int:
    return int(next(o["entity_id"] for o in state.orders.values() if o["increment_id"] == increment_id))


# attributes


@pytest.mark.anyio
async def test_attribute_update_keeps_code_and_input_and_adds_new_options(
    client: httpx2.AsyncClient, state: MagentoState
) -> None:
    before = dict(state.attributes["color"])
    labels_before = [o["label"] for o in before["options"]]
    body = {
        "attribute": {
            "attribute_code": "renamed",
            "frontend_input": "text",
            "default_frontend_label": "Colour",
            "is_filterable": False,
            "options": [{"label": labels_before[0]}, {"label": "Green"}],
        }
    }
    response = await client.put("/rest/all/V1/products/attributes/color", json=body)
    assert response.status_code == 200
    assert response.json()["default_frontend_label"] == "Colour"
    stored = state.attributes["color"]
    assert (stored["attribute_code"], stored["attribute_id"]) == ("color", before["attribute_id"])
    assert stored["frontend_input"] == before["frontend_input"]
    assert stored["is_filterable"] is False
    assert [o["label"] for o in stored["options"]] == [*labels_before, "Green"]
    assert "renamed" not in state.attributes

    missing = await client.put("/rest/all/V1/products/attributes/nope", json=body)
    assert missing.status_code == 404
    blank = await client.put(
        "/rest/all/V1/products/attributes/color", json={"attribute": {"default_frontend_label": ""}}
    )
    assert blank.status_code == 400


@pytest.mark.anyio
async def test_attribute_delete_cascades_and_guards(client: httpx2.AsyncClient, state: MagentoState) -> None:
    created = await client.post(
        "/rest/all/V1/products/attributes",
        json={"attribute": {"attribute_code": "material", "frontend_input": "text", "default_frontend_label": "M"}},
    )
    assert created.status_code == 200
    product = {"product": {"custom_attributes": [{"attribute_code": "material", "value": "Wool"}]}}
    assert (await client.put("/rest/all/V1/products/SIMPLE-1", json=product)).status_code == 200
    made = await client.post(
        "/rest/V1/products/attribute-sets", json={"attributeSet": {"attribute_set_name": "Wool"}, "skeletonId": 4}
    )
    set_id = made.json()["attribute_set_id"]
    assert "material" in state.attribute_set_codes(set_id)

    assert (await client.delete("/rest/all/V1/products/attributes/material")).json() is True
    assert "material" not in state.attributes
    codes = {c["attribute_code"] for c in state.products["SIMPLE-1"]["custom_attributes"]}
    assert "material" not in codes
    assert "material" not in state.attribute_set_codes(set_id)
    assert (await client.delete("/rest/all/V1/products/attributes/material")).status_code == 404

    locked = await client.delete("/rest/all/V1/products/attributes/color")
    assert locked.status_code == 400
    assert "configurable" in locked.json()["message"]
    assert "color" in state.attributes
    system = await client.delete("/rest/all/V1/products/attributes/name")
    assert system.status_code == 400
    assert "name" in state.attributes


# attribute sets


@pytest.mark.anyio
async def test_attribute_sets_get_list_and_create_from_skeleton(
    client: httpx2.AsyncClient, state: MagentoState
) -> None:
    default = await client.get("/rest/V1/products/attribute-sets/4")
    assert default.json() == state.attribute_sets[4]
    missing = await client.get("/rest/V1/products/attribute-sets/999")
    assert missing.status_code == 404
    assert missing.json()["parameters"] == {"fieldName": "id", "fieldValue": 999}
    bad_id = await client.get("/rest/V1/products/attribute-sets/abc")
    assert bad_id.status_code == 400

    members = (await client.get("/rest/V1/products/attribute-sets/4/attributes")).json()
    assert {a["attribute_code"] for a in members} == set(state.attributes)
    color = next(a for a in members if a["attribute_code"] == "color")
    assert color["options"][0] == {"label": " ", "value": ""}

    body = {"attributeSet": {"attribute_set_name": "Shirts", "sort_order": 3}, "skeletonId": 4}
    created = (await client.post("/rest/V1/products/attribute-sets", json=body)).json()
    set_id = created["attribute_set_id"]
    assert set_id not in (None, 4)
    assert state.attribute_sets[set_id] == created
    assert (created["attribute_set_name"], created["sort_order"], created["entity_type_id"]) == ("Shirts", 3, 4)
    copied = (await client.get(f"/rest/V1/products/attribute-sets/{set_id}/attributes")).json()
    assert {a["attribute_code"] for a in copied} == {a["attribute_code"] for a in members}
    listed = (await client.get("/rest/V1/products/attribute-sets/sets/list", params={"searchCriteria": ""})).json()
    assert set_id in {s["attribute_set_id"] for s in listed["items"]}

    duplicate = await client.post("/rest/V1/products/attribute-sets", json=body)
    assert duplicate.status_code == 400
    for bad in (
        {"attributeSet": {"attribute_set_name": "X"}, "skeletonId": 0},
        {"attributeSet": {"attribute_set_name": "X", "attribute_set_id": 4}, "skeletonId": 4},
        {"attributeSet": {"attribute_set_name": " "}, "skeletonId": 4},
    ):
        assert (await client.post("/rest/V1/products/attribute-sets", json=bad)).status_code == 400
    unknown_skeleton = {"attributeSet": {"attribute_set_name": "Y"}, "skeletonId": 77}
    assert (await client.post("/rest/V1/products/attribute-sets", json=unknown_skeleton)).status_code == 404

    restored = MagentoState.from_dict(state.to_dict())
    assert restored.attribute_set_codes(set_id) == state.attribute_set_codes(set_id)


# websites and base prices


@pytest.mark.anyio
async def test_product_website_assignment(client: httpx2.AsyncClient, state: MagentoState, clock: ManualClock) -> None:
    ext = state.products["SIMPLE-1"]["extension_attributes"]
    stamp = state.products["SIMPLE-1"]["updated_at"]
    clock.advance(60)
    removed = await client.delete("/rest/all/V1/products/SIMPLE-1/websites/1")
    assert removed.json() is True
    assert ext["website_ids"] == []
    assert state.products["SIMPLE-1"]["updated_at"] > stamp

    link = {"productWebsiteLink": {"sku": "SIMPLE-1", "website_id": 1}}
    assert (await client.post("/rest/all/V1/products/SIMPLE-1/websites", json=link)).json() is True
    assert (await client.put("/rest/all/V1/products/SIMPLE-1/websites", json=link)).json() is True
    assert ext["website_ids"] == [1]

    unknown_site = {"productWebsiteLink": {"sku": "SIMPLE-1", "website_id": 42}}
    assert (await client.post("/rest/all/V1/products/SIMPLE-1/websites", json=unknown_site)).status_code == 400
    no_site = {"productWebsiteLink": {"sku": "SIMPLE-1"}}
    assert (await client.post("/rest/all/V1/products/SIMPLE-1/websites", json=no_site)).status_code == 400
    unknown_sku = {"productWebsiteLink": {"sku": "NOPE", "website_id": 1}}
    assert (await client.post("/rest/all/V1/products/NOPE/websites", json=unknown_sku)).status_code == 404
    assert (await client.delete("/rest/all/V1/products/NOPE/websites/1")).status_code == 404
    assert ext["website_ids"] == [1]


@pytest.mark.anyio
async def test_base_prices_information_reads_prices_of_priced_types(
    client: httpx2.AsyncClient, state: MagentoState
) -> None:
    await client.post("/rest/all/V1/products/base-prices", json={"prices": [{"sku": "EBOOK", "price": 7.5}]})
    response = await client.post(
        "/rest/V1/products/base-prices-information", json={"skus": ["simple-1", "EBOOK", "SHIRT", "NOPE"]}
    )
    assert response.status_code == 200
    expected = [(sku, state.products[sku]["price"], 0) for sku in ("SIMPLE-1", "EBOOK")]
    assert [(p["sku"], p["price"], p["store_id"]) for p in response.json()] == expected
    assert state.products["EBOOK"]["price"] == 7.5
    missing = await client.post("/rest/V1/products/base-prices-information", json={})
    assert missing.status_code == 400


# invoice refunds


async def _invoice(client: httpx2.AsyncClient, order_id: int, *, capture: bool = True) -> int:
    response = await client.post(f"/rest/V1/order/{order_id}/invoice", json={"capture": capture})
    assert response.status_code == 200
    return int(response.json())


@pytest.mark.anyio
async def test_invoice_refund_needs_a_refundable_paid_invoice(client: httpx2.AsyncClient, state: MagentoState) -> None:
    order_id = _order_id(state, "000000101")
    invoice_id = await _invoice(client, order_id)
    offline = await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json={"isOnline": False})
    assert state.orders[order_id]["payment"]["method"] != "paypal_express"
    assert offline.status_code == 400
    assert offline.json()["message"] == "We can't create creditmemo for the invoice."
    assert not state.creditmemos
    missing = await client.post("/rest/V1/invoice/9999/refund", json={})
    assert missing.status_code == 404

    other = _order_id(state, "000000102")
    state.orders[other]["payment"]["method"] = "paypal_express"
    unpaid = int(state.orders[other]["entity_id"])
    pending_invoice = next(i for i, inv in state.invoices.items() if inv["order_id"] == unpaid)
    state.invoices[pending_invoice]["state"] = 1
    assert (await client.post(f"/rest/V1/invoice/{pending_invoice}/refund", json={})).status_code == 400


@pytest.mark.anyio
async def test_invoice_refund_partial_then_rest(client: httpx2.AsyncClient, state: MagentoState) -> None:
    order_id = _order_id(state, "000000101")
    state.orders[order_id]["payment"]["method"] = "paypal_express"
    invoice_id = await _invoice(client, order_id)
    invoice = state.invoices[invoice_id]
    line = next(i for i in state.orders[order_id]["items"] if i["sku"] == "SIMPLE-1" and not i["parent_item_id"])

    too_many = {"items": [{"order_item_id": line["item_id"], "qty": 5}]}
    assert (await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json=too_many)).status_code == 400
    partial = {
        "items": [{"order_item_id": line["item_id"], "qty": 1}],
        "isOnline": True,
        "arguments": {"shipping_amount": 0},
        "appendComment": True,
        "comment": {"comment": "Broken mug"},
    }
    first = await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json=partial)
    assert first.status_code == 200
    first_memo = state.creditmemos[int(first.json())]
    assert first_memo["invoice_id"] == invoice_id
    assert [(i["order_item_id"], i["qty"]) for i in first_memo["items"]] == [(line["item_id"], 1)]
    assert first_memo["comments"][0]["comment"] == "Broken mug"
    assert invoice["base_total_refunded"] == first_memo["grand_total"]
    assert state.orders[order_id]["state"] == "processing"

    again = await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json=too_many | {"isOnline": True})
    assert again.status_code == 400
    rest = await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json={"isOnline": True})
    assert rest.status_code == 200
    second_memo = state.creditmemos[int(rest.json())]
    assert line["item_id"] not in {i["order_item_id"] for i in second_memo["items"]}
    assert invoice["base_total_refunded"] == pytest.approx(invoice["base_grand_total"])
    assert state.orders[order_id]["state"] == "closed"
    assert (await client.post(f"/rest/V1/invoice/{invoice_id}/refund", json={})).status_code == 400


# stocks and links


@pytest.mark.anyio
async def test_stock_update_moves_sales_channels_and_delete_guards(
    client: httpx2.AsyncClient, state: MagentoState
) -> None:
    serving = state.stock_for_website(1)
    created = await client.post("/rest/V1/inventory/stocks", json={"stock": {"name": "Spare"}})
    spare = int(created.json())
    renamed = await client.put(f"/rest/V1/inventory/stocks/{spare}", json={"stock": {"name": "Spare 2"}})
    assert renamed.json() == spare
    assert state.stocks[spare]["name"] == "Spare 2"
    assert state.stock_for_website(1) == serving
    assert (await client.put(f"/rest/V1/inventory/stocks/{spare}", json={"stock": {"name": ""}})).status_code == 400
    assert (await client.put("/rest/V1/inventory/stocks/999", json={"stock": {"name": "X"}})).status_code == 404

    channels = {"extension_attributes": {"sales_channels": [{"type": "website", "code": "base"}]}}
    await client.put(f"/rest/V1/inventory/stocks/{spare}", json={"stock": {"name": "Spare 2", **channels}})
    assert state.stock_for_website(1) == spare
    assert state.stocks[serving]["extension_attributes"]["sales_channels"] == []
    assigned = await client.delete(f"/rest/V1/inventory/stocks/{spare}")
    assert assigned.status_code == 400
    assert spare in state.stocks

    await client.put(f"/rest/V1/inventory/stocks/{serving}", json={"stock": {"name": "Back", **channels}})
    await client.post(
        "/rest/V1/inventory/stock-source-links", json={"links": [{"stock_id": spare, "source_code": "berlin"}]}
    )
    assert (await client.delete(f"/rest/V1/inventory/stocks/{spare}")).json() == []
    assert spare not in state.stocks
    assert state.stock_sources(spare) == []
    assert (await client.delete(f"/rest/V1/inventory/stocks/{spare}")).status_code == 404
    assert (await client.delete("/rest/V1/inventory/stocks/1")).status_code == 400
    assert 1 in state.stocks


@pytest.mark.anyio
async def test_stock_source_links_delete(client: httpx2.AsyncClient, state: MagentoState) -> None:
    stock_id = state.stock_for_website(1)
    assert "berlin" in state.stock_sources(stock_id)
    body = {"links": [{"stock_id": stock_id, "source_code": "berlin"}, {"stock_id": stock_id, "source_code": "x"}]}
    response = await client.post("/rest/V1/inventory/stock-source-links-delete", json=body)
    assert response.json() == []
    assert "berlin" not in state.stock_sources(stock_id)
    assert "berlin" in state.sources

    default_pair = {"links": [{"stock_id": 1, "source_code": "default"}]}
    refused = await client.post("/rest/V1/inventory/stock-source-links-delete", json=default_pair)
    assert refused.status_code == 400
    assert state.stock_sources(1) == ["default"]
    assert (await client.post("/rest/V1/inventory/stock-source-links-delete", json={"links": []})).status_code == 400
    assert (await client.post("/rest/V1/inventory/stock-source-links-delete", json={})).status_code == 400


# salability


def _expected_salable(state: MagentoState, sku: str, stock_id: int) -> bool:
    product = state.products[sku]
    if product["type_id"] not in SOURCE_ITEM_TYPES or product["status"] != 1:
        return False
    return state.salable_qty(sku, stock_id) > 0


@pytest.mark.anyio
async def test_salability_agrees_with_salable_quantity(client: httpx2.AsyncClient, state: MagentoState) -> None:
    stock_id = state.stock_for_website(1)
    await client.put("/rest/all/V1/products/SHIRT-BLUE", json={"product": {"status": 2}})
    state.set_source_item("SIMPLE-1", "berlin", 0, 1)
    state.set_source_item("SIMPLE-1", "default", 0, 1)
    assert state.salable_qty("SHIRT-BLUE", stock_id) > 0
    skus = sorted(state.products)
    for stock in (1, stock_id):
        singles = {}
        for sku in skus:
            response = await client.get(f"/rest/V1/inventory/is-product-salable/{sku}/{stock}")
            singles[sku] = response.json()
            assert singles[sku] is _expected_salable(state, sku, stock), (sku, stock)
            if state.products[sku]["type_id"] in SOURCE_ITEM_TYPES:
                qty = (await client.get(f"/rest/V1/inventory/get-product-salable-quantity/{sku}/{stock}")).json()
                enabled = state.products[sku]["status"] == 1
                assert singles[sku] is (enabled and qty > 0)
        params = {f"skus[{i}]": sku for i, sku in enumerate([*skus, "NOPE"])} | {"stockId": str(stock)}
        bulk = (await client.get("/rest/V1/inventory/are-products-salable", params=params)).json()
        assert bulk == [{"sku": sku, "stock_id": stock, "salable": singles[sku]} for sku in skus] + [
            {"sku": "NOPE", "stock_id": stock, "salable": False}
        ]
    assert not any(_expected_salable(state, s, stock_id) for s in ("SHIRT", "SHIRT-BLUE", "SIMPLE-1", "KIT"))
    assert _expected_salable(state, "SHIRT-RED", stock_id)


@pytest.mark.anyio
async def test_are_products_salable_parameters(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/rest/V1/inventory/are-products-salable", params={"stockId": "1"})).status_code == 400
    no_stock = await client.get("/rest/V1/inventory/are-products-salable", params={"skus[0]": "SIMPLE-1"})
    assert no_stock.status_code == 400
    unknown = await client.get("/rest/V1/inventory/are-products-salable", params={"skus[0]": "A", "stockId": "99"})
    assert unknown.status_code == 404
    single = await client.get("/rest/V1/inventory/are-products-salable", params={"skus": "EBOOK", "stockId": "1"})
    assert [r["sku"] for r in single.json()] == ["EBOOK"]


# seed catalogs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(min_value=1, max_value=20), seed=st.integers(min_value=0, max_value=10_000))
def test_generated_catalogs_load(size: int, seed: int) -> None:
    catalog = generate(size, seed, now=NOW)
    state = MagentoState()
    state.load_catalog(catalog)
    virtual = {p.sku for p in catalog.products if p.type == "virtual"}
    wanted = {}
    for order in catalog.orders:
        if order.origin == "magento":
            only_virtual = all(line.sku in virtual for line in order.lines)
            invoiced_in_full = order.status == "processing" and only_virtual
            wanted[order.number] = "complete" if invoiced_in_full else ORDER_STATES[order.status]
    assert {o["increment_id"]: o["state"] for o in state.orders.values()} == wanted


@pytest.mark.parametrize(("size", "seed"), [(20, 1), (1, 1), (7, 3)])
def test_known_catalogs_load(size: int, seed: int) -> None:
    state = MagentoState()
    state.load_catalog(generate(size, seed, now=NOW))
    assert state.orders
