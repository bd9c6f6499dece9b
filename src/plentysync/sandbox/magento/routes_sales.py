"""Orders, comments, cancel/hold, raw order save, invoices, shipments, tracks and credit memos.

Invoice, ship and refund return the new id as a JSON string, as real servers do (spec: integer)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.magento import sales
from plentysync.sandbox.magento.errors import bad_request, not_found
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import evaluate, search_result
from plentysync.sandbox.magento.state import Record

router = Router()
VIEW = "Magento_Sales::actions_view"
DOCUMENT_BODY = ("items", "notify", "appendComment", "comment", "arguments")
ENTITY_MISSING = "The entity that was requested doesn't exist. Verify the entity and try again."


def _order(ctx: Ctx, name: str = "id") -> Record:
    return ctx.state.order(ctx.int_param(name))


def _search(ctx: Ctx, records: list[Record]) -> dict[str, Any]:
    criteria = ctx.criteria()
    return search_result(evaluate(records, criteria, ctx.limits), criteria)


@router.route("GET", "/orders", VIEW)
def search_orders(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, [sales.render_order(ctx.state.orders[k]) for k in sorted(ctx.state.orders)])


@router.route("GET", "/orders/items", VIEW)
def search_items(ctx: Ctx) -> dict[str, Any]:
    items = [sales.render_order(o) for o in ctx.state.orders.values()]
    return _search(ctx, sorted((i for o in items for i in o["items"]), key=lambda i: i["item_id"]))


@router.route("GET", "/orders/items/{id}", VIEW)
def get_item(ctx: Ctx) -> Record:
    item_id = ctx.int_param("id")
    for order in ctx.state.orders.values():
        for item in sales.render_order(order)["items"]:
            if item["item_id"] == item_id:
                return dict(item)
    raise not_found(ENTITY_MISSING)


@router.route("GET", "/orders/{id}", VIEW)
def get_order(ctx: Ctx) -> Record:
    return sales.render_order(_order(ctx))


@router.route("GET", "/orders/{id}/statuses", VIEW)
def order_status(ctx: Ctx) -> str:
    return str(_order(ctx)["status"])


@router.route("GET", "/orders/{id}/comments", VIEW)
def get_comments(ctx: Ctx) -> dict[str, Any]:
    histories = list(_order(ctx)["status_histories"])
    return {"items": histories, "search_criteria": {"filter_groups": []}, "total_count": len(histories)}


@router.route("POST", "/orders/{id}/comments", "Magento_Sales::comment", body=("statusHistory",))
def post_comment(ctx: Ctx) -> bool:
    history = ctx.field("statusHistory")
    if not isinstance(history, dict):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "statusHistory"})
    return sales.add_comment(
        ctx.state, _order(ctx), history, ctx.now(), changes_status=ctx.config.comment_changes_status
    )


@router.route("POST", "/orders/{id}/cancel", "Magento_Sales::cancel")
def cancel_order(ctx: Ctx) -> bool:
    return sales.cancel(ctx.state, _order(ctx), ctx.now())


@router.route("POST", "/orders/{id}/hold", "Magento_Sales::hold")
def hold_order(ctx: Ctx) -> bool:
    return sales.hold(ctx.state, _order(ctx), ctx.now())


@router.route("POST", "/orders/{id}/unhold", "Magento_Sales::unhold")
def unhold_order(ctx: Ctx) -> bool:
    return sales.unhold(ctx.state, _order(ctx), ctx.now())


@router.route("POST", "/orders", "Magento_Sales::create", body=("entity",))
def save_order(ctx: Ctx) -> Record:
    return sales.render_order(sales.raw_save(ctx.state, ctx.field("entity"), ctx.now()))


@router.route("PUT", "/orders/create", "Magento_Sales::create", body=("entity",))
def create_order(ctx: Ctx) -> Record:
    return sales.render_order(sales.raw_save(ctx.state, ctx.field("entity"), ctx.now()))


def _items(ctx: Ctx) -> list[Record] | None:
    items = ctx.field("items", required=False)
    if items is None:
        return None
    if not isinstance(items, list):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "items"})
    ctx.check_array(items, "\\Magento\\Sales\\Api\\Data\\InvoiceItemCreationInterface")
    return items


def _comment(ctx: Ctx) -> Record | None:
    comment = ctx.field("comment", required=False)
    return comment if isinstance(comment, dict) and ctx.field("appendComment", required=False) else None


@router.route("POST", "/order/{orderId}/invoice", "Magento_Sales::invoice", body=(*DOCUMENT_BODY, "capture"))
def invoice_order(ctx: Ctx) -> str:
    order = _order(ctx, "orderId")
    capture = bool(ctx.field("capture", required=False))
    return str(sales.invoice(ctx.state, order, _items(ctx), capture=capture, comment=_comment(ctx), now=ctx.now()))


@router.route("POST", "/order/{orderId}/ship", "Magento_Sales::ship", body=(*DOCUMENT_BODY, "tracks", "packages"))
def ship_order(ctx: Ctx) -> str:
    order = _order(ctx, "orderId")
    arguments = ctx.field("arguments", required=False) or {}
    source_code = ((arguments.get("extension_attributes") or {}) if isinstance(arguments, dict) else {}).get(
        "source_code"
    )
    tracks = ctx.field("tracks", required=False) or []
    shipment_id = sales.ship(
        ctx.state, order, _items(ctx), tracks=tracks, source_code=source_code, comment=_comment(ctx), now=ctx.now()
    )
    return str(shipment_id)


@router.route("POST", "/order/{orderId}/refund", "Magento_Sales::creditmemo", body=(*DOCUMENT_BODY, "isOnline"))
def refund_order(ctx: Ctx) -> str:
    order = _order(ctx, "orderId")
    arguments = ctx.field("arguments", required=False) or {}
    creditmemo_id = sales.refund(
        ctx.state, order, _items(ctx), arguments=arguments, comment=_comment(ctx), now=ctx.now()
    )
    return str(creditmemo_id)


@router.route("POST", "/invoice/{invoiceId}/refund", "Magento_Sales::sales_invoice", body=(*DOCUMENT_BODY, "isOnline"))
def refund_invoice(ctx: Ctx) -> str:
    invoice = _document(ctx.state.invoices, ctx, "invoiceId")
    arguments = ctx.field("arguments", required=False) or {}
    creditmemo_id = sales.refund_invoice(
        ctx.state, invoice, _items(ctx), arguments=arguments, comment=_comment(ctx), now=ctx.now()
    )
    return str(creditmemo_id)


def _document(records: dict[int, Record], ctx: Ctx, name: str) -> Record:
    record = records.get(ctx.int_param(name))
    if record is None:
        raise not_found(ENTITY_MISSING)
    return record


@router.route("GET", "/invoices", "Magento_Sales::sales_invoice")
def search_invoices(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, [ctx.state.invoices[k] for k in sorted(ctx.state.invoices)])


@router.route("GET", "/invoices/{id}", "Magento_Sales::sales_invoice")
def get_invoice(ctx: Ctx) -> Record:
    return _document(ctx.state.invoices, ctx, "id")


@router.route("GET", "/shipments", "Magento_Sales::shipment")
def search_shipments(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, [ctx.state.shipments[k] for k in sorted(ctx.state.shipments)])


@router.route("GET", "/shipment/{id}", "Magento_Sales::shipment")
def get_shipment(ctx: Ctx) -> Record:
    return _document(ctx.state.shipments, ctx, "id")


@router.route("POST", "/shipment/track", "Magento_Sales::ship", body=("entity",))
def add_track(ctx: Ctx) -> Record:
    data = ctx.field("entity")
    if not isinstance(data, dict):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "entity"})
    shipment = ctx.state.shipments.get(int(data.get("parent_id") or 0))
    if shipment is None:
        raise not_found(ENTITY_MISSING)
    order = ctx.state.order(int(shipment["order_id"]))
    track = sales.make_track(ctx.state, order, shipment["entity_id"], data, ctx.now())
    shipment["tracks"].append(track)
    shipment["updated_at"] = ctx.now()
    return dict(track)


@router.route("DELETE", "/shipment/track/{id}", "Magento_Sales::ship")
def delete_track(ctx: Ctx) -> bool:
    track_id = ctx.int_param("id")
    for shipment in ctx.state.shipments.values():
        for track in shipment["tracks"]:
            if track["entity_id"] == track_id:
                shipment["tracks"].remove(track)
                return True
    raise bad_request("Could not delete the shipment tracking information.")


@router.route("GET", "/creditmemos", "Magento_Sales::sales_creditmemo")
def search_creditmemos(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, [ctx.state.creditmemos[k] for k in sorted(ctx.state.creditmemos)])


@router.route("GET", "/creditmemo/{id}", "Magento_Sales::sales_creditmemo")
def get_creditmemo(ctx: Ctx) -> Record:
    return _document(ctx.state.creditmemos, ctx, "id")
