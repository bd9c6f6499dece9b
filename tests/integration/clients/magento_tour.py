"""A tour of every public method of the Magento client against a seeded sandbox (no faults), checking the
answers against the sandbox state. The lead runs it under a recorder for the contract tests.

Every call must succeed: the sandbox serves every route the client uses.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any

from plentysync.magento import KEEP_ADDRESSES, MagentoClient, SearchCriteria, list_fields
from plentysync.magento.models.attributes import AttributeOptionInput, AttributeSetInput, ProductAttributeInput
from plentysync.magento.models.categories import CategoryInput
from plentysync.magento.models.common import CustomAttributeInput
from plentysync.magento.models.customers import AddressInput, CustomerInput
from plentysync.magento.models.inventory import (
    SourceInput,
    SourceItemInput,
    SourceItemKey,
    StockInput,
    StockItemInput,
    StockSourceLinkInput,
)
from plentysync.magento.models.orders import (
    CommentInput,
    CreditmemoArguments,
    ItemQty,
    OrderInput,
    ShipmentTrackInput,
    StatusHistoryInput,
    TrackInput,
)
from plentysync.magento.models.products import (
    BasePriceInput,
    ConfigurableOptionInput,
    ConfigurableValueInput,
    ImageContent,
    MediaEntryInput,
    ProductExtensionInput,
    ProductInput,
)
from plentysync.sandbox.magento import MagentoState

PIXEL = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")).decode()


async def magento_tour(client: MagentoClient, state: MagentoState) -> None:
    await _stores(client, state)
    await _attributes(client, state)
    await _products(client, state)
    await _categories(client, state)
    await _customers(client, state)
    await _orders(client, state)
    await _inventory(client, state)


async def _stores(client: MagentoClient, state: MagentoState) -> None:
    websites = await client.stores.websites()
    assert {w.id for w in websites} == {i for i in state.websites if i != 0}
    groups = await client.stores.store_groups(include_admin=True)
    assert {g.id for g in groups} == set(state.store_groups)
    views = await client.stores.store_views()
    assert {v.code for v in views} == {v["code"] for i, v in state.store_views.items() if i != 0}
    configs = await client.stores.store_configs([views[0].code or "default"])
    assert [c.code for c in configs] == [views[0].code]
    countries = await client.stores.countries()
    assert countries
    country = await client.stores.country("DE")
    assert country.two_letter_abbreviation == "DE"


async def _attributes(client: MagentoClient, state: MagentoState) -> None:
    codes = [a.attribute_code async for a in client.attributes.search(page_size=5)]
    assert set(codes) == set(state.attributes)
    color = await client.attributes.get("color")
    assert color.attribute_code == "color"
    options = await client.attributes.options("color")
    option_id = await client.attributes.add_option("color", AttributeOptionInput(label="Tour Teal"))
    after = await client.attributes.options("color")
    assert len(after) == len(options) + 1
    assert str(option_id) in {o.value for o in after}
    assert await client.attributes.delete_option("color", option_id)
    created = await client.attributes.create(
        ProductAttributeInput(attribute_code="tour_material", default_frontend_label="Material", frontend_input="text")
    )
    assert created.attribute_code == "tour_material"
    updated = await client.attributes.update(
        "tour_material", ProductAttributeInput(attribute_code="tour_material", default_frontend_label="Stoff")
    )
    assert updated.default_frontend_label == "Stoff"
    assert state.attributes["tour_material"]["default_frontend_label"] == "Stoff"
    assert state.attributes["tour_material"]["frontend_input"] == "text"
    assert await client.attributes.delete("tour_material")
    assert "tour_material" not in state.attributes
    sets = [s async for s in client.attributes.attribute_sets()]
    assert {s.attribute_set_id for s in sets} == set(state.attribute_sets)
    set_id = sets[0].attribute_set_id or 4
    got = await client.attributes.attribute_set(set_id)
    assert got.attribute_set_name == state.attribute_sets[set_id]["attribute_set_name"]
    members = await client.attributes.attribute_set_attributes(set_id)
    assert {a.attribute_code for a in members} == set(state.attribute_set_codes(set_id))
    new_set = await client.attributes.create_attribute_set(
        AttributeSetInput(attribute_set_name="Tour Set"), skeleton_id=set_id
    )
    new_set_id = new_set.attribute_set_id or 0
    assert state.attribute_sets[new_set_id]["attribute_set_name"] == "Tour Set"
    assert state.attribute_set_codes(new_set_id) == state.attribute_set_codes(set_id)


async def _products(client: MagentoClient, state: MagentoState) -> None:
    skus = [p.sku async for p in client.products.search(fields=list_fields("sku"), page_size=50)]
    assert sorted(s or "" for s in skus) == sorted(state.products)
    pages = [
        page async for page in client.products.pages(SearchCriteria().where("type_id", "configurable"), page_size=3)
    ]
    parents = [p for page in pages for p in page.items]
    assert {p.sku for p in parents} == {s for s, r in state.products.items() if r.get("type_id") == "configurable"}
    types = await client.products.types()
    assert "configurable" in {t.name for t in types}
    slash_sku = next(s for s in state.products if "/" in s)
    assert (await client.products.get(slash_sku)).sku == slash_sku
    assert await client.products.find("NO-SUCH-SKU") is None

    simple = ProductInput(
        sku="TOUR-1/A",
        name="Tour shirt",
        attribute_set_id=4,
        price=19.99,
        status=1,
        visibility=4,
        type_id="simple",
        extension_attributes=ProductExtensionInput(website_ids=[1]),
        custom_attributes=[CustomAttributeInput(attribute_code="url_key", value="tour-shirt-1")],
    )
    saved = await client.products.save(simple)
    assert saved.sku == "TOUR-1/A"
    assert "TOUR-1/A" in state.products
    updated = await client.products.update("TOUR-1/A", ProductInput(sku="TOUR-1/A", name="Tour-Hemd"), store="default")
    assert updated.sku == "TOUR-1/A"
    media_id = await client.products.add_media(
        "TOUR-1/A",
        MediaEntryInput(
            label="front",
            types=["image"],
            content=ImageContent(base64_encoded_data=PIXEL, type="image/png", name="f.png"),
        ),
    )
    entries = await client.products.media("TOUR-1/A")
    assert media_id in {e.id for e in entries}
    assert (await client.products.get_media("TOUR-1/A", media_id)).id == media_id
    assert await client.products.update_media("TOUR-1/A", media_id, MediaEntryInput(label="back", types=["image"]))
    assert await client.products.delete_media("TOUR-1/A", media_id)
    websites = state.products["TOUR-1/A"]["extension_attributes"]
    assert await client.products.unassign_website("TOUR-1/A", 1)
    assert 1 not in websites["website_ids"]
    assert await client.products.assign_website("TOUR-1/A", 1)
    assert websites["website_ids"] == [1]
    failures = await client.products.update_base_prices([BasePriceInput(sku="TOUR-1/A", price=24.5)])
    assert failures == []
    assert (await client.products.get("TOUR-1/A")).price == 24.5
    prices = await client.products.base_prices(["TOUR-1/A", "NO-SUCH-SKU"])
    assert [(p.sku, p.price) for p in prices] == [("TOUR-1/A", state.products["TOUR-1/A"]["price"])]

    size = await client.attributes.get("size")
    size_values = [o for o in await client.attributes.options("size")]
    await client.products.save(
        ProductInput(
            sku="TOUR-CFG", name="Tour cfg", attribute_set_id=4, type_id="configurable", status=1, visibility=4
        )
    )
    child = ProductInput(
        sku="TOUR-CFG-S",
        name="Tour cfg S",
        attribute_set_id=4,
        price=10,
        type_id="simple",
        status=1,
        visibility=1,
        custom_attributes=[CustomAttributeInput(attribute_code="size", value=size_values[0].value or "")],
    )
    await client.products.save(child)
    option_id = await client.products.add_configurable_option(
        "TOUR-CFG",
        ConfigurableOptionInput(
            attribute_id=str(size.attribute_id),
            label="Size",
            position=0,
            values=[ConfigurableValueInput(value_index=int(size_values[0].value or 0))],
        ),
    )
    assert option_id in {o.id for o in await client.products.configurable_options("TOUR-CFG")}
    assert await client.products.add_child("TOUR-CFG", "TOUR-CFG-S")
    assert [c.sku for c in await client.products.children("TOUR-CFG")] == ["TOUR-CFG-S"]
    assert await client.products.remove_child("TOUR-CFG", "TOUR-CFG-S")
    assert await client.products.delete("TOUR-CFG-S")
    assert "TOUR-CFG-S" not in state.products


async def _categories(client: MagentoClient, state: MagentoState) -> None:
    tree = await client.categories.tree()
    assert {n.id for n in tree.walk()} >= {i for i in state.categories if i != 1}
    listed = [c async for c in client.categories.search(page_size=10)]
    assert {c.id for c in listed} == set(state.categories)
    created = await client.categories.create(
        CategoryInput(parent_id=2, name="Tour", is_active=True, include_in_menu=True)
    )
    assert created.id in state.categories
    cid = created.id or 0
    got = await client.categories.get(cid)
    assert got.name == "Tour"
    renamed = await client.categories.update(cid, CategoryInput(name="Tour DE"), store="default")
    assert renamed.id == cid
    other = next(c.id for c in listed if c.level == 2 and c.id != cid)
    assert other is not None
    assert await client.categories.move(cid, other)
    sku = next(iter(state.products))
    assert await client.categories.assign_product(cid, sku, position=3)
    assert [link.sku for link in await client.categories.products(cid)] == [sku]
    assert await client.categories.remove_product(cid, sku)
    assert await client.categories.delete(cid)
    assert cid not in state.categories


async def _customers(client: MagentoClient, state: MagentoState) -> None:
    ids = [c.id async for c in client.customers.search(SearchCriteria().order_by("entity_id"), page_size=20)]
    assert sorted(i for i in ids if i is not None) == sorted(state.customers)
    first = await client.customers.get(ids[0] or 0)
    assert first.email == state.customers[ids[0] or 0]["email"]
    address = AddressInput(
        country_id="DE",
        street=["Tourweg 1"],
        city="Berlin",
        postcode="10115",
        firstname="Tia",
        lastname="Tour",
        telephone="030 1",
        default_billing=True,
        default_shipping=True,
    )
    who = CustomerInput(email="tour@example.com", firstname="Tia", lastname="Tour", website_id=1, group_id=1)
    created = await client.customers.create(who, addresses=[address])
    assert created.id in state.customers
    cid = created.id or 0
    found = await client.customers.find_by_email("tour@example.com", website_id=1)
    assert found is not None
    assert found.id == cid
    kept = await client.customers.update(cid, who.model_copy(update={"lastname": "Tour2"}), addresses=KEEP_ADDRESSES)
    assert len(kept.addresses or []) == 1
    cleared = await client.customers.update(cid, who, addresses=[])
    assert not cleared.addresses
    groups = [g async for g in client.customers.groups()]
    assert {g.id for g in groups} == set(state.customer_groups)
    assert (await client.customers.group(1)).id == 1
    assert (await client.customers.default_group()).id is not None
    assert await client.customers.delete(cid)
    assert cid not in state.customers


async def _orders(client: MagentoClient, state: MagentoState) -> None:
    ids = [o.entity_id async for o in client.orders.search(fields=list_fields("entity_id", "status"), page_size=25)]
    assert sorted(i for i in ids if i is not None) == sorted(state.orders)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    changed = [o async for o in client.orders.changed_since(since, page_size=30)]
    stamps = [o.updated_at for o in changed]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    pages = [p async for p in client.orders.pages(SearchCriteria().where("state", "new"), page_size=4)]
    new_ids = [o.entity_id for p in pages for o in p.items]
    assert set(new_ids) == {i for i, o in state.orders.items() if o["state"] == "new"}
    target = await client.orders.get(new_ids[0] or 0)
    assert (await client.orders.find_by_increment_id(target.increment_id or "")) is not None
    oid = target.entity_id or 0
    assert await client.orders.status(oid) == target.status
    assert await client.orders.add_comment(oid, StatusHistoryInput(comment="tour", status=target.status))
    assert "tour" in [c.comment for c in await client.orders.comments(oid)]
    assert await client.orders.hold(oid)
    assert state.orders[oid]["state"] == "holded"
    assert await client.orders.unhold(oid)
    invoice_id = await client.orders.invoice(oid, capture=True, comment=CommentInput(comment="paid"))
    assert invoice_id in state.invoices
    assert (await client.orders.get_invoice(invoice_id)).order_id == oid
    assert invoice_id in {i.entity_id async for i in client.orders.invoices(SearchCriteria().where("order_id", oid))}
    shipment_id = await client.orders.ship(
        oid, tracks=[TrackInput(track_number="T-1", title="DHL", carrier_code="dhl")]
    )
    assert shipment_id in state.shipments
    track = await client.orders.add_track(
        ShipmentTrackInput(order_id=oid, parent_id=shipment_id, track_number="T-2", title="UPS")
    )
    shipment = await client.orders.get_shipment(shipment_id)
    assert {t.track_number for t in shipment.tracks or []} >= {"T-1", "T-2"}
    assert await client.orders.delete_track(track.entity_id or 0)
    assert shipment_id in {s.entity_id async for s in client.orders.shipments(SearchCriteria().where("order_id", oid))}
    item_id = next(i.item_id for i in target.lines)
    memo_id = await client.orders.refund(
        oid, items=[ItemQty(order_item_id=item_id or 0, qty=1)], arguments=CreditmemoArguments(shipping_amount=0)
    )
    assert memo_id in state.creditmemos
    assert (await client.orders.get_creditmemo(memo_id)).order_id == oid
    assert memo_id in {c.entity_id async for c in client.orders.creditmemos()}
    await _refund_invoice(client, state, [i for i in new_ids[2:] if i is not None])
    cancel_id = new_ids[1] or 0
    assert await client.orders.cancel(cancel_id)
    assert state.orders[cancel_id]["state"] == "canceled"

    template: dict[str, Any] = dict(state.orders[oid])
    raw = OrderInput(
        ext_order_id="TOUR-EXT-1",
        customer_email="raw@example.com",
        grand_total=10,
        base_grand_total=10,
        store_id=template.get("store_id"),
        customer_is_guest=1,
        state="new",
        status="pending",
        items=[{"sku": target.lines[0].sku, "name": "x", "qty_ordered": 1, "price": 10, "product_type": "simple"}],
        payment={"method": "checkmo"},
        billing_address=template.get("billing_address"),
    )
    created = await client.orders.create(raw)
    assert created.entity_id in state.orders
    assert (await client.orders.find_by_ext_order_id("TOUR-EXT-1")) is not None


async def _refund_invoice(client: MagentoClient, state: MagentoState, candidates: list[int]) -> None:
    """Invoice refunds need a payment method that can refund (a gateway such as PayPal Express)."""
    order_id = next(i for i in candidates if state.orders[i]["payment"]["method"] == "paypal_express")
    invoice_id = await client.orders.invoice(order_id, capture=True)
    memo_id = await client.orders.refund_invoice(invoice_id, online=True)
    memo = state.creditmemos[memo_id]
    assert memo["invoice_id"] == invoice_id
    assert state.invoices[invoice_id]["base_total_refunded"] == memo["grand_total"]
    assert math.isclose(state.orders[order_id]["total_refunded"], memo["grand_total"], abs_tol=0.005)
    assert (await client.orders.get_creditmemo(memo_id)).order_id == order_id


async def _inventory(client: MagentoClient, state: MagentoState) -> None:
    codes = [s.source_code async for s in client.inventory.sources()]
    assert set(codes) == set(state.sources)
    assert (await client.inventory.source("default")).source_code == "default"
    await client.inventory.save_source(SourceInput(source_code="tour", name="Tour", country_id="DE", postcode="10115"))
    assert "tour" in state.sources
    await client.inventory.update_source("tour", SourceInput(source_code="tour", name="Tour 2"))
    assert state.sources["tour"]["name"] == "Tour 2"
    stocks = [s.stock_id async for s in client.inventory.stocks()]
    assert set(stocks) == set(state.stocks)
    assert (await client.inventory.stock(1)).stock_id == 1
    stock_id = await client.inventory.create_stock(StockInput(name="Tour stock"))
    assert stock_id in state.stocks
    assert await client.inventory.update_stock(stock_id, StockInput(name="Tour stock 2")) == stock_id
    assert state.stocks[stock_id]["name"] == "Tour stock 2"
    links = [link async for link in client.inventory.stock_source_links()]
    assert len(links) == len(state.stock_source_links)
    await client.inventory.link_sources([StockSourceLinkInput(stock_id=stock_id, source_code="tour")])
    assert any(link["source_code"] == "tour" for link in state.stock_source_links)
    await client.inventory.unlink_sources([StockSourceLinkInput(stock_id=stock_id, source_code="tour")])
    assert state.stock_sources(stock_id) == []
    await client.inventory.delete_stock(stock_id)
    assert stock_id not in state.stocks

    items = [i async for i in client.inventory.source_items(page_size=50)]
    assert len(items) == len(state.source_items)
    sku = next(s for s, r in state.products.items() if r.get("type_id") == "simple" and r.get("status") == 1)
    sent = await client.inventory.save_source_items(
        [
            SourceItemInput(sku=sku, source_code="tour", quantity=7),
            SourceItemInput(sku=sku, source_code="default", quantity=5),
        ],
        chunk_size=1,
    )
    assert sent == 2
    assert state.source_items[(sku, "tour")]["quantity"] == 7
    mine = [i async for i in client.inventory.source_items_for([sku], source_code="tour")]
    assert [i.quantity for i in mine] == [7]
    assert await client.inventory.delete_source_items([SourceItemKey(sku=sku, source_code="tour")]) == 1
    assert (sku, "tour") not in state.source_items
    salable = await client.inventory.salable_quantity(sku, 1)
    assert salable == state.salable_qty(sku, 1)
    assert await client.inventory.is_salable(sku, 1) == (salable > 0)
    results = await client.inventory.are_salable([sku, "NO-SUCH-SKU"], 1)
    assert [(r.sku, r.stock_id, r.salable) for r in results] == [(sku, 1, salable > 0), ("NO-SUCH-SKU", 1, False)]
    item = await client.inventory.stock_item(sku)
    assert item.qty == 5
    assert (
        await client.inventory.update_stock_item(sku, item.item_id or 1, StockItemInput(qty=6, is_in_stock=True))
        == item.item_id
    )
    assert state.source_items[(sku, "default")]["quantity"] == 6
    status = await client.inventory.stock_status(sku)
    assert status.qty == 6
