"""Orders and their documents.

Creating documents (invoice, shipment, credit memo, track, comment) and the raw order create are not safe to
repeat after an ambiguous failure: a second invoice or shipment would be real. They go out as plain POSTs,
which the HTTP base never retries after sending; an :class:`~plentysync.errors.OutcomeUnknownError` tells the
caller to look the order's documents up before trying again (e.g. :meth:`OrdersApi.invoices` filtered by
``order_id``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from plentysync.magento._base import ResourceApi, parse_bool, parse_id
from plentysync.magento.client import ALL_STORES
from plentysync.magento.models.common import SearchPage
from plentysync.magento.models.orders import (
    CommentInput,
    Creditmemo,
    CreditmemoArguments,
    Invoice,
    ItemQty,
    Order,
    OrderInput,
    Shipment,
    ShipmentTrack,
    ShipmentTrackInput,
    StatusHistory,
    StatusHistoryInput,
    TrackInput,
)
from plentysync.magento.search import Condition, SearchCriteria

DEFAULT_OVERLAP = timedelta(minutes=5)


def changed_since_criteria(
    since: datetime, *, overlap: timedelta = DEFAULT_OVERLAP, statuses: Sequence[str] = ()
) -> SearchCriteria:
    """``updated_at >= since - overlap``, sorted ``updated_at ASC, entity_id ASC``: the order a watermark can
    follow. ``updated_at`` has second granularity, hence the overlap; de-duplicate by (entity_id, updated_at)."""
    criteria = SearchCriteria().where("updated_at", since - overlap, Condition.GTEQ)
    if statuses:
        criteria = criteria.where_in("status", statuses)
    return criteria.order_by("updated_at", "ASC").order_by("entity_id", "ASC")


class OrdersApi(ResourceApi):
    # ---- orders ---------------------------------------------------------------------------------------------

    def pages(
        self, criteria: SearchCriteria | None = None, *, fields: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[SearchPage[Order]]:
        return self._client.pages("/V1/orders", Order, criteria, store=ALL_STORES, fields=fields, page_size=page_size)

    def search(
        self, criteria: SearchCriteria | None = None, *, fields: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Order]:
        """Orders of all store views (searched at ``/rest/all``)."""
        return self._client.items("/V1/orders", Order, criteria, store=ALL_STORES, fields=fields, page_size=page_size)

    def changed_since(
        self,
        since: datetime,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        statuses: Sequence[str] = (),
        fields: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Order]:
        """Orders updated at or after ``since - overlap``, oldest first (see :func:`changed_since_criteria`).
        Rows changing during the walk move between pages: advance the watermark and query again rather than
        walking far."""
        criteria = changed_since_criteria(since, overlap=overlap, statuses=statuses)
        return self.search(criteria, fields=fields, page_size=page_size)

    async def get(self, order_id: int) -> Order:
        """By ``entity_id`` (not the increment id; see :meth:`find_by_increment_id`)."""
        return Order.model_validate(await self._client.request("GET", f"/V1/orders/{order_id}"))

    async def find_by_increment_id(self, increment_id: str) -> Order | None:
        return await self._client.first(
            "/V1/orders", Order, SearchCriteria().where("increment_id", increment_id), store=ALL_STORES
        )

    async def find_by_ext_order_id(self, ext_order_id: str) -> Order | None:
        """The order created with this ``ext_order_id``: the reconcile look-up after a raw create failed
        with an unknown outcome."""
        return await self._client.first(
            "/V1/orders", Order, SearchCriteria().where("ext_order_id", ext_order_id), store=ALL_STORES
        )

    async def create(self, order: OrderInput) -> Order:
        """Raw ``POST /V1/orders`` (``OrderRepository::save``): persists exactly what is given, with no totals,
        reservations or e-mails. Set ``ext_order_id`` so :meth:`find_by_ext_order_id` can reconcile."""
        body = {"entity": order.wire()}
        return Order.model_validate(await self._client.request("POST", "/V1/orders", json=body))

    async def comments(self, order_id: int) -> list[StatusHistory]:
        body = await self._client.request("GET", f"/V1/orders/{order_id}/comments")
        return SearchPage[StatusHistory].model_validate(body if isinstance(body, dict) else {}).items

    async def add_comment(self, order_id: int, history: StatusHistoryInput) -> bool:
        body = {"statusHistory": {**history.wire(), "parent_id": order_id}}
        return parse_bool(await self._client.request("POST", f"/V1/orders/{order_id}/comments", json=body))

    async def status(self, order_id: int) -> str:
        return str(await self._client.request("GET", f"/V1/orders/{order_id}/statuses"))

    async def cancel(self, order_id: int) -> bool:
        """Cancel (only possible before invoicing). Answers ``false`` when Magento refuses."""
        return parse_bool(await self._client.request("POST", f"/V1/orders/{order_id}/cancel", idempotent=True))

    async def hold(self, order_id: int) -> bool:
        return parse_bool(await self._client.request("POST", f"/V1/orders/{order_id}/hold", idempotent=True))

    async def unhold(self, order_id: int) -> bool:
        return parse_bool(await self._client.request("POST", f"/V1/orders/{order_id}/unhold", idempotent=True))

    # ---- invoices -------------------------------------------------------------------------------------------

    async def invoice(
        self,
        order_id: int,
        *,
        items: Sequence[ItemQty] | None = None,
        capture: bool = False,
        notify: bool = False,
        comment: CommentInput | None = None,
    ) -> int:
        """Invoice the order (all open quantities when ``items`` is ``None``); returns the invoice id. For
        configurable lines pass the parent's ``order_item_id``."""
        body = _document_body(items, notify=notify, comment=comment)
        body["capture"] = capture
        return parse_id(await self._client.request("POST", f"/V1/order/{order_id}/invoice", json=body), "invoice")

    def invoices(self, criteria: SearchCriteria | None = None) -> AsyncIterator[Invoice]:
        return self._client.items("/V1/invoices", Invoice, criteria, store=ALL_STORES)

    async def get_invoice(self, invoice_id: int) -> Invoice:
        return Invoice.model_validate(await self._client.request("GET", f"/V1/invoices/{invoice_id}"))

    # ---- shipments ------------------------------------------------------------------------------------------

    async def ship(
        self,
        order_id: int,
        *,
        items: Sequence[ItemQty] | None = None,
        tracks: Sequence[TrackInput] = (),
        notify: bool = False,
        comment: CommentInput | None = None,
        source_code: str | None = None,
    ) -> int:
        """Ship the order (everything open when ``items`` is ``None``); returns the shipment id. With MSI,
        ``source_code`` says which source the goods leave from."""
        body = _document_body(items, notify=notify, comment=comment)
        if tracks:
            body["tracks"] = [track.wire() for track in tracks]
        if source_code is not None:
            body["arguments"] = {"extension_attributes": {"source_code": source_code}}
        return parse_id(await self._client.request("POST", f"/V1/order/{order_id}/ship", json=body), "shipment")

    def shipments(self, criteria: SearchCriteria | None = None) -> AsyncIterator[Shipment]:
        return self._client.items("/V1/shipments", Shipment, criteria, store=ALL_STORES)

    async def get_shipment(self, shipment_id: int) -> Shipment:
        return Shipment.model_validate(await self._client.request("GET", f"/V1/shipment/{shipment_id}"))

    async def add_track(self, track: ShipmentTrackInput) -> ShipmentTrack:
        """Add a tracking number to an existing shipment."""
        body = {"entity": track.wire()}
        return ShipmentTrack.model_validate(await self._client.request("POST", "/V1/shipment/track", json=body))

    async def delete_track(self, track_id: int) -> bool:
        return parse_bool(await self._client.request("DELETE", f"/V1/shipment/track/{track_id}"))

    # ---- credit memos ---------------------------------------------------------------------------------------

    async def refund(
        self,
        order_id: int,
        *,
        items: Sequence[ItemQty] | None = None,
        notify: bool = False,
        comment: CommentInput | None = None,
        arguments: CreditmemoArguments | None = None,
    ) -> int:
        """Offline refund of an invoiced order; returns the credit memo id."""
        body = _document_body(items, notify=notify, comment=comment)
        if arguments is not None:
            body["arguments"] = arguments.wire()
        return parse_id(await self._client.request("POST", f"/V1/order/{order_id}/refund", json=body), "creditmemo")

    async def refund_invoice(
        self,
        invoice_id: int,
        *,
        items: Sequence[ItemQty] | None = None,
        online: bool = False,
        notify: bool = False,
        comment: CommentInput | None = None,
        arguments: CreditmemoArguments | None = None,
    ) -> int:
        """Refund one invoice, through the payment gateway when ``online``; returns the credit memo id."""
        body = _document_body(items, notify=notify, comment=comment)
        body["isOnline"] = online
        if arguments is not None:
            body["arguments"] = arguments.wire()
        route = f"/V1/invoice/{invoice_id}/refund"
        return parse_id(await self._client.request("POST", route, json=body), "creditmemo")

    def creditmemos(self, criteria: SearchCriteria | None = None) -> AsyncIterator[Creditmemo]:
        return self._client.items("/V1/creditmemos", Creditmemo, criteria, store=ALL_STORES)

    async def get_creditmemo(self, creditmemo_id: int) -> Creditmemo:
        return Creditmemo.model_validate(await self._client.request("GET", f"/V1/creditmemo/{creditmemo_id}"))


def _document_body(items: Sequence[ItemQty] | None, *, notify: bool, comment: CommentInput | None) -> dict[str, Any]:
    body: dict[str, Any] = {"notify": notify}
    if items is not None:
        body["items"] = [item.wire() for item in items]
    if comment is not None:
        body["appendComment"] = True
        body["comment"] = comment.wire()
    return body
