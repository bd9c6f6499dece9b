"""The seed catalog both sandboxes load: deterministic, scaled by size, and internally consistent."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plentysync.sandbox.catalog import SeedCatalog, SeedProduct, generate

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SELLABLE = {"simple", "virtual"}
VAT_FORMATS = [
    r"DE\d{9}",
    r"ATU\d{8}",
    r"FR[0-9A-Z]{2}\d{9}",
    r"NL\d{9}B\d{2}",
    r"CHE-\d{3}\.\d{3}\.\d{3} (MWST|TVA|IVA)",
]


def ean_valid(code: str) -> bool:
    if not re.fullmatch(r"\d{13}", code):
        return False
    weighted = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(code[:12]))
    return (10 - weighted % 10) % 10 == int(code[12])


def in_system(product: SeedProduct, system: str) -> bool:
    return product.presence == "both" or product.presence == f"{system}_only"


def check_invariants(catalog: SeedCatalog, now: datetime) -> None:
    assert catalog.languages == ["de", "en", "fr"]
    locations = {loc.key: loc.name for loc in catalog.locations}
    assert locations["default"] == "Main warehouse"
    assert {"berlin", "hamburg"} <= set(locations)

    # categories: unique keys, parents exist and come first, 3 levels, names in every language
    keys = [c.key for c in catalog.categories]
    assert len(keys) == len(set(keys))
    depth: dict[str, int] = {}
    for category in catalog.categories:
        assert set(category.names) == set(catalog.languages)
        assert all(category.names.values())
        depth[category.key] = 1 if category.parent_key is None else depth[category.parent_key] + 1
    assert max(depth.values()) == 3

    attributes = {a.code: a for a in catalog.attributes}
    assert {"color", "size"} <= set(attributes)
    for attribute in attributes.values():
        assert set(catalog.languages) <= set(attribute.labels)
        assert attribute.values
        for option in attribute.values:
            assert {"admin", *catalog.languages} <= set(option)

    skus = [p.sku for p in catalog.products]
    assert len(skus) == len(set(skus))
    by_sku = {p.sku: p for p in catalog.products}
    eans = [p.ean for p in catalog.products if p.ean is not None]
    assert len(eans) == len(set(eans))
    assert all(ean_valid(ean) for ean in eans)

    for product in catalog.products:
        assert set(product.names) == set(catalog.languages)
        assert product.price > 0
        assert all(loc.location in locations for loc in product.stock)
        assert len({loc.location for loc in product.stock}) == len(product.stock)
        assert all(loc.quantity >= 0 for loc in product.stock)
        assert all(key in depth for key in product.category_keys)
        if product.parent_sku is not None:
            parent = by_sku[product.parent_sku]
            assert parent.type == "configurable"
            assert product.type == "simple"
            assert parent.presence == product.presence
            assert set(product.attribute_values) == set(parent.configurable_attributes)
            for code, index in product.attribute_values.items():
                assert 0 <= index < len(attributes[code].values)
        if product.type == "configurable":
            children = [p for p in catalog.products if p.parent_sku == product.sku]
            assert 2 <= len(children) <= 6
            combos = [tuple(sorted(c.attribute_values.items())) for c in children]
            assert len(combos) == len(set(combos)), "children must differ in their attribute values"
            assert product.configurable_attributes
            assert not product.stock
        if product.type in ("bundle", "grouped"):
            assert product.components
            for sku, quantity in product.components:
                component = by_sku[sku]
                assert component.type in SELLABLE
                assert component.parent_sku is None
                assert quantity > 0
                for system in ("magento", "plenty"):
                    if in_system(product, system):
                        assert in_system(component, system)
        if product.type == "simple":
            assert 1 <= len(product.stock) <= 3

    customer_by_key = {c.key: c for c in catalog.customers}
    assert len(customer_by_key) == len(catalog.customers)
    emails = [c.email.lower() for c in catalog.customers]
    assert len(emails) == len(set(emails))
    for customer in catalog.customers:
        assert 0 <= len(customer.addresses) <= 3
        assert all(a.country in {"DE", "AT", "CH", "FR", "NL", "US"} for a in customer.addresses)
        if customer.addresses:
            first, *rest = customer.addresses
            assert first.is_default_billing
            assert first.is_default_shipping
            assert not any(a.is_default_billing or a.is_default_shipping for a in rest)
        if customer.b2b:
            assert customer.company
        if customer.vat_id is not None:
            assert customer.b2b
            assert any(re.fullmatch(pattern, customer.vat_id) for pattern in VAT_FORMATS), customer.vat_id

    numbers = [o.number for o in catalog.orders]
    assert all(re.fullmatch(r"\d{9}", n) for n in numbers)
    assert len(numbers) == len(set(numbers))
    assert numbers == sorted(numbers)
    created = [o.created_at for o in catalog.orders]
    assert all(c is not None and now - timedelta(days=30) <= c <= now for c in created)
    assert created == sorted(created, key=lambda c: c or now), "increment ids follow creation time"
    for order in catalog.orders:
        assert 1 <= len(order.lines) <= 4
        assert "@" in order.email
        if order.customer_key is not None:
            customer = customer_by_key[order.customer_key]
            assert customer.email == order.email
            assert customer.presence in ("both", f"{order.origin}_only")
        for line in order.lines:
            product = by_sku[line.sku]
            assert product.type in SELLABLE, line.sku
            assert product.enabled, line.sku
            assert in_system(product, order.origin), (order.number, order.origin, line.sku)
            assert line.quantity > 0
            assert line.unit_price_gross > 0
            assert line.name
        subtotal = sum(line.quantity * line.unit_price_gross for line in order.lines)
        assert 0 <= order.discount_gross <= subtotal + 0.01
        assert (order.coupon_code is not None) == (order.discount_gross > 0)
        if order.payment_method == "free":
            assert subtotal + order.shipping_gross - order.discount_gross == pytest.approx(0, abs=0.01)


@pytest.fixture(scope="module")
def catalog() -> SeedCatalog:
    return generate(size=1, seed=7, now=NOW)


def test_default_catalog_is_consistent(catalog: SeedCatalog) -> None:
    check_invariants(catalog, NOW)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), size=st.integers(min_value=1, max_value=4))
def test_every_seed_and_size_gives_a_consistent_catalog(seed: int, size: int) -> None:
    check_invariants(generate(size=size, seed=seed, now=NOW), NOW)


def test_same_seed_same_catalog_other_seed_other_catalog() -> None:
    assert generate(size=2, seed=3, now=NOW) == generate(size=2, seed=3, now=NOW)
    assert generate(size=2, seed=3, now=NOW) != generate(size=2, seed=4, now=NOW)


def test_now_only_moves_the_timestamps() -> None:
    later = NOW + timedelta(days=5)
    a, b = generate(seed=11, now=NOW), generate(seed=11, now=later)
    assert [p.sku for p in a.products] == [p.sku for p in b.products]
    assert [o.lines for o in a.orders] == [o.lines for o in b.orders]
    assert all(
        (y.created_at or later) - (x.created_at or NOW) == timedelta(days=5)
        for x, y in zip(a.orders, b.orders, strict=True)
    )


def test_size_scales_every_count_linearly() -> None:
    one, ten = generate(size=1, now=NOW), generate(size=10, now=NOW)
    assert 30 <= len(one.products) <= 50
    assert len(one.categories) == 12
    assert len(one.customers) == 20
    assert len(one.orders) == 30
    assert len(ten.categories) == 10 * len(one.categories)
    assert len(ten.customers) == 10 * len(one.customers)
    assert len(ten.orders) == 10 * len(one.orders)
    assert 9 * len(one.products) <= len(ten.products) <= 11 * len(one.products)
    check_invariants(ten, NOW)


def test_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        generate(size=0)


def test_every_product_type_and_presence_is_represented(catalog: SeedCatalog) -> None:
    types = Counter(p.type for p in catalog.products)
    assert {"simple", "virtual", "configurable", "bundle", "grouped"} <= set(types)
    presence = Counter(p.presence for p in catalog.products)
    total = len(catalog.products)
    for kind in ("magento_only", "plenty_only"):
        assert 0.05 <= presence[kind] / total <= 0.2, presence
    assert any(p.parent_sku for p in catalog.products)
    assert any(not p.enabled for p in catalog.products)
    assert any(p.ean is None for p in catalog.products if p.type == "simple")


def test_some_skus_need_url_encoding(catalog: SeedCatalog) -> None:
    awkward = [p.sku for p in catalog.products if quote(p.sku, safe="") != p.sku]
    assert any("/" in sku for sku in awkward)
    assert any(" " in sku for sku in awkward)
    for sku in awkward:
        assert catalog.product(sku).presence == "both"


def test_stock_spread_over_locations_with_some_zero(catalog: SeedCatalog) -> None:
    stocked = [p for p in catalog.products if p.stock]
    assert {len(p.stock) for p in stocked} == {1, 2, 3}
    assert any(s.quantity == 0 for p in stocked for s in p.stock)
    assert any(s.quantity > 0 for p in stocked for s in p.stock)


def test_customers_cover_b2b_addresses_and_countries(catalog: SeedCatalog) -> None:
    assert {len(c.addresses) for c in catalog.customers} == {0, 1, 2, 3}
    b2b = [c for c in catalog.customers if c.b2b]
    assert b2b
    assert all(c.company for c in b2b)
    assert len(b2b) < len(catalog.customers)
    assert any(c.vat_id for c in b2b)
    countries = {a.country for c in generate(size=3, now=NOW).customers for a in c.addresses}
    assert countries == {"DE", "AT", "CH", "FR", "NL", "US"}


def test_orders_come_in_every_shape(catalog: SeedCatalog) -> None:
    orders = catalog.orders
    assert any(o.customer_key is None for o in orders)
    assert any(o.customer_key for o in orders)
    assert {len(o.lines) for o in orders} == {1, 2, 3, 4}
    assert any(catalog.product(line.sku).parent_sku for o in orders for line in o.lines)
    assert any(o.coupon_code and o.discount_gross for o in orders)
    assert {o.status for o in orders} == {"pending", "processing", "complete", "canceled", "holded"}
    assert {o.payment_method for o in orders} == {"checkmo", "banktransfer", "paypal_express", "free"}
    plenty_share = sum(o.origin == "plenty" for o in orders) / len(orders)
    assert 0.1 <= plenty_share <= 0.3
    assert orders[0].number == "000000001"
    assert max(o.created_at or NOW for o in orders) - min(o.created_at or NOW for o in orders) > timedelta(days=7)


def test_without_now_the_timestamps_are_recent() -> None:
    before = datetime.now(UTC)
    catalog = generate()
    assert all(o.created_at and before - timedelta(days=31) <= o.created_at for o in catalog.orders)
