from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx2
import pytest

from plentysync.errors import OutcomeUnknownError, RemoteValidationError
from plentysync.plenty.models import (
    IncomingRow,
    OrderCreate,
    OrderItemAmountWrite,
    OrderItemWrite,
    OutgoingRow,
    PropertyWrite,
    StockCorrectionRow,
)
from plentysync.plenty.stock import StockValidationError
from tests.unit.plenty.fakes import FakePlenty, body_of, json_response

pytestmark = pytest.mark.anyio
WHEN = datetime(2026, 5, 29, 11, 13, 12, tzinfo=UTC)
CORRECTION = "PUT /rest/stockmanagement/warehouses/1/stock/correction"
OUTGOING = "PUT /rest/stockmanagement/warehouses/1/stock/bookOutgoingItems"
INCOMING = "PUT /rest/stockmanagement/warehouses/1/stock/bookIncomingItems"


@pytest.mark.parametrize(("rows", "batch", "calls"), [(245, None, 3), (100, None, 1), (5, 2, 3)])
async def test_corrections_are_chunked(rows: int, batch: int | None, calls: int) -> None:
    fake = FakePlenty(routes={CORRECTION: json_response([])})
    config = {} if batch is None else {"stock_batch_size": batch}
    corrections = [StockCorrectionRow(variationId=i, quantity=Decimal(i)) for i in range(1, rows + 1)]
    async with fake.client(**config) as plenty:
        await plenty.stock.corrections(1, corrections)
    sent = fake.sent("PUT", "/rest/stockmanagement/warehouses/1/stock/correction")
    assert len(sent) == calls
    bodies = [body_of(r)["corrections"] for r in sent]
    assert [row["variationId"] for body in bodies for row in body] == list(range(1, rows + 1))
    assert bodies[0][0] == {"variationId": 1, "quantity": 1, "reasonId": 301, "storageLocationId": 0}


async def test_outgoing_rows_need_negative_quantities_and_2xx_reasons_before_anything_is_sent() -> None:
    fake = FakePlenty(routes={OUTGOING: json_response(None)})
    rows = [
        OutgoingRow(variationId=1, quantity=Decimal(3), deliveredAt=WHEN),
        OutgoingRow(variationId=2, quantity=Decimal(-1), reasonId=301, deliveredAt=WHEN),
    ]
    async with fake.client() as plenty:
        with pytest.raises(StockValidationError) as caught:
            await plenty.stock.book_outgoing(1, rows)
    message = str(caught.value)
    assert "outgoingItems.0.quantity" in message
    assert "outgoingItems.1.reasonId 301 must be between 200 and 299" in message
    assert isinstance(caught.value, RemoteValidationError)
    assert fake.requests == []


async def test_incoming_reason_range_is_checked() -> None:
    fake = FakePlenty()
    async with fake.client() as plenty:
        with pytest.raises(StockValidationError, match="between 100 and 199"):
            await plenty.stock.book_incoming(
                1, [IncomingRow(variationId=1, quantity=Decimal(1), reasonId=201, deliveredAt=WHEN)]
            )


async def test_bookings_carry_w3c_dates_with_offset() -> None:
    fake = FakePlenty(routes={INCOMING: json_response({"id": 5, "orderNo": "PO-1"})})
    async with fake.client() as plenty:
        receipts = await plenty.stock.book_incoming(
            1, [IncomingRow(variationId=1, quantity=Decimal("2.5"), deliveredAt=WHEN, orderNumber="PO-1")]
        )
    row = body_of(fake.sent("PUT", "/rest/stockmanagement/warehouses/1/stock/bookIncomingItems")[0])["incomingItems"][0]
    assert row["deliveredAt"] == "2026-05-29T11:13:12+00:00"
    assert row["quantity"] == 2.5
    assert receipts[0].orderNo == "PO-1"


async def test_a_5xx_on_a_relative_booking_is_never_retried() -> None:
    fake = FakePlenty(routes={OUTGOING: json_response({"error": {"message": "boom"}}, 503)})
    async with fake.client() as plenty:
        with pytest.raises(OutcomeUnknownError):
            await plenty.stock.book_outgoing(1, [OutgoingRow(variationId=1, quantity=Decimal(-1), deliveredAt=WHEN)])
    assert len(fake.sent("PUT", "/rest/stockmanagement/warehouses/1/stock/bookOutgoingItems")) == 1


async def test_a_5xx_on_an_absolute_correction_is_retried() -> None:
    answers = iter([httpx2.Response(503, json={"error": {"message": "boom"}})])

    def handler(_request: httpx2.Request) -> httpx2.Response:
        return next(answers, httpx2.Response(200, json=[]))

    fake = FakePlenty(routes={CORRECTION: handler})
    async with fake.client() as plenty:
        await plenty.stock.corrections(1, [StockCorrectionRow(variationId=1, quantity=Decimal(4))])
    assert len(fake.sent("PUT", "/rest/stockmanagement/warehouses/1/stock/correction")) == 2


async def test_order_status_ids_stay_decimal() -> None:
    order = {"id": 9, "statusId": 5.7, "referrerId": "2.08", "properties": [{"typeId": 7, "value": "M-1"}]}
    fake = FakePlenty(routes={"GET /rest/orders/9": json_response(order), "PUT /rest/orders/9": json_response(order)})
    async with fake.client() as plenty:
        got = await plenty.orders.get(9)
        await plenty.orders.update_status(9, Decimal("5.1"))
        with pytest.raises(TypeError):
            await plenty.orders.update_status(9, 5.1)  # type: ignore[arg-type]
    assert got.statusId == Decimal("5.7")
    assert got.referrerId == Decimal("2.08")
    assert got.external_order_id == "M-1"
    assert body_of(fake.sent("PUT", "/rest/orders/9")[0]) == {"statusId": 5.1}


async def test_order_create_is_not_retried_and_carries_only_set_fields() -> None:
    fake = FakePlenty(routes={"POST /rest/orders": json_response({"error": {"message": "boom"}}, 500)})
    order = OrderCreate(
        plentyId=12345,
        statusId=Decimal(3),
        orderItems=[
            OrderItemWrite(
                quantity=Decimal(2),
                orderItemName="Chair",
                itemVariationId=1012,
                referrerId=Decimal(1),
                amounts=[OrderItemAmountWrite(priceOriginalGross=Decimal("149.00"))],
            )
        ],
        properties=[PropertyWrite(typeId=7, value="M-1")],
    )
    async with fake.client() as plenty:
        with pytest.raises(OutcomeUnknownError):
            await plenty.orders.create(order)
    sent = fake.sent("POST", "/rest/orders")
    assert len(sent) == 1
    body = body_of(sent[0])
    assert set(body) == {"typeId", "plentyId", "statusId", "orderItems", "properties"}
    assert body["orderItems"][0]["amounts"] == [{"currency": "EUR", "priceOriginalGross": 149}]


async def test_find_by_external_order_id_filters_by_plenty_id() -> None:
    entries = [
        {"id": 1, "plentyId": 12345, "properties": [{"typeId": 7, "value": "M-1"}]},
        {"id": 2, "plentyId": 999, "properties": [{"typeId": 7, "value": "M-1"}]},
    ]
    fake = FakePlenty(routes={"GET /rest/orders": json_response({"page": 1, "isLastPage": True, "entries": entries})})
    async with fake.client() as plenty:
        found = await plenty.orders.find_by_external_order_id("M-1", 12345)
    assert [o.id for o in found] == [1]
    params = fake.sent("GET", "/rest/orders")[0].url.params
    assert params["externalOrderId"] == "M-1"
    assert params["clientId"] == "12345"


async def test_payments_by_transaction_id_skip_deleted_ones() -> None:
    fake = FakePlenty(
        routes={"GET /rest/payments/property/1/TX-1": json_response([{"id": 1, "deleted": 0}, {"id": 2, "deleted": 1}])}
    )
    async with fake.client() as plenty:
        found = await plenty.payments.find_by_transaction_id("TX-1")
    assert [p.id for p in found] == [1]


async def test_unknown_fields_are_kept_and_strings_read_as_numbers() -> None:
    variation = {"id": "1000", "itemId": 102, "number": "S-1", "brandNewField": {"x": 1}}
    fake = FakePlenty(routes={"GET /rest/items/102/variations/1000": json_response(variation)})
    async with fake.client() as plenty:
        got = await plenty.items.get_variation(102, 1000)
    assert got.id == 1000
    assert got.model_extra == {"brandNewField": {"x": 1}}
