# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Contacts, their addresses, accounts (companies) and customer classes."""

from __future__ import annotations

from typing import Any

from plentysync.plenty.models.base import RequestModel, WireDecimal, WireModel


class ContactOption(WireModel):
    id: int | None = None
    typeId: int | None = None
    subTypeId: int | None = None
    value: str | None = None
    priority: int | None = None


class AddressOption(WireModel):
    id: int | None = None
    typeId: int | None = None
    value: str | None = None


class Address(WireModel):
    id: int | None = None
    gender: str | None = None
    name1: str | None = None
    name2: str | None = None
    name3: str | None = None
    name4: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    postalCode: str | None = None
    town: str | None = None
    countryId: int | None = None
    stateId: int | None = None
    options: list[AddressOption] | None = None
    pivot: dict[str, Any] | None = None


class Account(WireModel):
    id: int | None = None
    number: str | None = None
    companyName: str | None = None
    taxIdNumber: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class Contact(WireModel):
    id: int | None = None
    number: str | None = None
    externalId: str | None = None
    typeId: int | None = None
    firstName: str | None = None
    lastName: str | None = None
    fullName: str | None = None
    email: str | None = None
    gender: str | None = None
    lang: str | None = None
    classId: int | None = None
    referrerId: WireDecimal | None = None
    plentyId: int | None = None
    singleAccess: bool | str | int | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    options: list[ContactOption] | None = None
    addresses: list[Address] | None = None
    accounts: list[Account] | None = None

    @property
    def is_guest(self) -> bool:
        return str(self.singleAccess).lower() in ("1", "true")


class CustomerClass(WireModel):
    id: int | None = None
    name: str | None = None


# -- requests ---------------------------------------------------------------------------------


class ContactOptionWrite(RequestModel):
    typeId: int
    subTypeId: int
    value: str
    priority: int | None = None


class ContactCreate(RequestModel):
    """``POST /rest/accounts/contacts``. The spec declares only ``typeId``, ``referrerId``, ``title``
    and ``options``; the servers take the full contact (notes §11.1) and a contact without names
    is useless, so the names and keys are sent."""

    typeId: int = 1
    referrerId: WireDecimal
    plentyId: int | None = None
    number: str | None = None
    externalId: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    gender: str | None = None
    lang: str | None = None
    classId: int | None = None
    title: str | None = None
    options: list[ContactOptionWrite] | None = None


class AddressOptionWrite(RequestModel):
    typeId: int
    value: str


class AddressCreate(RequestModel):
    gender: str | None = None
    name1: str | None = None
    name2: str | None = None
    name3: str | None = None
    name4: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    address4: str | None = None
    postalCode: str | None = None
    town: str
    countryId: int
    stateId: int | None = None
    options: list[AddressOptionWrite] | None = None


class AccountCreate(RequestModel):
    companyName: str
    number: str | None = None
    taxIdNumber: str | None = None
    valuta: int | None = None
    discountDays: int | None = None
    discountPercent: WireDecimal | None = None
    timeForPaymentAllowedDays: int | None = None
