"""``POST /webhooks/stock``: signed stock change notifications, queued urgently for the stock export.

The checks, in order (each answers before the next runs):

=====  ==================================================================================
503    no webhook secret configured (``serve.webhook.secret``): every request is refused
413    body larger than ``serve.webhook.max_body_bytes``
401    signature or timestamp missing, malformed, wrong, or the timestamp outside the window
415    ``Content-Type`` missing or not JSON (``application/json`` or ``application/*+json``)
400    body not JSON, or not one of the accepted forms (:mod:`plentysync.sync.stock.webhook`)
503    the stock export profile does not exist yet (nothing would ever run the rows)
409    this exact signed request was accepted before (replay inside the window)
202    queued: ``{queued, coalesced, published, skus}``
=====  ==================================================================================

Neither the body nor the signature is ever logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from plentysync.errors import ConfigError
from plentysync.log import get_logger
from plentysync.runtime.urgent import push_urgent
from plentysync.sync.stock import webhook as core
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.web.app import WebServices, get_services

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Plentysync-Signature"
TIMESTAMP_HEADER = "X-Plentysync-Timestamp"
AUTH_CHALLENGE = {"WWW-Authenticate": f'HMAC-SHA256 headers="{TIMESTAMP_HEADER} {SIGNATURE_HEADER}"'}

router = APIRouter(tags=["webhooks"])


class WebhookAccepted(BaseModel):
    queued: int = Field(description="SKUs that got a new queue row.")
    coalesced: int = Field(description="SKUs that already had a row, set back to pending at urgent priority.")
    published: bool = Field(
        description="A worker was woken through the broker. False: no broker, or it did not take the message; "
        "the rows wait in the database queue for the next drain."
    )
    skus: int = Field(description="Distinct SKUs the notification named.")


class WebhookError(BaseModel):
    detail: str


_KEYS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}, "minItems": 1}
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "The raw bytes are signed: send exactly the bytes you signed.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {
                        "title": "Skus",
                        "type": "object",
                        "required": ["skus"],
                        "properties": {"skus": _KEYS},
                    },
                    {
                        "title": "EntityKeys",
                        "type": "object",
                        "required": ["entity", "keys"],
                        "properties": {"entity": {"const": core.ENTITY}, "keys": _KEYS},
                    },
                    {
                        "title": "AdobeCommerceEvent",
                        "type": "object",
                        "required": ["data"],
                        "description": 'Every "sku" field anywhere under "data" is taken.',
                        "properties": {"eventName": {"type": "string"}, "data": {"type": ["object", "array"]}},
                    },
                ]
            },
            "examples": {
                "skus": {"value": {"skus": ["24-MG04", "WSH12"]}},
                "entity": {"value": {"entity": "stock", "keys": ["24-MG04"]}},
                "adobe_commerce": {
                    "value": {
                        "eventName": "observer.cataloginventory_stock_item_save_after",
                        "data": {"value": {"sku": "24-MG04", "qty": 7}},
                    }
                },
            },
        }
    },
}


HEADER_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": TIMESTAMP_HEADER,
        "in": "header",
        "required": True,
        "description": "Unix seconds the request was signed at.",
        "schema": {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,6})?$"},
    },
    {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the shared secret.",
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
    },
]


def is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type such as ``application/cloudevents+json``, any parameters."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _refuse(status: int, message: str, *, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail=message, headers=headers)


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _refuse(413, f"body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _refuse(413, f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhooks/stock",
    status_code=202,
    response_model=WebhookAccepted,
    summary="Queue stock changes for export (signed)",
    description=(
        f'Sign `"<timestamp>." + body` with HMAC-SHA256 under the shared secret; send the Unix timestamp in '
        f"`{TIMESTAMP_HEADER}` and `sha256=<hex digest>` in `{SIGNATURE_HEADER}`. Requests signed more than "
        "`serve.webhook.max_age_seconds` ago (or ahead) are refused, and so is a second delivery of the same "
        "signed request: sign every delivery, retries included, afresh."
    ),
    responses={
        400: {"model": WebhookError, "description": "Body not JSON or not an accepted form."},
        401: {"model": WebhookError, "description": "Signature or timestamp missing, wrong or outside the window."},
        409: {"model": WebhookError, "description": "This signed request was accepted before (replay)."},
        413: {"model": WebhookError, "description": "Body larger than `serve.webhook.max_body_bytes`."},
        415: {"model": WebhookError, "description": "`Content-Type` missing or not `application/json`."},
        503: {"model": WebhookError, "description": "No webhook secret configured, or no stock export profile."},
    },
    # The headers are read from the request, not declared as parameters: a missing one is a 401 from
    # the signature check (not FastAPI's 422), and the OpenAPI document can still call them required.
    openapi_extra={"parameters": HEADER_PARAMETERS, "requestBody": REQUEST_BODY},
)
async def stock_webhook(
    request: Request,
    services: Annotated[WebServices, Depends(get_services)],
) -> WebhookAccepted:
    signature = request.headers.get(SIGNATURE_HEADER)
    timestamp = request.headers.get(TIMESTAMP_HEADER)
    settings = services.settings.serve.webhook
    client = request.client.host if request.client else None
    secret = settings.secret.get_secret_value() if settings.secret is not None else ""
    if not secret:
        log.warning("webhook.no_secret", client=client)
        raise _refuse(
            503, "webhook intake is not configured: set serve.webhook.secret (PLENTYSYNC_SERVE__WEBHOOK__SECRET)"
        )
    body = await read_capped(request, settings.max_body_bytes)
    now = services.engine.clock.now().timestamp()
    try:
        core.verify(secret, body, signature=signature, timestamp=timestamp, now=now, tolerance=settings.max_age_seconds)
    except core.WebhookRejected as exc:
        log.warning("webhook.unauthenticated", client=client, reason=str(exc))
        raise _refuse(401, str(exc), headers=AUTH_CHALLENGE) from None
    except ConfigError as exc:  # verify() refusing an empty secret; checked above already
        raise _refuse(503, str(exc)) from None
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        log.warning("webhook.unsupported_media_type", client=client, content_type=(content_type or "")[:100])
        raise _refuse(
            415,
            f"Content-Type must be application/json, not {content_type[:100]!r}"
            if content_type
            else "Content-Type is missing: send the body as application/json",
            headers={"Accept": "application/json"},
        )
    try:
        skus = core.parse_skus(body, max_bytes=settings.max_body_bytes)
    except core.WebhookRejected as exc:
        log.warning("webhook.bad_payload", client=client, bytes=len(body))  # the reason may quote the body
        raise _refuse(400, str(exc)) from None
    assert signature is not None  # verify() refuses requests without them
    assert timestamp is not None
    engine = services.engine
    if await engine.profiles.find(EXPORT_TYPE_ID) is None:
        log.warning("webhook.no_profile", client=client, profile=EXPORT_TYPE_ID)
        raise _refuse(
            503, f"the stock export profile {EXPORT_TYPE_ID} does not exist yet: create it before sending webhooks"
        )
    if not await services.replay.first_time(timestamp, signature):
        log.warning("webhook.replay", client=client)
        raise _refuse(409, "this signed request was accepted before: sign every delivery afresh")
    try:
        result = await push_urgent(engine.queue, EXPORT_TYPE_ID, skus, reason="webhook", publisher=services.publisher)
    except Exception:
        await services.replay.forget(timestamp, signature)  # nothing was queued: let the sender retry as is
        raise
    accepted = WebhookAccepted(
        queued=result.enqueued.inserted,
        coalesced=result.enqueued.updated,
        published=result.published,
        skus=len(skus),
    )
    log.info("webhook.accepted", client=client, **accepted.model_dump())
    return accepted
