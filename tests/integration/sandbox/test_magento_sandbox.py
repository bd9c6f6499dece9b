"""The simulated Magento: routing, auth (OAuth 1.0a, bearer, admin token), searchCriteria and fields=,
store-scoped catalog writes, array replace semantics, configurable products, attributes, categories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from plentysync.clock import ManualClock
from plentysync.sandbox.catalog import (
    SeedAddress,
    SeedAttribute,
    SeedCatalog,
    SeedCategory,
    SeedCustomer,
    SeedLocation,
    SeedOrder,
    SeedOrderLine,
    SeedProduct,
    SeedStock,
)
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from plentysync.sandbox.magento.search import parse_php_query
from plentysync.sandbox.server import serving

CONFIG = MagentoSandboxConfig()
BEARER = {"Authorization": "Bearer sandbox-access-token"}


def _address(first: str, city: str, *, billing: bool = False, shipping: bool = False) -> SeedAddress:
    return SeedAddress(
        first_name=first,
        last_name="Muster",
        street="Hauptstr.",
        house_number="1",
        postcode="10115",
        city=city,
        country="DE",
        is_default_billing=billing,
        is_default_shipping=shipping,
    )


def seed_catalog() -> SeedCatalog:
    """A small catalog with every product type, two sources, three languages and orders of several shapes."""
    color = SeedAttribute(
        "color",
        {"admin": "Color", "de": "Farbe", "en": "Colour"},
        [{"admin": "Red", "de": "Rot", "en": "Red"}, {"admin": "Blue", "de": "Blau", "en": "Blue"}],
    )
    products = [
        SeedProduct(
            "SIMPLE-1",
            "simple",
            {"de": "Becher", "en": "Mug", "fr": "Tasse"},
            9.99,
            description={"de": "Ein Becher", "en": "A mug"},
            category_keys=["c1"],
            stock=[SeedStock("default", 10), SeedStock("berlin", 5)],
        ),
        SeedProduct(
            "SHIRT",
            "configurable",
            {"de": "Hemd", "en": "Shirt"},
            20.0,
            configurable_attributes=["color"],
            category_keys=["c2"],
        ),
        SeedProduct(
            "SHIRT-RED",
            "simple",
            {"de": "Hemd Rot", "en": "Shirt red"},
            20.0,
            parent_sku="SHIRT",
            attribute_values={"color": 0},
            stock=[SeedStock("default", 4)],
        ),
        SeedProduct(
            "SHIRT-BLUE",
            "simple",
            {"de": "Hemd Blau", "en": "Shirt blue"},
            20.0,
            parent_sku="SHIRT",
            attribute_values={"color": 1},
            stock=[SeedStock("default", 6)],
        ),
        SeedProduct("EBOOK", "virtual", {"de": "E-Buch", "en": "E-book"}, 5.0, stock=[SeedStock("default", 100)]),
        SeedProduct("KIT", "bundle", {"de": "Set", "en": "Kit"}, 25.0, components=[("SIMPLE-1", 2), ("EBOOK", 1)]),
        SeedProduct("GROUP", "grouped", {"de": "Gruppe", "en": "Group"}, 0.0, components=[("SIMPLE-1", 1)]),
        SeedProduct("ONLY-PLENTY", "simple", {"de": "Nur Plenty"}, 1.0, presence="plenty_only"),
    ]
    customers = [
        SeedCustomer(
            "k1",
            "anna@example.com",
            "Anna",
            "Muster",
            gender="female",
            addresses=[
                _address("Anna", "Berlin", billing=True),
                _address("Anna", "Hamburg", shipping=True),
            ],
        ),
        SeedCustomer("k2", "ben@example.com", "Ben", "Beispiel", language="en", addresses=[_address("Ben", "Köln")]),
        SeedCustomer("k3", "carl@example.com", "Carl", "Plenty", presence="plenty_only"),
    ]
    orders = [
        SeedOrder(
            "000000101",
            "k1",
            "anna@example.com",
            _address("Anna", "Berlin"),
            _address("Anna", "Hamburg"),
            [SeedOrderLine("SHIRT-RED", 2, 23.8, "Shirt"), SeedOrderLine("SIMPLE-1", 1, 11.9, "Mug")],
            shipping_gross=5.95,
        ),
        SeedOrder(
            "000000102",
            None,
            "guest@example.com",
            _address("Gast", "Bonn"),
            _address("Gast", "Bonn"),
            [SeedOrderLine("SIMPLE-1", 3, 11.9, "Mug")],
            shipping_gross=0.0,
            status="processing",
            coupon_code="SAVE5",
            discount_gross=5.0,
        ),
        SeedOrder(
            "000000103",
            "k2",
            "ben@example.com",
            _address("Ben", "Köln"),
            _address("Ben", "Köln"),
            [SeedOrderLine("EBOOK", 1, 5.95, "E-book")],
            shipping_gross=0.0,
            status="complete",
        ),
        SeedOrder(
            "P-1",
            None,
            "amazon@example.com",
            _address("X", "Y"),
            _address("X", "Y"),
            [SeedOrderLine("SIMPLE-1", 1, 11.9, "Mug")],
            shipping_gross=0.0,
            origin="plenty",
        ),
    ]
    return SeedCatalog(
        languages=["de", "en", "fr"],
        locations=[SeedLocation("default", "Lager Default"), SeedLocation("berlin", "Lager Berlin")],
        categories=[
            SeedCategory("c1", None, {"de": "Küche", "en": "Kitchen"}),
            SeedCategory("c2", None, {"de": "Mode", "en": "Fashion"}, position=2),
            SeedCategory("c3", "c2", {"de": "Hemden", "en": "Shirts"}),
        ],
        attributes=[color],
        products=products,
        customers=customers,
        orders=orders,
    )


def seeded_state() -> MagentoState:
    state = MagentoState()
    state.load_catalog(seed_catalog())
    return state


def make_client(app: Any, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://magento.test", headers=headers or {}
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def client(clock: ManualClock) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_magento_app(seeded_state(), MagentoSandboxConfig(integration_as_bearer=True), clock)
    async with make_client(app, BEARER) as http:
        yield http


def signed_get(
    path: str, params: dict[str, str], *, method: str = SIGNATURE_HMAC_SHA256, host: str
) -> tuple[str, dict[str, str]]:
    url = f"{host}{path}" + (f"?{urlencode(params)}" if params else "")
    oauth = Client(
        CONFIG.consumer_key,
        client_secret=CONFIG.consumer_secret,
        resource_owner_key=CONFIG.access_token,
        resource_owner_secret=CONFIG.access_token_secret,
        signature_method=method,
    )
    signed_url, headers, _ = oauth.sign(url, http_method="GET")
    return signed_url, dict(headers)


SEARCH = {
    "searchCriteria[filter_groups][0][filters][0][field]": "sku",
    "searchCriteria[filter_groups][0][filters][0][value]": "SHIRT%",
    "searchCriteria[filter_groups][0][filters][0][condition_type]": "like",
    "searchCriteria[pageSize]": "10",
}


# auth


@pytest.mark.anyio
@pytest.mark.parametrize("signature_method", [SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1])
async def test_oauth_signed_request_is_accepted_once_per_nonce(signature_method: str) -> None:
    app = create_magento_app(seeded_state())
    url, headers = signed_get("/rest/V1/products", SEARCH, method=signature_method, host="http://magento.test")
    assert "%5B" in url
    async with make_client(app) as http:
        response = await http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert {item["sku"] for item in response.json()["items"]} == {"SHIRT", "SHIRT-RED", "SHIRT-BLUE"}
        replay = await http.get(url, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["parameters"]["oauth_problem"] == "nonce_used"


@pytest.mark.anyio
async def test_oauth_rejects_tampered_query_and_unknown_consumer() -> None:
    app = create_magento_app(seeded_state())
    url, headers = signed_get("/rest/V1/products", SEARCH, host="http://magento.test")
    async with make_client(app) as http:
        tampered = await http.get(url.replace("pageSize%5D=10", "pageSize%5D=11"), headers=headers)
        assert tampered.status_code == 401
        assert tampered.json()["parameters"]["oauth_problem"] == "signature_invalid"
        wrong_host = await http.get(url.replace("magento.test", "other.test"), headers=headers)
        assert wrong_host.json()["parameters"]["oauth_problem"] == "signature_invalid"
        bad_consumer = {"Authorization": headers["Authorization"].replace(CONFIG.consumer_key, "nobody")}
        rejected = await http.get(url, headers=bad_consumer)
    assert rejected.status_code == 401
    assert rejected.json()["parameters"]["oauth_problem"] == "consumer_key_rejected"


@pytest.mark.anyio
async def test_integration_token_as_bearer_only_when_enabled() -> None:
    for enabled, expected in ((False, 401), (True, 200)):
        app = create_magento_app(config=MagentoSandboxConfig(integration_as_bearer=enabled))
        async with make_client(app, BEARER) as http:
            response = await http.get("/rest/V1/store/websites")
        assert response.status_code == expected
    assert response.json()[0]["id"] == 0


@pytest.mark.anyio
async def test_missing_auth_names_the_resource() -> None:
    async with make_client(create_magento_app()) as http:
        products = await http.get("/rest/V1/products/X")
        orders = await http.get("/rest/V1/orders/1")
    assert products.status_code == 401
    assert products.json() == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Catalog::products"},
    }
    assert orders.json()["parameters"]["resources"] == "Magento_Sales::actions_view"


@pytest.mark.anyio
async def test_admin_token_2fa_credentials_and_expiry(clock: ManualClock) -> None:
    credentials = {"username": CONFIG.admin_username, "password": CONFIG.admin_password}
    async with make_client(create_magento_app(clock=clock)) as http:
        refused = await http.post("/rest/V1/integration/admin/token", json=credentials)
    assert refused.status_code == 401
    assert refused.json()["parameters"]["active_providers"] == ["google"]

    state = MagentoState()
    app = create_magento_app(state, MagentoSandboxConfig(two_factor_auth=False, admin_token_lifetime_seconds=60), clock)
    async with make_client(app) as http:
        bad = await http.post("/rest/V1/integration/admin/token", json={**credentials, "password": "wrong"})
        assert bad.status_code == 401
        token = (await http.post("/rest/V1/integration/admin/token", json=credentials)).json()
        assert isinstance(token, str)
        auth = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/rest/V1/store/storeViews", headers=auth)).status_code == 200
        clock.advance(61)
        assert (await http.get("/rest/V1/store/storeViews", headers=auth)).status_code == 401
        fresh = (await http.post("/rest/V1/integration/admin/token", json=credentials)).json()
        state.expire_tokens()
        expired = await http.get("/rest/V1/store/storeViews", headers={"Authorization": f"Bearer {fresh}"})
    assert expired.status_code == 401


# routing


@pytest.mark.anyio
async def test_routing_prefixes_errors_and_encoded_slashes(client: httpx2.AsyncClient) -> None:
    missing = await client.get("/rest/V1/no/such/route")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Request does not match any route."}
    assert (await client.patch("/rest/V1/products/SIMPLE-1")).status_code == 405
    assert (await client.get("/rest/xx/V1/products/SIMPLE-1")).status_code == 404
    assert (await client.get("/index.php/rest/default/V1/products/SIMPLE-1")).json()["sku"] == "SIMPLE-1"
    created = await client.post("/rest/all/V1/products", json={"product": {"sku": "A/B 1", "name": "Slash"}})
    assert created.status_code == 200
    assert (await client.get("/rest/V1/products/A%2FB%201")).json()["name"] == "Slash"
    gone = await client.get("/rest/V1/products/NOPE")
    assert gone.status_code == 404
    assert gone.json()["message"].startswith("The product that was requested doesn't exist")
    unknown_field = await client.post("/rest/all/V1/products", json={"product": {"sku": "X"}, "bogus": 1})
    assert unknown_field.status_code == 400
    assert unknown_field.json()["parameters"] == {"fieldName": "bogus"}
    nested_unknown = await client.post("/rest/all/V1/products", json={"product": {"sku": "X", "colour": "red"}})
    assert nested_unknown.json()["message"] == '"%fieldName" is not supported. Correct the field name and try again.'
    assert (await client.delete("/rest/V1/products/A%2FB%201")).json() is True


# searchCriteria


def test_php_query_parsing_builds_nested_lists() -> None:
    parsed = parse_php_query(
        [
            ("searchCriteria[filterGroups][1][filters][0][field]", "b"),
            ("searchCriteria[filterGroups][0][filters][0][field]", "a"),
            ("skus[]", "x"),
            ("skus[]", "y"),
        ]
    )
    assert [g["filters"][0]["field"] for g in parsed["searchCriteria"]["filterGroups"]] == ["a", "b"]
    assert parsed["skus"] == ["x", "y"]


async def _skus(client: httpx2.AsyncClient, params: dict[str, str], path: str = "/rest/V1/products") -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["sku"] for item in response.json()["items"]]


@pytest.mark.anyio
async def test_filter_groups_or_within_and_across(client: httpx2.AsyncClient) -> None:
    g = "searchCriteria[filter_groups]"
    either = {
        f"{g}[0][filters][0][field]": "sku",
        f"{g}[0][filters][0][value]": "EBOOK",
        f"{g}[0][filters][1][field]": "type_id",
        f"{g}[0][filters][1][value]": "bundle",
    }
    assert set(await _skus(client, either)) == {"EBOOK", "KIT"}
    both = {**either, f"{g}[1][filters][0][field]": "type_id", f"{g}[1][filters][0][value]": "virtual"}
    assert await _skus(client, both) == ["EBOOK"]
    camel = {
        "searchCriteria[filterGroups][0][filters][0][field]": "price",
        "searchCriteria[filterGroups][0][filters][0][value]": "20",
        "searchCriteria[filterGroups][0][filters][0][conditionType]": "gteq",
    }
    assert set(await _skus(client, camel)) == {"SHIRT", "SHIRT-RED", "SHIRT-BLUE", "KIT"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("neq", "simple", {"SHIRT", "EBOOK", "KIT", "GROUP"}),
        ("in", "bundle,grouped", {"KIT", "GROUP"}),
        ("nin", "simple,configurable", {"EBOOK", "KIT", "GROUP"}),
        ("like", "%ed", {"SHIRT-RED"}),
        ("nlike", "SHIRT%", {"SIMPLE-1", "EBOOK", "KIT", "GROUP"}),
        ("lt", "10", {"SIMPLE-1", "EBOOK", "GROUP"}),
        ("to", "9.99", {"SIMPLE-1", "EBOOK", "GROUP"}),
        ("from", "25", {"KIT"}),
        ("gt", "20", {"KIT"}),
        ("lteq", "5", {"EBOOK", "GROUP"}),
        ("moreq", "25", {"KIT"}),
    ],
)
async def test_condition_types(client: httpx2.AsyncClient, condition: str, value: str, expected: set[str]) -> None:
    field = "price" if condition in ("lt", "to", "from", "gt", "lteq", "moreq") else "sku"
    if condition in ("neq", "in", "nin"):
        field = "type_id"
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": field,
        "searchCriteria[filter_groups][0][filters][0][value]": value,
        "searchCriteria[filter_groups][0][filters][0][condition_type]": condition,
    }
    assert set(await _skus(client, params)) == expected


@pytest.mark.anyio
async def test_null_notnull_and_finset(client: httpx2.AsyncClient) -> None:
    g = "searchCriteria[filter_groups][0][filters][0]"
    null = {f"{g}[field]": "weight", f"{g}[condition_type]": "null"}
    assert await _skus(client, null) == ["EBOOK"]
    notnull = {f"{g}[field]": "weight", f"{g}[condition_type]": "notnull"}
    assert "EBOOK" not in await _skus(client, notnull)
    state_items = await client.get(
        "/rest/V1/orders/items",
        params={f"{g}[field]": "sku", f"{g}[value]": "SHIRT-RED", f"{g}[condition_type]": "finset"},
    )
    assert {item["product_type"] for item in state_items.json()["items"]} == {"configurable", "simple"}


@pytest.mark.anyio
async def test_sort_paging_clamp_total_and_echo(client: httpx2.AsyncClient) -> None:
    params = {
        "searchCriteria[sortOrders][0][field]": "price",
        "searchCriteria[sortOrders][0][direction]": "DESC",
        "searchCriteria[sortOrders][1][field]": "sku",
        "searchCriteria[sortOrders][1][direction]": "ASC",
        "searchCriteria[pageSize]": "3",
        "searchCriteria[currentPage]": "1",
    }
    first = (await client.get("/rest/V1/products", params=params)).json()
    assert [i["sku"] for i in first["items"]] == ["KIT", "SHIRT", "SHIRT-BLUE"]
    assert first["total_count"] == 7
    assert first["search_criteria"] == {
        "filter_groups": [],
        "sort_orders": [{"field": "price", "direction": "DESC"}, {"field": "sku", "direction": "ASC"}],
        "page_size": 3,
        "current_page": 1,
    }
    last = await _skus(client, {**params, "searchCriteria[currentPage]": "3"})
    assert await _skus(client, {**params, "searchCriteria[currentPage]": "99"}) == last
    minimal = (await client.get("/rest/V1/products", params={"searchCriteria[pageSize]": "2"})).json()
    assert minimal["search_criteria"] == {"filter_groups": [], "page_size": 2}

    app = create_magento_app(seeded_state(), MagentoSandboxConfig(integration_as_bearer=True, clamp_pages=False))
    async with make_client(app, BEARER) as http:
        empty = (await http.get("/rest/V1/products", params={**params, "searchCriteria[currentPage]": "99"})).json()
    assert empty["items"] == []
    assert empty["total_count"] == 7


@pytest.mark.anyio
async def test_search_criteria_required_and_fields_filter(client: httpx2.AsyncClient) -> None:
    missing = await client.get("/rest/V1/products")
    assert missing.status_code == 400
    assert missing.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }
    assert (await client.get("/rest/V1/inventory/sources")).status_code == 200
    partial = await client.get(
        "/rest/V1/products",
        params={"searchCriteria[pageSize]": "2", "fields": "items[sku,extension_attributes[website_ids]],total_count"},
    )
    body = partial.json()
    assert set(body) == {"items", "total_count"}
    assert body["items"][0] == {"sku": body["items"][0]["sku"], "extension_attributes": {"website_ids": [1]}}
    bare = await client.get("/rest/V1/products", params={"searchCriteria": "", "fields": "sku"})
    assert bare.json() == {}


@pytest.mark.anyio
async def test_input_limits() -> None:
    app = create_magento_app(seeded_state(), MagentoSandboxConfig(integration_as_bearer=True, input_limits=True))
    async with make_client(app, BEARER) as http:
        too_big = await http.get("/rest/V1/products", params={"searchCriteria[pageSize]": "301"})
        default_page = (await http.get("/rest/V1/orders/items", params={"searchCriteria": ""})).json()
        items = [{"sku": f"S{i}", "source_code": "default", "quantity": 1, "status": 1} for i in range(21)]
        too_many = await http.post("/rest/V1/inventory/source-items", json={"sourceItems": items})
    assert too_big.status_code == 400
    assert too_big.json()["parameters"] == {"max": 300}
    assert len(default_page["items"]) <= 20
    assert too_many.status_code == 400


# catalog


@pytest.mark.anyio
async def test_store_scoped_product_values(client: httpx2.AsyncClient, clock: ManualClock) -> None:
    before = (await client.get("/rest/all/V1/products/SIMPLE-1")).json()
    assert before["name"] == "Becher"
    assert (await client.get("/rest/en/V1/products/SIMPLE-1")).json()["name"] == "Mug"
    clock.advance(60)
    update = {"product": {"name": "Mug (EN)", "custom_attributes": [{"attribute_code": "description", "value": "EN"}]}}
    await client.put("/rest/en/V1/products/SIMPLE-1", json=update)
    english = (await client.get("/rest/en/V1/products/SIMPLE-1")).json()
    assert english["name"] == "Mug (EN)"
    assert {"attribute_code": "description", "value": "EN"} in english["custom_attributes"]
    assert english["updated_at"] > before["updated_at"]
    assert (await client.get("/rest/all/V1/products/SIMPLE-1")).json()["name"] == "Becher"
    assert (await client.get("/rest/V1/products/SIMPLE-1", params={"storeId": "2"})).json()["name"] == "Mug (EN)"

    await client.put("/rest/V1/products/SIMPLE-1", json={"product": {"name": "Becher (Default View)", "price": 12.5}})
    assert (await client.get("/rest/all/V1/products/SIMPLE-1")).json()["name"] == "Becher"
    default_view = (await client.get("/rest/default/V1/products/SIMPLE-1")).json()
    assert default_view["name"] == "Becher (Default View)"
    assert default_view["price"] == 12.5
    await client.put("/rest/all/V1/products/SIMPLE-1", json={"product": {"name": "Becher global"}})
    assert (await client.get("/rest/all/V1/products/SIMPLE-1")).json()["name"] == "Becher global"
    assert (await client.get("/rest/fr/V1/products/SIMPLE-1")).json()["name"] == "Tasse"


@pytest.mark.anyio
async def test_array_fields_replace_only_when_sent(client: httpx2.AsyncClient) -> None:
    path = "/rest/all/V1/products/SIMPLE-1"
    links = [{"position": 0, "category_id": "3"}, {"position": 1, "category_id": "4"}]
    await client.put(path, json={"product": {"extension_attributes": {"website_ids": [1], "category_links": links}}})
    await client.put(path, json={"product": {"price": 11}})
    kept = (await client.get(path)).json()
    assert kept["extension_attributes"]["category_links"] == links
    await client.put(path, json={"product": {"extension_attributes": {"category_links": [links[1]]}}})
    replaced = (await client.get(path)).json()
    assert replaced["extension_attributes"]["category_links"] == [links[1]]
    assert replaced["extension_attributes"]["website_ids"] == [1]
    listed = (await client.get("/rest/V1/products", params={"searchCriteria[pageSize]": "50"})).json()
    assert all("stock_item" not in p["extension_attributes"] for p in listed["items"])
    assert replaced["extension_attributes"]["stock_item"]["qty"] == 10


@pytest.mark.anyio
async def test_media_entries(client: httpx2.AsyncClient) -> None:
    entry = {
        "media_type": "image",
        "label": "Front",
        "position": 1,
        "disabled": False,
        "types": ["image"],
        "content": {"base64_encoded_data": "aGVsbG8=", "type": "image/jpeg", "name": "mug.jpg"},
    }
    new_id = (await client.post("/rest/all/V1/products/SIMPLE-1/media", json={"entry": entry})).json()
    assert isinstance(new_id, str)
    fetched = (await client.get(f"/rest/all/V1/products/SIMPLE-1/media/{new_id}")).json()
    assert fetched["label"] == "Front"
    assert fetched["file"].endswith("mug.jpg")
    assert "content" not in fetched
    assert (await client.delete(f"/rest/all/V1/products/SIMPLE-1/media/{new_id}")).json() is True
    assert (await client.get(f"/rest/all/V1/products/SIMPLE-1/media/{new_id}")).status_code == 404


@pytest.mark.anyio
async def test_configurable_children_and_options(client: httpx2.AsyncClient) -> None:
    children = (await client.get("/rest/V1/configurable-products/SHIRT/children")).json()
    assert {c["sku"] for c in children} == {"SHIRT-RED", "SHIRT-BLUE"}
    options = (await client.get("/rest/V1/configurable-products/SHIRT/options/all")).json()
    color = (await client.get("/rest/all/V1/products/attributes/color")).json()
    assert options[0]["attribute_id"] == str(color["attribute_id"])
    assert len(options[0]["values"]) == 2
    assert (await client.delete("/rest/V1/configurable-products/SHIRT/children/SHIRT-RED")).json() is True
    assert (await client.delete("/rest/V1/configurable-products/SHIRT/children/SHIRT-RED")).status_code == 404
    assert (await client.post("/rest/V1/configurable-products/SHIRT/child", json={"childSku": "SHIRT-RED"})).json()
    again = await client.post("/rest/V1/configurable-products/SHIRT/child", json={"childSku": "SHIRT-RED"})
    assert again.status_code == 400
    parent = (await client.get("/rest/all/V1/products/SHIRT")).json()
    child_ids = {c["id"] for c in children}
    assert set(parent["extension_attributes"]["configurable_product_links"]) == child_ids
    kit = (await client.get("/rest/all/V1/products/KIT")).json()
    assert [link["sku"] for link in kit["extension_attributes"]["bundle_product_options"][0]["product_links"]] == [
        "SIMPLE-1",
        "EBOOK",
    ]
    group = (await client.get("/rest/all/V1/products/GROUP")).json()
    assert group["product_links"][0]["linked_product_sku"] == "SIMPLE-1"


@pytest.mark.anyio
async def test_attribute_options(client: httpx2.AsyncClient) -> None:
    german = (await client.get("/rest/V1/products/attributes/color/options")).json()
    assert german[0] == {"label": " ", "value": ""}
    assert [o["label"] for o in german[1:]] == ["Rot", "Blau"]
    admin = (await client.get("/rest/all/V1/products/attributes/color/options")).json()
    assert [o["label"] for o in admin[1:]] == ["Red", "Blue"]
    new_id = (
        await client.post(
            "/rest/all/V1/products/attributes/color/options",
            json={"option": {"label": "Green", "sort_order": 3, "store_labels": [{"store_id": 1, "label": "Grün"}]}},
        )
    ).json()
    assert isinstance(new_id, str)
    assert new_id.isdigit()
    after = (await client.get("/rest/V1/products/attributes/color/options")).json()
    assert {"Grün", new_id} <= {o["label"] for o in after} | {o["value"] for o in after}
    duplicate = await client.post("/rest/all/V1/products/attributes/color/options", json={"option": {"label": "Green"}})
    assert duplicate.status_code == 400
    missing = await client.get("/rest/V1/products/attributes/nope")
    assert missing.status_code == 404
    assert missing.json()["parameters"] == ["nope"]
    sets = (await client.get("/rest/V1/products/attribute-sets/sets/list", params={"searchCriteria": ""})).json()
    assert sets["items"][0]["attribute_set_id"] == 4


@pytest.mark.anyio
async def test_base_prices_report_failures_per_row(client: httpx2.AsyncClient) -> None:
    prices = [{"sku": "SIMPLE-1", "price": 7.5, "store_id": 0}, {"sku": "NOPE", "price": 1, "store_id": 0}]
    failures = (await client.post("/rest/V1/products/base-prices", json={"prices": prices})).json()
    assert len(failures) == 1
    assert "NOPE" in failures[0]["parameters"]
    assert (await client.get("/rest/all/V1/products/SIMPLE-1")).json()["price"] == 7.5


@pytest.mark.anyio
async def test_categories_tree_store_names_and_url_keys(client: httpx2.AsyncClient) -> None:
    tree = (await client.get("/rest/all/V1/categories", params={"rootCategoryId": "2"})).json()
    names = {child["name"] for child in tree["children_data"]}
    assert names == {"Küche", "Mode"}
    fashion = next(c for c in tree["children_data"] if c["name"] == "Mode")
    assert fashion["children_data"][0]["name"] == "Hemden"
    assert fashion["product_count"] == 1
    english = (await client.get(f"/rest/en/V1/categories/{fashion['id']}")).json()
    assert english["name"] == "Fashion"
    created = await client.post(
        "/rest/all/V1/categories",
        json={
            "category": {
                "parent_id": fashion["id"],
                "name": "Hosen",
                "custom_attributes": [{"attribute_code": "url_key", "value": "hosen"}],
            }
        },
    )
    assert created.status_code == 200
    assert created.json()["path"].endswith(f"/{fashion['id']}/{created.json()['id']}")
    duplicate = await client.post(
        "/rest/all/V1/categories",
        json={
            "category": {
                "parent_id": fashion["id"],
                "name": "Hosen 2",
                "custom_attributes": [{"attribute_code": "url_key", "value": "hosen"}],
            }
        },
    )
    assert duplicate.status_code == 400
    kitchen = next(c for c in tree["children_data"] if c["name"] == "Küche")
    moved = await client.put(f"/rest/all/V1/categories/{created.json()['id']}/move", json={"parentId": kitchen["id"]})
    assert moved.json() is True
    assert (await client.get(f"/rest/all/V1/categories/{created.json()['id']}")).json()["parent_id"] == kitchen["id"]
    products = (await client.get(f"/rest/V1/categories/{kitchen['id']}/products")).json()
    assert products == [{"sku": "SIMPLE-1", "position": 0, "category_id": str(kitchen["id"])}]
    missing = await client.get("/rest/V1/categories/9999")
    assert missing.status_code == 404
    assert missing.json()["parameters"] == {"fieldName": "id", "fieldValue": 9999}


@pytest.mark.anyio
async def test_stores_and_directory(client: httpx2.AsyncClient) -> None:
    views = (await client.get("/rest/V1/store/storeViews")).json()
    assert [v["code"] for v in views] == ["admin", "default", "en", "fr"]
    configs = (await client.get("/rest/V1/store/storeConfigs", params={"storeCodes[]": "en"})).json()
    assert [c["locale"] for c in configs] == ["en_GB"]
    groups = (await client.get("/rest/V1/store/storeGroups")).json()
    assert groups[0]["id"] == 0
    countries = (await client.get("/rest/V1/directory/countries")).json()
    assert any(c["id"] == "DE" and c["available_regions"] for c in countries)


# real HTTP and persistence


def test_real_loopback_oauth_and_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "magento.json"
    config = MagentoSandboxConfig(state_file=state_file)
    app = create_magento_app(MagentoState(), config)
    with serving(app) as server:
        body = {"sourceItems": [{"sku": "X-1", "source_code": "default", "quantity": 3, "status": 1}]}
        oauth = Client(
            config.consumer_key,
            client_secret=config.consumer_secret,
            resource_owner_key=config.access_token,
            resource_owner_secret=config.access_token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
        )
        url = f"{server.url}/rest/V1/inventory/source-items"
        _, headers, _ = oauth.sign(url, http_method="POST", headers={"Content-Type": "application/json"})
        with httpx2.Client() as http:
            response = http.post(url, json=body, headers={"Authorization": headers["Authorization"]})
            assert response.status_code == 200, response.text
            assert response.json() == []
    reloaded = MagentoState.load(state_file)
    item = reloaded.source_item("X-1", "default")
    assert item is not None
    assert item["quantity"] == 3
    restarted = create_magento_app(config=config)
    assert restarted.state.sandbox.source_item("X-1", "default") is not None
