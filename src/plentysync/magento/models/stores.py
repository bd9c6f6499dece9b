"""Websites, store groups, store views, store configs and countries (responses only)."""

from __future__ import annotations

from plentysync.magento.models.common import Int, WireModel


class Website(WireModel):
    id: Int = None
    code: str | None = None
    name: str | None = None
    default_group_id: Int = None


class StoreGroup(WireModel):
    id: Int = None
    website_id: Int = None
    root_category_id: Int = None
    default_store_id: Int = None
    name: str | None = None
    code: str | None = None


class StoreView(WireModel):
    id: Int = None
    code: str | None = None
    name: str | None = None
    website_id: Int = None
    store_group_id: Int = None
    is_active: Int = None


class StoreConfig(WireModel):
    id: Int = None
    code: str | None = None
    website_id: Int = None
    locale: str | None = None
    base_currency_code: str | None = None
    default_display_currency_code: str | None = None
    timezone: str | None = None
    weight_unit: str | None = None
    base_url: str | None = None
    base_media_url: str | None = None
    secure_base_url: str | None = None
    secure_base_media_url: str | None = None


class Region(WireModel):
    id: Int = None
    code: str | None = None
    name: str | None = None


class Country(WireModel):
    id: str | None = None
    two_letter_abbreviation: str | None = None
    three_letter_abbreviation: str | None = None
    full_name_locale: str | None = None
    full_name_english: str | None = None
    available_regions: list[Region] | None = None
