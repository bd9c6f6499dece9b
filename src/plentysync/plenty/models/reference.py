# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Reference data: webstores (plentyIds), warehouses, countries, VAT, units."""

from __future__ import annotations

from typing import Any

from plentysync.plenty.models.base import WireDecimal, WireModel


class Webstore(WireModel):
    """``storeIdentifier`` is the plentyId used everywhere; ``id`` is only the webstore id."""

    id: int | None = None
    type: str | None = None
    storeIdentifier: int | None = None
    name: str | None = None
    configuration: dict[str, Any] | None = None


class Warehouse(WireModel):
    id: int | None = None
    name: str | None = None
    typeId: int | None = None
    priority: int | None = None
    logisticsType: str | None = None
    updatedAt: str | None = None


class Country(WireModel):
    id: int | None = None
    name: str | None = None
    isoCode2: str | None = None
    isoCode3: str | None = None
    active: bool | int | None = None
    lang: str | None = None


class VatRate(WireModel):
    id: int | None = None
    name: str | None = None
    vatRate: WireDecimal | None = None


class VatConfig(WireModel):
    id: int | None = None
    countryId: int | None = None
    locationId: int | None = None
    vatRates: list[VatRate] | None = None


class Unit(WireModel):
    id: int | None = None
    unitOfMeasurement: str | None = None
    position: int | None = None
    isDecimalPlacesAllowed: bool | None = None
    names: list[dict[str, Any]] | None = None


class User(WireModel):
    """``GET /rest/user``: the back-end user the token belongs to."""

    id: int | None = None
    userId: int | None = None
    realName: str | None = None
    user: str | None = None
