"""A tour of every public method of the PlentyONE client against a seeded sandbox (no faults).

The lead runs it under a recorder and validates every exchange against the official spec, so it
calls each method at least once and checks the answers against the sandbox's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from plentysync.plenty import PlentyClient
from plentysync.plenty.models import (
    AccountCreate,
    AddressCreate,
    AddressRelationWrite,
    AttributeCreate,
    AttributeValueCreate,
    CategoryCreate,
    CategoryDetailWrite,
    CategoryRef,
    ContactCreate,
    ContactOptionWrite,
    DescriptionWrite,
    IncomingRow,
    ItemCreate,
    OrderCreate,
    OrderItemAmountWrite,
    OrderItemWrite,
    OrderStatus,
    OutgoingRow,
    PaymentCreate,
    PaymentPropertyWrite,
    PropertyWrite,
    RelationWrite,
    SalesPriceWrite,
    ShippingPackageCreate,
    StockCorrectionRow,
    UnitLink,
    VariationCreate,
    VariationUpdate,
)
from plentysync.sandbox.plenty import PlentyState

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def tour(plenty: PlentyClient, state: PlentyState) -> None:
    plenty_id = state.plenty_id
    await plenty.login()
    assert (await plenty.whoami()).id is not None

    # -- reference data -----------------------------------------------------------------------
    stores = await plenty.reference.webstores()
    assert plenty_id in {s.storeIdentifier for s in stores}
    warehouses = await plenty.reference.warehouses()
    assert {w.id for w in warehouses} == set(state.warehouses)
    warehouse_id = warehouses[0].id
    assert warehouse_id is not None
    assert (await plenty.reference.warehouse(warehouse_id)).id == warehouse_id
    countries = await plenty.reference.countries()
    assert any(c.isoCode2 == "DE" for c in countries)
    assert await plenty.reference.countries(active_only=True)
    assert (await plenty.reference.vat_standard(plenty_id)).vatRates
    vat_configs = [c async for c in plenty.reference.vat_configs()]
    assert {c.id for c in vat_configs} == {state.vat_standard["id"]}
    assert all(c.vatRates for c in vat_configs)
    assert [u async for u in plenty.reference.units()]
    price_configs = [p async for p in plenty.reference.sales_price_configs()]
    assert {p.id for p in price_configs} == {p["id"] for p in state.sales_prices}

    # -- categories ---------------------------------------------------------------------------
    categories = [c async for c in plenty.categories.list_categories(with_=["details"], items_per_page=5)]
    assert {c.id for c in categories} >= set(state.categories)
    some_category = categories[0].id
    assert some_category is not None
    assert (await plenty.categories.get_category(some_category, with_=["details"])).id == some_category
    created_categories = await plenty.categories.create_categories(
        [CategoryCreate(details=[CategoryDetailWrite(plentyId=plenty_id, lang="de", name="Tour")])]
    )
    new_category = created_categories[0].id
    assert new_category in state.categories

    # -- attributes ---------------------------------------------------------------------------
    attributes = [a async for a in plenty.attributes.list_attributes()]
    assert {a.id for a in attributes} == set(state.attributes)
    attribute_id = attributes[0].id
    assert attribute_id is not None
    assert (await plenty.attributes.get_attribute(attribute_id)).id == attribute_id
    assert isinstance(await plenty.attributes.list_names(attribute_id), list)
    values = [v async for v in plenty.attributes.list_values(attribute_id)]
    assert values
    value_id = values[0].id
    assert value_id is not None
    assert {n.lang for n in await plenty.attributes.list_value_names(value_id)}
    new_attribute = await plenty.attributes.create_attribute(AttributeCreate(backendName="tour-size"))
    assert new_attribute.id in state.attributes
    assert new_attribute.id is not None
    name = await plenty.attributes.add_name(new_attribute.id, "en", "Size")
    assert name.name == "Size"
    new_value = await plenty.attributes.create_value(new_attribute.id, AttributeValueCreate(backendName="xl"))
    assert new_value.id in state.attribute_values
    assert new_value.id is not None
    assert (await plenty.attributes.add_value_name(new_value.id, "en", "XL")).name == "XL"
    assert isinstance([p async for p in plenty.attributes.list_properties()], list)

    # -- items and variations -----------------------------------------------------------------
    items = [i async for i in plenty.items.list_items(items_per_page=10)]
    assert {i.id for i in items} == set(state.items)
    item_id = items[0].id
    assert item_id is not None
    assert (await plenty.items.get_item(item_id, lang="de")).id == item_id
    variations = [v async for v in plenty.items.search_variations(with_=["variationBarcodes"], items_per_page=25)]
    assert {v.id for v in variations} == set(state.variations)
    number = variations[0].number
    assert number is not None
    found = await plenty.items.find_variation_by_number(number)
    assert found is not None
    assert found.id == variations[0].id
    assert await plenty.items.find_variation_by_number("no-such-number-tour") is None
    of_item = [v async for v in plenty.items.list_variations(item_id)]
    assert {v.id for v in of_item} == {vid for vid, v in state.variations.items() if v["itemId"] == item_id}
    variation_id = of_item[0].id
    assert variation_id is not None
    assert (await plenty.items.get_variation(item_id, variation_id, with_=["variationClients"])).id == variation_id
    barcode_types = [b async for b in plenty.items.barcode_types()]
    barcode_type = barcode_types[0].id
    assert barcode_type is not None

    new_item = await plenty.items.create_item(
        ItemCreate(
            variations=[
                VariationCreate(
                    number="TOUR-1",
                    name="Tour item",
                    unit=UnitLink(unitId=1),
                    variationCategories=[CategoryRef(categoryId=some_category)],
                )
            ]
        )
    )
    assert new_item.id in state.items
    assert new_item.id is not None
    main_variation = new_item.mainVariationId or (new_item.variations or [])[0].id
    assert main_variation is not None
    second = await plenty.items.create_variation(new_item.id, VariationCreate(number="TOUR-2", unit=UnitLink(unitId=1)))
    assert second.id in state.variations
    updated = await plenty.items.update_variation(new_item.id, main_variation, VariationUpdate(isActive=True))
    assert updated.isActive is True

    barcode = await plenty.items.add_barcode(new_item.id, main_variation, barcode_type, "4006381333931")
    assert barcode.code == "4006381333931"
    assert [b.code for b in await plenty.items.list_barcodes(new_item.id, main_variation)] == ["4006381333931"]
    changed = await plenty.items.update_barcode(new_item.id, main_variation, barcode_type, "4006381333948")
    assert changed.code == "4006381333948"
    assert [b["code"] for b in state.variation_links(main_variation, "variationBarcodes")] == ["4006381333948"]
    await plenty.items.delete_barcode(new_item.id, main_variation, barcode_type)
    assert state.variation_links(main_variation, "variationBarcodes") == []

    price_id = price_configs[0].id
    assert price_id is not None
    price = SalesPriceWrite(variationId=main_variation, salesPriceId=price_id, price=Decimal("19.99"))
    assert (await plenty.items.add_sales_price(new_item.id, main_variation, price)).price == Decimal("19.99")
    assert await plenty.items.list_sales_prices(new_item.id, main_variation)
    repriced = await plenty.items.update_sales_price(
        new_item.id, main_variation, price.model_copy(update={"price": Decimal("17.5")})
    )
    assert repriced.price == Decimal("17.5")
    stored_prices = state.variation_links(main_variation, "variationSalesPrices")
    assert {p["salesPriceId"]: p["price"] for p in stored_prices} == {price_id: 17.5}

    assert some_category in {c.categoryId for c in await plenty.items.list_categories(new_item.id, main_variation)}
    extra_category = new_category or some_category
    await plenty.items.link_category(new_item.id, main_variation, extra_category, position=1)
    assert extra_category in {c["categoryId"] for c in state.variation_links(main_variation, "variationCategories")}
    await plenty.items.unlink_category(new_item.id, main_variation, extra_category)
    assert {c["categoryId"] for c in state.variation_links(main_variation, "variationCategories")} == {some_category}
    await plenty.items.link_client(new_item.id, main_variation, plenty_id)
    assert plenty_id in {c.plentyId for c in await plenty.items.list_clients(new_item.id, main_variation)}
    await plenty.items.unlink_client(new_item.id, main_variation, plenty_id)
    assert plenty_id not in {c["plentyId"] for c in state.variation_links(main_variation, "variationClients")}

    text = DescriptionWrite(lang="en", name="Tour item", description="<p>tour</p>")
    assert (await plenty.items.create_text(new_item.id, main_variation, text)).name == "Tour item"
    assert "en" in {t.lang for t in await plenty.items.list_texts(new_item.id, main_variation)}
    renamed = await plenty.items.update_text(new_item.id, main_variation, text.model_copy(update={"name": "Tour 2"}))
    assert renamed.name == "Tour 2"
    stored_text = state.item_text(new_item.id, "en")
    assert stored_text is not None
    assert (stored_text["name"], stored_text["description"]) == ("Tour 2", "<p>tour</p>")

    # -- stock --------------------------------------------------------------------------------
    stock_variation, stock_warehouse = state.stock_pairs()[0]
    stock_item = int(state.variations[stock_variation]["itemId"])
    await plenty.stock.corrections(
        stock_warehouse, [StockCorrectionRow(variationId=stock_variation, quantity=Decimal(10))]
    )
    assert state.stock_at_location(stock_variation, stock_warehouse, 0) == 10
    now = datetime.now(UTC)
    await plenty.stock.book_incoming(
        stock_warehouse, [IncomingRow(variationId=stock_variation, quantity=Decimal(5), deliveredAt=now)]
    )
    await plenty.stock.book_outgoing(
        stock_warehouse, [OutgoingRow(variationId=stock_variation, quantity=Decimal(-3), deliveredAt=now)]
    )
    assert state.stock_at_location(stock_variation, stock_warehouse, 0) == 12
    rows = [s async for s in plenty.stock.list_stock(updated_from=now - timedelta(minutes=5), items_per_page=10)]
    assert stock_variation in {r.variationId for r in rows}
    assert [s async for s in plenty.stock.list_stock(variation_id=stock_variation)]
    per_warehouse = [s async for s in plenty.stock.warehouse_stock(stock_warehouse, variation_id=stock_variation)]
    assert [r.stockPhysical for r in per_warehouse] == [state.stock_of(stock_variation, stock_warehouse).physical]
    movements = [m async for m in plenty.stock.movements(stock_warehouse, variation_id=stock_variation)]
    assert {m.reason for m in movements} >= {301, 101, 201}
    per_variation = await plenty.stock.variation_stock(stock_item, stock_variation)
    assert stock_warehouse in {s.warehouseId for s in per_variation}

    # -- contacts -----------------------------------------------------------------------------
    contacts = [c async for c in plenty.contacts.list_contacts(with_=["addresses"], items_per_page=7)]
    assert {c.id for c in contacts} == set(state.contacts)
    known = next(c for c in contacts if c.email)
    assert known.email is not None
    assert known.id is not None
    assert known.id in {c.id for c in await plenty.contacts.find_by_email(known.email, include_guests=True)}
    assert (await plenty.contacts.get(known.id, with_=["addresses"])).id == known.id
    assert isinstance(await plenty.contacts.addresses(known.id), list)
    contact = await plenty.contacts.create(
        ContactCreate(
            referrerId=Decimal(1),
            plentyId=plenty_id,
            firstName="Tour",
            lastName="Guide",
            options=[ContactOptionWrite(typeId=2, subTypeId=4, value="tour@example.com")],
        )
    )
    assert contact.id in state.contacts
    assert contact.id is not None
    address = await plenty.contacts.add_address(
        contact.id,
        AddressCreate(name2="Tour", name3="Guide", address1="Main St", address2="1", town="Kassel", countryId=1),
    )
    assert address.id in state.addresses
    assert address.id is not None
    assert address.id in {a.id for a in await plenty.contacts.addresses(contact.id, 1)}
    accounts = await plenty.contacts.list_accounts()
    assert {a.id for a in accounts} == set(state.accounts)
    account = await plenty.contacts.create_account(AccountCreate(companyName="Tour GmbH"))
    assert account.id is not None
    assert (await plenty.contacts.get_account(account.id)).companyName == "Tour GmbH"
    classes = await plenty.contacts.customer_classes()
    assert {str(c.id) for c in classes} == set(state.contact_classes)

    # -- orders -------------------------------------------------------------------------------
    statuses = [s async for s in plenty.orders.statuses()]
    assert Decimal(3) in {s.statusId for s in statuses}
    referrers = await plenty.orders.referrers()
    assert all(isinstance(r.id, Decimal) for r in referrers)
    profiles = await plenty.orders.shipping_profiles()
    assert profiles
    polled = [o async for o in plenty.orders.list_updated(LONG_AGO, with_=["addresses"], items_per_page=4)]
    assert {o.id for o in polled} == set(state.orders)
    order = await plenty.orders.create(
        OrderCreate(
            plentyId=plenty_id,
            statusId=Decimal(3),
            orderItems=[
                OrderItemWrite(
                    quantity=Decimal(2),
                    orderItemName="Tour item",
                    itemVariationId=main_variation,
                    referrerId=Decimal(1),
                    countryVatId=1,
                    vatField=0,
                    amounts=[OrderItemAmountWrite(priceOriginalGross=Decimal("19.99"))],
                )
            ],
            properties=[PropertyWrite(typeId=7, value="TOUR-ORDER-1"), PropertyWrite(typeId=6, value="de")],
            addressRelations=[AddressRelationWrite(typeId=t, addressId=address.id) for t in (1, 2)],
            relations=[RelationWrite(referenceType="contact", referenceId=contact.id, relation="receiver")],
        )
    )
    assert order.id in state.orders
    assert order.id is not None
    assert [o.id for o in await plenty.orders.find_by_external_order_id("TOUR-ORDER-1", plenty_id)] == [order.id]
    got = await plenty.orders.get(order.id, with_=["addresses", "orderItems.variation"])
    assert got.external_order_id == "TOUR-ORDER-1"
    moved = await plenty.orders.update_status(order.id, Decimal("5.1") if _has_status(statuses, "5.1") else Decimal(5))
    assert moved.statusId == Decimal(str(state.orders[order.id]["statusId"]))
    package = await plenty.orders.create_package(order.id, ShippingPackageCreate(packageId=1, packageNumber="TRACK-1"))
    assert package.packageNumber == "TRACK-1"
    assert "TRACK-1" in {p.packageNumber for p in await plenty.orders.list_packages(order.id)}

    # -- payments -----------------------------------------------------------------------------
    methods = await plenty.payments.methods()
    assert {m.id for m in methods} == {m["id"] for m in state.payment_methods}
    mop = methods[0].id
    assert mop is not None
    payment = await plenty.payments.create(
        PaymentCreate(
            amount=Decimal("39.98"), mopId=mop, properties=[PaymentPropertyWrite(typeId=1, value="TOUR-TX-1")]
        )
    )
    assert payment.id in state.payments
    assert payment.id is not None
    relation = await plenty.payments.link_to_order(payment.id, order.id)
    assert relation.orderId == order.id
    assert [p.id for p in await plenty.payments.find_by_transaction_id("TOUR-TX-1")] == [payment.id]
    assert payment.id in {p.id for p in await plenty.payments.of_order(order.id)}

    snapshot = plenty.budget_snapshot()
    assert snapshot["read"].throttled == 0
    assert snapshot["write"].throttled == 0


def _has_status(statuses: Sequence[OrderStatus], wanted: str) -> bool:
    return any(s.statusId == Decimal(wanted) for s in statuses)
