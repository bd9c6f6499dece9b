"""The simulated PlentyONE server, exercised over its HTTP API like a real client would."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

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
from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
from plentysync.sandbox.server import serving

BASE = "http://plenty.test"
DELIVERED = "2026-05-29T13:13:12+02:00"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 5, 29, 10, 0, 0, tzinfo=UTC))


def _catalog() -> SeedCatalog:
    address = SeedAddress("Max", "Muster", "Hauptstr.", "1", "10115", "Berlin", "DE", is_default_billing=True)
    return SeedCatalog(
        languages=["de", "en"],
        locations=[SeedLocation("default", "Zentrallager"), SeedLocation("berlin", "Berlin")],
        categories=[
            SeedCategory("c1", None, {"de": "Kleidung", "en": "Clothing"}),
            SeedCategory("c2", "c1", {"de": "Hemden", "en": "Shirts"}),
        ],
        attributes=[SeedAttribute("color", {"de": "Farbe"}, [{"admin": "red", "de": "Rot"}, {"admin": "blue"}])],
        products=[
            SeedProduct("SHIRT", "configurable", {"de": "Hemd"}, 20.0, configurable_attributes=["color"]),
            SeedProduct(
                "SHIRT-RED",
                "simple",
                {"de": "Hemd rot"},
                20.0,
                parent_sku="SHIRT",
                attribute_values={"color": 0},
                category_keys=["c2"],
                stock=[SeedStock("default", 10), SeedStock("berlin", 3)],
                ean="4006381333931",
            ),
            SeedProduct("SHIRT-BLUE", "simple", {"de": "Hemd blau"}, 20.0, parent_sku="SHIRT", stock=[]),
            SeedProduct("MUG", "simple", {"de": "Tasse", "en": "Mug"}, 9.5, stock=[SeedStock("default", 5)]),
            SeedProduct("WEB-ONLY", "simple", {"de": "Nur Magento"}, 1.0, presence="magento_only"),
        ],
        customers=[
            SeedCustomer("k1", "max@example.com", "Max", "Muster", addresses=[address]),
            SeedCustomer(
                "k2",
                "b2b@example.com",
                "Erika",
                "Firma",
                b2b=True,
                company="ACME GmbH",
                vat_id="DE123456789",
                addresses=[address],
            ),
        ],
        orders=[
            SeedOrder(
                "AMZ-1",
                "k1",
                "max@example.com",
                address,
                address,
                [SeedOrderLine("MUG", 2, 9.5, "Tasse")],
                4.9,
                origin="plenty",
            ),
            SeedOrder(
                "000000001",
                "k1",
                "max@example.com",
                address,
                address,
                [SeedOrderLine("MUG", 1, 9.5, "Tasse")],
                4.9,
                origin="magento",
            ),
        ],
    )


class Sandbox:
    def __init__(self, clock: ManualClock, config: PlentySandboxConfig | None = None) -> None:
        self.config = config or PlentySandboxConfig()
        self.state = PlentyState.minimal(self.config.plenty_id, clock)
        self.state.load_catalog(_catalog())
        self.app = create_plenty_app(self.state, self.config, clock)
        self.client = httpx2.AsyncClient(transport=httpx2.ASGITransport(self.app), base_url=BASE)

    async def login(self) -> dict[str, str]:
        response = await self.client.post(
            "/rest/login", json={"username": self.config.username, "password": self.config.password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def variation_id(self, sku: str) -> int:
        variation = self.state.variation_by_number(sku)
        assert variation is not None
        return int(variation["id"])

    def item_id(self, sku: str) -> int:
        return int(self.state.variations[self.variation_id(sku)]["itemId"])


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    box = Sandbox(clock)
    async with box.client:
        yield box


@pytest.fixture
async def auth(sandbox: Sandbox) -> dict[str, str]:
    return await sandbox.login()


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_login_accepts_json_form_and_query_and_answers_in_both_spellings(sandbox: Sandbox) -> None:
    creds = {"username": sandbox.config.username, "password": sandbox.config.password}
    for kwargs in ({"json": creds}, {"data": creds}, {"params": creds}):
        response = await sandbox.client.post("/rest/login", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200
        body = response.json()
        assert body["access_token"] == body["accessToken"]
        assert body["refresh_token"] == body["refreshToken"]
        assert body["expires_in"] == body["expiresIn"] == sandbox.config.token_lifetime_seconds
        assert body["token_type"] == body["tokenType"] == "Bearer"
        assert body["max_current_sessions"] == sandbox.config.max_sessions
        user = await sandbox.client.get("/rest/user", headers={"Authorization": f"Bearer {body['accessToken']}"})
        assert user.status_code == 200


@pytest.mark.anyio
async def test_bad_credentials_and_unknown_bearer_are_401(sandbox: Sandbox) -> None:
    response = await sandbox.client.post("/rest/login", json={"username": "x", "password": "y"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"
    denied = await sandbox.client.get("/rest/webstores", headers={"Authorization": "Bearer nope"})
    assert denied.status_code == 401
    assert denied.json()["error"] == "access_denied"
    assert "X-Plenty-Global-Short-Period-Calls-Left" not in denied.headers


@pytest.mark.anyio
async def test_session_cap_and_logout_frees_a_slot(sandbox: Sandbox) -> None:
    tokens = [await sandbox.login() for _ in range(sandbox.config.max_sessions)]
    capped = await sandbox.client.post(
        "/rest/login", json={"username": sandbox.config.username, "password": sandbox.config.password}
    )
    assert capped.status_code == 429
    assert capped.json()["error"] == "too_many_concurrent_sessions"
    assert capped.json()["max_current_sessions"] == sandbox.config.max_sessions
    assert (await sandbox.client.post("/rest/logout", headers=tokens[0])).status_code == 200
    assert (await sandbox.client.get("/rest/webstores", headers=tokens[0])).status_code == 401
    await sandbox.login()


@pytest.mark.anyio
async def test_refresh_replaces_the_pair_and_expired_refresh_is_401(sandbox: Sandbox, clock: ManualClock) -> None:
    login = (
        await sandbox.client.post(
            "/rest/login", data={"username": sandbox.config.username, "password": sandbox.config.password}
        )
    ).json()
    old = {"Authorization": f"Bearer {login['access_token']}"}
    refreshed = await sandbox.client.post("/rest/login/refresh", params={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200
    pair = refreshed.json()
    assert pair["accessToken"] != login["access_token"]
    assert pair["access_token"] == pair["accessToken"]
    assert (await sandbox.client.get("/rest/webstores", headers=old)).status_code == 401
    new = {"Authorization": f"Bearer {pair['accessToken']}"}
    assert (await sandbox.client.get("/rest/webstores", headers=new)).status_code == 200
    reused = await sandbox.client.post("/rest/login/refresh", json={"refresh_token": login["refresh_token"]})
    assert reused.status_code == 401
    clock.advance(sandbox.config.refresh_token_lifetime_seconds + 1)
    expired = await sandbox.client.post("/rest/login/refresh", data={"refresh_token": pair["refreshToken"]})
    assert expired.status_code == 401


@pytest.mark.anyio
async def test_tokens_expire_with_the_clock_and_on_demand(sandbox: Sandbox, clock: ManualClock) -> None:
    headers = await sandbox.login()
    clock.advance(sandbox.config.token_lifetime_seconds - 1)
    assert (await sandbox.client.get("/rest/webstores", headers=headers)).status_code == 200
    clock.advance(1)
    assert (await sandbox.client.get("/rest/webstores", headers=headers)).status_code == 401
    fresh = await sandbox.login()
    sandbox.state.expire_tokens()
    assert (await sandbox.client.get("/rest/webstores", headers=fresh)).status_code == 401


# -- throttling --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_throttling_headers_decay_and_429(clock: ManualClock) -> None:
    config = PlentySandboxConfig(read_limit=3, write_limit=2, window_seconds=60.0)
    box = Sandbox(clock, config)
    async with box.client:
        headers = await box.login()
        first = await box.client.get("/rest/webstores", headers=headers)
        assert first.headers["X-Plenty-Global-Short-Period-Limit"] == "3"
        assert first.headers["X-Plenty-Global-Short-Period-Calls-Left"] == "2"
        assert first.headers["X-Plenty-Global-Long-Period-Limit"] == str(config.long_read_limit)
        assert first.headers["X-Plenty-Global-Long-Period-Calls-Left"] == str(config.long_read_limit - 1)
        clock.advance(0.4)
        second = await box.client.get("/rest/webstores", headers=headers)
        assert second.headers["X-Plenty-Global-Short-Period-Decay"] == str(math.ceil(60 - 0.4))
        assert (await box.client.get("/rest/nope", headers=headers)).status_code == 404
        third = await box.client.get("/rest/orders/999999", headers=headers)
        assert third.status_code == 404
        assert third.headers["X-Plenty-Global-Short-Period-Calls-Left"] == "0"
        clock.advance(10.2)
        spent = await box.client.get("/rest/webstores", headers=headers)
        assert spent.status_code == 429
        assert spent.json() == {"error": {"message": "short period read limit reached", "code": 429}}
        retry_after = int(spent.headers["Retry-After"])
        assert retry_after == math.ceil(60 - 10.6)
        reset = int(spent.headers["X-Plenty-Global-Short-Period-Calls-Reset"])
        assert reset >= clock.now().timestamp() + retry_after - 1
        assert spent.headers["X-Plenty-Global-Short-Period-Calls-Left"] == "0"
        assert box.state.throttled_count == 1
        write = await box.client.post("/rest/comments", headers=headers, json={"referenceType": "order"})
        assert write.status_code == 422
        assert write.headers["X-Plenty-Global-Short-Period-Limit"] == "2"
        assert write.headers["X-Plenty-Global-Short-Period-Calls-Left"] == "1"
        clock.advance(retry_after)
        again = await box.client.get("/rest/webstores", headers=headers)
        assert again.status_code == 200
        assert again.headers["X-Plenty-Global-Short-Period-Calls-Left"] == "2"


# -- lists -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_pagination_clamps_pages_and_page_sizes(sandbox: Sandbox, auth: dict[str, str]) -> None:
    past_end = await sandbox.client.get("/rest/orders/statuses", headers=auth, params={"itemsPerPage": 5, "page": 99})
    body = past_end.json()
    assert body["page"] == body["lastPageNumber"] == math.ceil(body["totalsCount"] / 5)
    assert body["isLastPage"] is True
    assert body["itemsPerPage"] == "5"
    assert len(body["entries"]) == body["lastOnPage"] - body["firstOnPage"] + 1
    big = await sandbox.client.get("/rest/items/variations", headers=auth, params={"itemsPerPage": 1000})
    assert big.json()["itemsPerPage"] == "100"
    default = await sandbox.client.get("/rest/categories", headers=auth)
    assert default.json()["itemsPerPage"] == "50"


@pytest.mark.anyio
async def test_plain_array_and_map_routes(sandbox: Sandbox, auth: dict[str, str]) -> None:
    for path in (
        "/rest/webstores",
        "/rest/stockmanagement/warehouses",
        "/rest/orders/referrers",
        "/rest/payments/methods",
        "/rest/orders/shipping/presets",
    ):
        response = await sandbox.client.get(path, headers=auth)
        assert isinstance(response.json(), list), path
    webstore = (await sandbox.client.get("/rest/webstores", headers=auth)).json()[0]
    assert webstore["storeIdentifier"] == sandbox.config.plenty_id
    classes = (await sandbox.client.get("/rest/accounts/contacts/classes", headers=auth)).json()
    assert isinstance(classes, dict)
    countries = (await sandbox.client.get("/rest/orders/shipping/countries", headers=auth)).json()
    iso = {c["isoCode2"]: c["id"] for c in countries}
    assert {k: iso[k] for k in ("DE", "AT", "CH", "FR", "GB", "NL", "US")} == {
        "DE": 1,
        "AT": 2,
        "CH": 4,
        "FR": 10,
        "GB": 12,
        "NL": 21,
        "US": 28,
    }
    referrers = (await sandbox.client.get("/rest/orders/referrers", headers=auth)).json()
    assert any(isinstance(r["id"], float) and r["id"] != int(r["id"]) for r in referrers)


@pytest.mark.anyio
async def test_variation_filters_and_unknown_filter(sandbox: Sandbox, auth: dict[str, str]) -> None:
    found = await sandbox.client.get(
        "/rest/items/variations", headers=auth, params={"numberExact": "SHIRT-RED", "with": "variationBarcodes,stock"}
    )
    entries = found.json()["entries"]
    assert [e["number"] for e in entries] == ["SHIRT-RED"]
    assert entries[0]["variationBarcodes"][0]["code"] == "4006381333931"
    assert {s["warehouseId"]: s["physicalStock"] for s in entries[0]["stock"]} == {1: 10.0, 2: 3.0}
    by_barcode = await sandbox.client.get("/rest/items/variations", headers=auth, params={"barcode": "4006381333931"})
    assert [e["number"] for e in by_barcode.json()["entries"]] == ["SHIRT-RED"]
    siblings = await sandbox.client.get(
        "/rest/items/variations", headers=auth, params={"itemId": sandbox.item_id("SHIRT-RED")}
    )
    assert {e["number"] for e in siblings.json()["entries"]} == {"SHIRT-RED", "SHIRT-BLUE"}
    assert sandbox.state.variation_by_number("WEB-ONLY") is None
    unknown = await sandbox.client.get("/rest/items/variations", headers=auth, params={"name": "Hemd"})
    assert unknown.status_code == 422
    message = next(iter(unknown.json()["validation_errors"].values()))[0]
    assert "The following filter do not exist: name" in message
    assert "numberExact" in message
    ignored = await sandbox.client.get("/rest/items", headers=auth, params={"bogus": "1"})
    assert ignored.status_code == 200
    assert ignored.json()["totalsCount"] == len(sandbox.state.items)


@pytest.mark.anyio
async def test_create_item_and_duplicate_number(sandbox: Sandbox, auth: dict[str, str]) -> None:
    category = sandbox.state.seed_id("category", "c1")
    created = await sandbox.client.post(
        "/rest/items",
        headers=auth,
        json={"variations": [{"variationCategories": [{"categoryId": category}], "unit": {"unitId": 1, "content": 1}}]},
    )
    assert created.status_code == 200
    item = created.json()
    assert item["mainVariationId"] == item["variations"][0]["id"]
    assert item["variations"][0]["number"]
    assert item["texts"] == []
    duplicate = await sandbox.client.post(
        f"/rest/items/{item['id']}/variations", headers=auth, json={"number": "MUG", "unit": {"unitId": 1}}
    )
    assert duplicate.status_code == 422
    assert "number" in duplicate.json()["validation_errors"]
    text = await sandbox.client.post(
        f"/rest/items/{item['id']}/variations/{item['mainVariationId']}/descriptions",
        headers=auth,
        json={"lang": "en", "name": "New thing", "description": "<p>x</p>"},
    )
    assert text.status_code == 200
    again = (await sandbox.client.get(f"/rest/items/{item['id']}", headers=auth)).json()
    assert again["texts"][0]["name1"] == "New thing"


@pytest.mark.anyio
async def test_updated_between_polling_and_plus_encoding(
    sandbox: Sandbox, auth: dict[str, str], clock: ManualClock
) -> None:
    vid, iid = sandbox.variation_id("MUG"), sandbox.item_id("MUG")
    clock.advance(3600)
    mark = clock.now()
    await sandbox.client.put(f"/rest/items/{iid}/variations/{vid}", headers=auth, json={"model": "M-2"})
    since = mark.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds")
    encoded = await sandbox.client.get(f"/rest/items/variations?updatedBetween={quote(since)}", headers=auth)
    assert [e["number"] for e in encoded.json()["entries"]] == ["MUG"]
    as_unix = await sandbox.client.get(
        "/rest/items/variations", headers=auth, params={"updatedBetween": f"{int(mark.timestamp())}"}
    )
    assert [e["number"] for e in as_unix.json()["entries"]] == ["MUG"]
    raw_plus = await sandbox.client.get(f"/rest/items/variations?updatedBetween={since}", headers=auth)
    assert raw_plus.status_code == 422


# -- stock -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_outgoing_booking_rules_are_all_or_nothing(sandbox: Sandbox, auth: dict[str, str]) -> None:
    vid = sandbox.variation_id("MUG")
    before = sandbox.state.stock_of(vid, 1)
    moves_before = len(sandbox.state.movements)
    url = "/rest/stockmanagement/warehouses/1/stock/bookOutgoingItems"
    good = {"variationId": vid, "quantity": -1, "reasonId": 201, "deliveredAt": DELIVERED}
    bad_rows = [
        good,
        {"variationId": vid, "quantity": 2, "reasonId": 101, "deliveredAt": "2026-05-29T13:13:12"},
    ]
    response = await sandbox.client.put(url, headers=auth, json={"outgoingItems": bad_rows})
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["message"] == "validation error found"
    errors = body["validation_errors"]
    assert errors["outgoingItems.1.deliveredAt"] == ["validation.date_w3c"]
    assert "between 200 and 299" in errors["outgoingItems.1.reasonId"][0]
    assert "outgoingItems.1.quantity" in errors
    assert "outgoingItems.0.quantity" not in errors
    assert sandbox.state.stock_of(vid, 1) == before
    assert len(sandbox.state.movements) == moves_before
    ok = await sandbox.client.put(url, headers=auth, json={"outgoingItems": [good]})
    assert ok.status_code == 200
    assert sandbox.state.stock_of(vid, 1).physical == before.physical - 1
    movement = sandbox.state.movements[-1]
    assert (movement["variationId"], movement["quantity"], movement["reason"]) == (vid, -1, 201)
    listed = await sandbox.client.get(
        "/rest/stockmanagement/warehouses/1/stock/movements", headers=auth, params={"variationId": vid}
    )
    entry = listed.json()["entries"][0]
    assert entry["reason"] == 201
    assert "reasonId" not in entry


@pytest.mark.anyio
async def test_incoming_booking_and_unknown_variation(sandbox: Sandbox, auth: dict[str, str]) -> None:
    vid = sandbox.variation_id("MUG")
    url = "/rest/stockmanagement/warehouses/2/stock/bookIncomingItems"
    booked = await sandbox.client.put(
        url,
        headers=auth,
        json={
            "incomingItems": [
                {
                    "variationId": vid,
                    "quantity": 4,
                    "reasonId": 101,
                    "deliveredAt": DELIVERED,
                    "currency": "EUR",
                    "orderNumber": "PO-1",
                }
            ]
        },
    )
    assert booked.status_code == 200
    assert booked.json()["id"]
    assert booked.json()["orderNo"] == "PO-1"
    assert sandbox.state.stock_of(vid, 2).physical == 4
    negative = await sandbox.client.put(
        url, headers=auth, json={"variationId": vid, "quantity": -4, "reasonId": 101, "deliveredAt": DELIVERED}
    )
    assert negative.status_code == 422
    assert "quantity" in negative.json()["validation_errors"]
    unknown = await sandbox.client.put(
        url,
        headers=auth,
        json={"incomingItems": [{"variationId": 987654, "quantity": 1, "reasonId": 101, "deliveredAt": DELIVERED}]},
    )
    assert unknown.status_code == 422
    assert "incomingItems.0.variationId" in unknown.json()["validation_errors"]
    no_warehouse = await sandbox.client.put(
        "/rest/stockmanagement/warehouses/99/stock/bookIncomingItems", headers=auth, json={"incomingItems": []}
    )
    assert no_warehouse.status_code == 404
    assert no_warehouse.json()["error"]["code"] == 404


@pytest.mark.anyio
async def test_correction_is_absolute_per_storage_location(sandbox: Sandbox, auth: dict[str, str]) -> None:
    vid = sandbox.variation_id("MUG")
    url = "/rest/stockmanagement/warehouses/1/stock/correction"
    await sandbox.client.put(
        url,
        headers=auth,
        json={"corrections": [{"variationId": vid, "quantity": 7, "reasonId": 301, "storageLocationId": 5}]},
    )
    response = await sandbox.client.put(
        url, headers=auth, json={"variationId": vid, "quantity": 7, "reasonId": 301, "storageLocationId": 0}
    )
    assert response.status_code == 200
    assert sandbox.state.stock_of(vid, 1).physical == 14
    assert sandbox.state.movements[-1]["quantity"] == 7 - 5
    wrong_reason = await sandbox.client.put(
        url, headers=auth, json={"corrections": [{"variationId": vid, "quantity": 1, "reasonId": 201}]}
    )
    assert wrong_reason.status_code == 422
    assert "corrections.0.reasonId" in wrong_reason.json()["validation_errors"]
    per_variation = await sandbox.client.put(
        f"/rest/items/{sandbox.item_id('MUG')}/variations/{vid}/stock/correction",
        headers=auth,
        json={"quantity": 1, "warehouseId": 1, "storageLocationId": 5, "reasonId": 301},
    )
    assert per_variation.status_code == 200
    assert per_variation.json()[0]["physicalStock"] == 8
    rows = (await sandbox.client.get("/rest/stockmanagement/stock", headers=auth, params={"variationId": vid})).json()[
        "entries"
    ]
    row = next(r for r in rows if r["warehouseId"] == 1)
    assert row["stockNet"] == row["stockPhysical"] - row["reservedStock"]


@pytest.mark.anyio
async def test_strict_sign_switch_books_positive_outgoing_as_negative(clock: ManualClock) -> None:
    box = Sandbox(clock, PlentySandboxConfig(strict_outgoing_sign=False))
    async with box.client:
        headers = await box.login()
        vid = box.variation_id("MUG")
        before = box.state.stock_of(vid, 1).physical
        response = await box.client.put(
            f"/rest/items/{box.item_id('MUG')}/variations/{vid}/stock/bookOutgoingItems",
            headers=headers,
            json={"warehouseId": 1, "quantity": 2, "reasonId": 201, "deliveredAt": DELIVERED, "currency": "EUR"},
        )
        assert response.status_code == 200
        assert box.state.stock_of(vid, 1).physical == before - 2


# -- orders, payments, contacts ----------------------------------------------------------------


def _order_body(sandbox: Sandbox, quantity: float, external: str) -> dict[str, Any]:
    return {
        "typeId": 1,
        "plentyId": sandbox.config.plenty_id,
        "statusId": 3.0,
        "referrerId": 1.0,
        "properties": [{"typeId": 7, "value": external}, {"typeId": 3, "value": 2}],
        "orderItems": [
            {
                "typeId": 1,
                "itemVariationId": sandbox.variation_id("SHIRT-RED"),
                "quantity": quantity,
                "orderItemName": "Hemd",
                "vatRate": 19,
                "amounts": [{"currency": "EUR", "priceOriginalGross": 23.8}],
            },
            {
                "typeId": 6,
                "quantity": 1,
                "orderItemName": "Shipping",
                "vatRate": 19,
                "amounts": [{"currency": "EUR", "priceOriginalGross": 5.95}],
            },
        ],
    }


@pytest.mark.anyio
async def test_order_create_reserves_stock_and_status_7_books_out(sandbox: Sandbox, auth: dict[str, str]) -> None:
    vid = sandbox.variation_id("SHIRT-RED")
    before = sandbox.state.stock_of(vid, 1)
    created = await sandbox.client.post("/rest/orders", headers=auth, json=_order_body(sandbox, 2, "M-100"))
    assert created.status_code == 200
    order = created.json()
    assert sandbox.state.stock_of(vid, 1).reserved == before.reserved + 2
    assert sandbox.state.stock_of(vid, 1).net == before.net - 2
    assert order["amounts"][0]["invoiceTotal"] == pytest.approx(2 * 23.8 + 5.95)
    assert order["amounts"][0]["netTotal"] == pytest.approx((2 * 23.8 + 5.95) / 1.19, abs=0.01)
    assert all(isinstance(p["value"], str) for p in order["properties"])
    assert isinstance(order["statusId"], float)
    found = await sandbox.client.get("/rest/orders", headers=auth, params={"externalOrderId": "M-100"})
    assert [o["id"] for o in found.json()["entries"]] == [order["id"]]
    none = await sandbox.client.get("/rest/orders", headers=auth, params={"externalOrderId": "M-999"})
    assert none.json()["totalsCount"] == 0
    booked = await sandbox.client.put(f"/rest/orders/{order['id']}", headers=auth, json={"statusId": 7})
    assert booked.status_code == 200
    after = sandbox.state.stock_of(vid, 1)
    assert (after.physical, after.reserved) == (before.physical - 2, before.reserved)
    assert sandbox.state.movements[-1]["quantity"] == -2


@pytest.mark.anyio
async def test_cancel_releases_reservation(sandbox: Sandbox, auth: dict[str, str]) -> None:
    vid = sandbox.variation_id("SHIRT-RED")
    before = sandbox.state.stock_of(vid, 1)
    order = (await sandbox.client.post("/rest/orders", headers=auth, json=_order_body(sandbox, 1, "M-101"))).json()
    assert (await sandbox.client.put(f"/rest/orders/{order['id']}/cancel", headers=auth, json={})).status_code == 200
    assert sandbox.state.stock_of(vid, 1) == before


@pytest.mark.anyio
async def test_order_validation_envelope(sandbox: Sandbox, auth: dict[str, str]) -> None:
    missing = await sandbox.client.post("/rest/orders", headers=auth, json={"orderItems": []})
    assert missing.status_code == 422
    assert set(missing.json()["validation_errors"]) >= {"typeId", "plentyId"}
    bad_variation = _order_body(sandbox, 1, "M-102")
    bad_variation["orderItems"][0]["itemVariationId"] = 424242
    response = await sandbox.client.post("/rest/orders", headers=auth, json=bad_variation)
    assert response.status_code == 422
    assert "orderItems.0.itemVariationId" in response.json()["validation_errors"]
    method = await sandbox.client.delete("/rest/webstores", headers=auth)
    assert method.status_code == 405
    assert method.json()["error"]["code"] == 405


@pytest.mark.anyio
async def test_payment_link_recomputes_payment_status(sandbox: Sandbox, auth: dict[str, str]) -> None:
    order = (await sandbox.client.post("/rest/orders", headers=auth, json=_order_body(sandbox, 1, "M-103"))).json()
    total = order["amounts"][0]["invoiceTotal"]
    assert sandbox.state.order_property(order["id"], 4) == "unpaid"
    missing = await sandbox.client.post("/rest/payments", headers=auth, json={"amount": 1})
    assert missing.status_code == 422
    assert "mopId" in missing.json()["validation_errors"]

    async def pay(amount: float) -> dict[str, Any]:
        payment = await sandbox.client.post(
            "/rest/payments",
            headers=auth,
            json={
                "amount": amount,
                "exchangeRatio": 1,
                "mopId": 6000,
                "currency": "EUR",
                "type": "credit",
                "status": 2,
                "transactionType": 2,
                "properties": [{"typeId": 1, "value": f"TX-{amount}"}],
            },
        )
        assert payment.status_code == 200
        link = await sandbox.client.post(f"/rest/payment/{payment.json()['id']}/order/{order['id']}", headers=auth)
        assert link.status_code == 200
        assert link.json()["orderId"] == order["id"]
        refreshed: dict[str, Any] = (await sandbox.client.get(f"/rest/orders/{order['id']}", headers=auth)).json()
        return refreshed

    half = await pay(round(total / 2, 2))
    assert sandbox.state.order_property(order["id"], 4) == "partlyPaid"
    assert half["amounts"][0]["paidAmount"] == pytest.approx(round(total / 2, 2))
    rest = await pay(round(total - round(total / 2, 2), 2))
    assert {p["typeId"]: p["value"] for p in rest["properties"]}[4] == "fullyPaid"
    listed = await sandbox.client.get(f"/rest/payments/orders/{order['id']}", headers=auth)
    assert len(listed.json()) == 2
    by_tx = await sandbox.client.get(f"/rest/payments/property/1/TX-{round(total / 2, 2)}", headers=auth)
    assert len(by_tx.json()) == 1


@pytest.mark.anyio
async def test_contacts_and_address_deduplication(sandbox: Sandbox, auth: dict[str, str]) -> None:
    invalid = await sandbox.client.post("/rest/accounts/contacts", headers=auth, json={"firstName": "X"})
    assert invalid.status_code == 422
    contact = (
        await sandbox.client.post(
            "/rest/accounts/contacts",
            headers=auth,
            json={
                "typeId": 1,
                "referrerId": 1,
                "firstName": "Ida",
                "lastName": "Neu",
                "options": [{"typeId": 2, "subTypeId": 4, "value": "ida@example.com"}],
            },
        )
    ).json()
    found = await sandbox.client.get("/rest/accounts/contacts", headers=auth, params={"email": "ida@example.com"})
    assert [c["id"] for c in found.json()["entries"]] == [contact["id"]]
    address = {
        "name2": "Ida",
        "name3": "Neu",
        "address1": "Weg",
        "address2": "5",
        "postalCode": "34117",
        "town": "Kassel",
        "countryId": 1,
        "options": [{"typeId": 5, "value": "ida@example.com"}],
    }
    url = f"/rest/accounts/contacts/{contact['id']}/addresses"
    first = (await sandbox.client.post(url, headers=auth, params={"typeId": 1}, json=address)).json()
    second = (await sandbox.client.post(url, headers=auth, json={**address, "typeId": 2})).json()
    assert second["id"] == first["id"]
    assert first["street"] == "Weg"
    assert first["email"] == "ida@example.com"
    other = await sandbox.client.post(url, headers=auth, params={"typeId": 2}, json={**address, "address2": "6"})
    assert other.json()["id"] != first["id"]
    listed = (await sandbox.client.get(url, headers=auth)).json()
    assert {a["id"] for a in listed} == {first["id"], other.json()["id"]}
    delivery = (await sandbox.client.get(f"{url}/2", headers=auth)).json()
    assert {a["id"] for a in delivery} == {first["id"], other.json()["id"]}
    with_addresses = (
        await sandbox.client.get(f"/rest/accounts/contacts/{contact['id']}", headers=auth, params={"with": "addresses"})
    ).json()
    assert len(with_addresses["addresses"]) == 3


# -- seed, persistence, real HTTP --------------------------------------------------------------


def test_load_catalog_maps_seed_records(clock: ManualClock) -> None:
    state = PlentyState.minimal(clock=clock)
    state.load_catalog(_catalog())
    assert [w["name"] for w in state.warehouses.values()] == ["Zentrallager", "Berlin"]
    red, blue = state.variation_by_number("SHIRT-RED"), state.variation_by_number("SHIRT-BLUE")
    assert red is not None
    assert blue is not None
    assert red["itemId"] == blue["itemId"]
    assert state.variation_by_number("SHIRT") is None
    mug = state.variation_by_number("MUG")
    assert mug is not None
    assert state.stock_of(mug["id"], state.seed_id("warehouse", "default")).physical == 5
    amazon = state.orders_by_external_id("AMZ-1")
    assert len(amazon) == 1
    assert state.orders_by_external_id("000000001") == []
    assert state.stock_of(mug["id"], 1).reserved == 2
    b2b = state.contacts[state.seed_id("customer", "k2")]
    assert b2b["_accountIds"]
    assert any(o["typeId"] == 1 for a in state.addresses_of(b2b["id"]) for o in a["options"])


@pytest.mark.anyio
async def test_state_file_round_trip(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "plenty.json"
    config = PlentySandboxConfig(state_file=path)
    app = create_plenty_app(None, config, clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url=BASE) as client:
        token = await client.post("/rest/login", json={"username": config.username, "password": config.password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = await client.post(
            "/rest/accounts/contacts", headers=headers, json={"typeId": 1, "referrerId": 1, "lastName": "Saved"}
        )
    assert path.exists()
    reloaded = create_plenty_app(None, config, clock).state.sandbox
    assert reloaded.contacts[created.json()["id"]]["lastName"] == "Saved"
    assert PlentyState.from_dict(reloaded.to_dict()).to_dict() == reloaded.to_dict()


def test_real_loopback_http(clock: ManualClock) -> None:
    config = PlentySandboxConfig()
    app = create_plenty_app(PlentyState.minimal(), config, clock)
    with serving(app) as server, httpx2.Client(base_url=server.url) as client:
        login = client.post("/rest/login", data={"username": config.username, "password": config.password})
        headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
        warehouses = client.get("/rest/stockmanagement/warehouses", headers=headers)
        assert warehouses.status_code == 200
        assert warehouses.json()[0]["id"] == 1
        assert warehouses.headers["X-Plenty-Global-Short-Period-Calls-Left"] == str(config.read_limit - 1)


# -- variation relation updates and removals, texts, VAT ---------------------------------------


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _is_not_found(response: httpx2.Response) -> bool:
    return response.status_code == 404 and response.json()["error"]["code"] == 404


@pytest.mark.anyio
async def test_update_and_delete_variation_barcode(sandbox: Sandbox, auth: dict[str, str], clock: ManualClock) -> None:
    vid, iid = sandbox.variation_id("SHIRT-RED"), sandbox.item_id("SHIRT-RED")
    path = f"/rest/items/{iid}/variations/{vid}/variation_barcodes"
    barcode_id = sandbox.state.variation_links(vid, "variationBarcodes")[0]["barcodeId"]
    clock.advance(60)

    updated = await sandbox.client.put(f"{path}/{barcode_id}", headers=auth, json={"code": "4006381333948"})

    assert updated.status_code == 200, updated.text
    assert (updated.json()["barcodeId"], updated.json()["code"]) == (barcode_id, "4006381333948")
    assert [b["code"] for b in sandbox.state.variation_links(vid, "variationBarcodes")] == ["4006381333948"]
    assert _stamp(sandbox.state.variations[vid]["relatedUpdatedAt"]) == clock.now()
    found = await sandbox.client.get("/rest/items/variations", headers=auth, params={"barcode": "4006381333948"})
    assert [e["id"] for e in found.json()["entries"]] == [vid]

    missing_code = await sandbox.client.put(f"{path}/{barcode_id}", headers=auth, json={"code": ""})
    assert missing_code.status_code == 422
    assert "code" in missing_code.json()["validation_errors"]
    assert _is_not_found(await sandbox.client.put(f"{path}/{barcode_id + 99}", headers=auth, json={"code": "1"}))
    other_item = sandbox.item_id("MUG")
    wrong_item = await sandbox.client.put(
        f"/rest/items/{other_item}/variations/{vid}/variation_barcodes/{barcode_id}", headers=auth, json={"code": "1"}
    )
    assert _is_not_found(wrong_item)

    clock.advance(60)
    deleted = await sandbox.client.delete(f"{path}/{barcode_id}", headers=auth)

    assert deleted.status_code == 200
    assert isinstance(deleted.json(), dict)
    assert sandbox.state.variation_links(vid, "variationBarcodes") == []
    assert (await sandbox.client.get(path, headers=auth)).json() == []
    assert _stamp(sandbox.state.variations[vid]["relatedUpdatedAt"]) == clock.now()
    assert _is_not_found(await sandbox.client.delete(f"{path}/{barcode_id}", headers=auth))


@pytest.mark.anyio
async def test_update_variation_sales_price(sandbox: Sandbox, auth: dict[str, str], clock: ManualClock) -> None:
    vid, iid = sandbox.variation_id("MUG"), sandbox.item_id("MUG")
    path = f"/rest/items/{iid}/variations/{vid}/variation_sales_prices"
    price_id = sandbox.state.variation_links(vid, "variationSalesPrices")[0]["salesPriceId"]
    clock.advance(60)

    updated = await sandbox.client.put(
        f"{path}/{price_id}", headers=auth, json={"variationId": vid, "salesPriceId": price_id, "price": 12.25}
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["price"] == 12.25
    stored = sandbox.state.variation_links(vid, "variationSalesPrices")
    assert [(p["salesPriceId"], p["price"]) for p in stored] == [(price_id, 12.25)]
    assert _stamp(stored[0]["updatedAt"]) == clock.now()
    assert _stamp(sandbox.state.variations[vid]["relatedUpdatedAt"]) == clock.now()

    for bad in ({"price": "cheap"}, {"lowestPriceCalculation": "maybe"}):
        invalid = await sandbox.client.put(f"{path}/{price_id}", headers=auth, json=bad)
        assert invalid.status_code == 422
        assert set(invalid.json()["validation_errors"]) == set(bad)
    assert sandbox.state.variation_links(vid, "variationSalesPrices")[0]["price"] == 12.25
    assert _is_not_found(await sandbox.client.put(f"{path}/{price_id + 99}", headers=auth, json={"price": 1}))


@pytest.mark.anyio
async def test_unlink_category_and_client(sandbox: Sandbox, auth: dict[str, str], clock: ManualClock) -> None:
    vid, iid = sandbox.variation_id("SHIRT-RED"), sandbox.item_id("SHIRT-RED")
    base = f"/rest/items/{iid}/variations/{vid}"
    category = sandbox.state.seed_id("category", "c2")
    plenty_id = sandbox.state.plenty_id
    clock.advance(60)

    unlinked = await sandbox.client.delete(f"{base}/variation_categories/{category}", headers=auth)

    assert unlinked.status_code == 200
    assert isinstance(unlinked.json(), dict)
    assert category not in {c["categoryId"] for c in sandbox.state.variation_links(vid, "variationCategories")}
    assert _stamp(sandbox.state.variations[vid]["relatedUpdatedAt"]) == clock.now()
    by_category = await sandbox.client.get("/rest/items/variations", headers=auth, params={"categoryId": category})
    assert vid not in {e["id"] for e in by_category.json()["entries"]}
    assert _is_not_found(await sandbox.client.delete(f"{base}/variation_categories/{category}", headers=auth))

    clock.advance(60)
    removed = await sandbox.client.delete(f"{base}/variation_clients/{plenty_id}", headers=auth)

    assert removed.status_code == 200
    assert sandbox.state.variation_links(vid, "variationClients") == []
    assert _stamp(sandbox.state.variations[vid]["relatedUpdatedAt"]) == clock.now()
    by_client = await sandbox.client.get("/rest/items/variations", headers=auth, params={"plentyId": plenty_id})
    assert vid not in {e["id"] for e in by_client.json()["entries"]}
    assert _is_not_found(await sandbox.client.delete(f"{base}/variation_clients/{plenty_id}", headers=auth))
    unknown_variation = f"/rest/items/{iid}/variations/999999/variation_clients/{plenty_id}"
    assert _is_not_found(await sandbox.client.delete(unknown_variation, headers=auth))


@pytest.mark.anyio
async def test_update_text_is_stored_per_item(sandbox: Sandbox, auth: dict[str, str], clock: ManualClock) -> None:
    red, blue, iid = sandbox.variation_id("SHIRT-RED"), sandbox.variation_id("SHIRT-BLUE"), sandbox.item_id("SHIRT-RED")
    assert sandbox.item_id("SHIRT-BLUE") == iid
    before = sandbox.state.item_text(iid, "de")
    assert before is not None
    original_description = before["description"]
    clock.advance(60)

    updated = await sandbox.client.put(
        f"/rest/items/{iid}/variations/{blue}/descriptions/de", headers=auth, json={"lang": "de", "name": "Hemd neu"}
    )

    assert updated.status_code == 200, updated.text
    assert (updated.json()["lang"], updated.json()["name"]) == ("de", "Hemd neu")
    stored = sandbox.state.item_text(iid, "de")
    assert stored is not None
    assert (stored["name"], stored["description"]) == ("Hemd neu", original_description)
    text_path = f"/rest/items/{iid}/variations/{red}/descriptions"
    via_other = await sandbox.client.get(text_path, headers=auth)
    assert {t["lang"]: t["name"] for t in via_other.json()}["de"] == "Hemd neu"
    item = (await sandbox.client.get(f"/rest/items/{iid}", headers=auth)).json()
    assert {t["lang"]: t["name1"] for t in item["texts"]}["de"] == "Hemd neu"
    assert _stamp(item["updatedAt"]) == clock.now()

    for bad in ({"name": "x" * 241}, {"name": ""}, {"description": 5}):
        invalid = await sandbox.client.put(f"{text_path}/de", headers=auth, json=bad)
        assert invalid.status_code == 422
        assert set(invalid.json()["validation_errors"]) == set(bad)
    assert sandbox.state.item_text(iid, "de") == stored
    unknown_lang = await sandbox.client.put(f"{text_path}/fr", headers=auth, json={"name": "Chemise"})
    assert _is_not_found(unknown_lang)
    assert sandbox.state.item_text(iid, "fr") is None


@pytest.mark.anyio
async def test_vat_configurations_list(sandbox: Sandbox, auth: dict[str, str]) -> None:
    standard = sandbox.state.vat_standard

    listed = await sandbox.client.get("/rest/vat", headers=auth)

    assert listed.status_code == 200
    body = listed.json()
    assert body["isLastPage"] is True
    assert [(e["id"], e["vatRates"]) for e in body["entries"]] == [(standard["id"], standard["vatRates"])]
    other_country = await sandbox.client.get("/rest/vat", headers=auth, params={"countryId": standard["countryId"] + 1})
    assert other_country.json()["entries"] == []
    with_country = await sandbox.client.get("/rest/vat", headers=auth, params={"with": "country"})
    assert with_country.json()["entries"][0]["country"]["id"] == standard["countryId"]
