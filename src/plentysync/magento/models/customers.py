"""Customers, their addresses and customer groups."""

from __future__ import annotations

from datetime import date

from plentysync.magento.dates import MagentoDateTime
from plentysync.magento.models.common import (
    Bool,
    CustomAttributeInput,
    HasCustomAttributes,
    Int,
    RequestModel,
    WireModel,
)


class AddressRegion(WireModel):
    region_code: str | None = None
    region: str | None = None
    region_id: Int = None


class CustomerAddress(HasCustomAttributes):
    id: Int = None
    customer_id: Int = None
    region: AddressRegion | None = None
    region_id: Int = None
    country_id: str | None = None
    street: list[str] | None = None
    company: str | None = None
    telephone: str | None = None
    fax: str | None = None
    postcode: str | None = None
    city: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    vat_id: str | None = None
    default_shipping: Bool = None
    default_billing: Bool = None


class CustomerExtension(WireModel):
    is_subscribed: Bool = None


class Customer(HasCustomAttributes):
    id: Int = None
    group_id: Int = None
    default_billing: Int = None
    """An address id (Magento sends it as a string)."""
    default_shipping: Int = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    created_in: str | None = None
    dob: date | None = None
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    gender: Int = None
    store_id: Int = None
    taxvat: str | None = None
    website_id: Int = None
    addresses: list[CustomerAddress] | None = None
    disable_auto_group_change: Int = None
    extension_attributes: CustomerExtension | None = None


class CustomerGroup(WireModel):
    id: Int = None
    code: str | None = None
    tax_class_id: Int = None
    tax_class_name: str | None = None


# ---- requests -------------------------------------------------------------------------------------------------


class RegionInput(RequestModel):
    region_code: str | None = None
    region: str | None = None
    region_id: int | None = None


class AddressInput(RequestModel):
    id: int | None = None
    """Set to keep (update) an existing address; leave out to create one."""
    region: RegionInput | None = None
    region_id: int | None = None
    country_id: str
    street: list[str]
    company: str | None = None
    telephone: str | None = None
    fax: str | None = None
    postcode: str | None = None
    city: str
    firstname: str
    lastname: str
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    vat_id: str | None = None
    default_shipping: bool | None = None
    default_billing: bool | None = None


class CustomerExtensionInput(RequestModel):
    is_subscribed: bool | None = None


class CustomerInput(RequestModel):
    """``PUT`` is a full save: send ``email``, ``firstname``, ``lastname`` and ``website_id`` every time.
    Addresses are not part of this model; the create and update calls take them explicitly."""

    id: int | None = None
    group_id: int | None = None
    email: str
    firstname: str
    lastname: str
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    dob: date | None = None
    gender: int | None = None
    store_id: int | None = None
    website_id: int | None = None
    taxvat: str | None = None
    disable_auto_group_change: int | None = None
    extension_attributes: CustomerExtensionInput | None = None
    custom_attributes: list[CustomAttributeInput] | None = None
