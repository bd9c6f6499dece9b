from __future__ import annotations

from datetime import UTC, datetime

from plentysync.magento.dates import format_datetime, parse_datetime
from plentysync.magento.models.customers import Customer
from plentysync.magento.models.orders import Order
from plentysync.magento.models.products import Product


def test_custom_attributes_string_or_list() -> None:
    product = Product.model_validate(
        {
            "sku": "A",
            "custom_attributes": [
                {"attribute_code": "description", "value": "<p>x</p>"},
                {"attribute_code": "category_ids", "value": ["15", "27"]},
                {"attribute_code": "colors", "value": "5,7"},
            ],
            "unexpected": {"kept": True},
        }
    )
    assert product.custom_attribute("description") == "<p>x</p>"
    assert product.custom_attribute("category_ids") == ["15", "27"]
    assert product.custom_attribute_list("colors") == ["5", "7"]
    assert product.custom_attribute_list("category_ids") == ["15", "27"]
    assert product.custom_attribute("missing") is None
    assert product.model_extra == {"unexpected": {"kept": True}}


def test_nulls_and_numeric_strings_are_tolerated() -> None:
    customer = Customer.model_validate({"id": "5", "default_billing": "7", "default_shipping": None, "dob": None})
    assert customer.id == 5
    assert customer.default_billing == 7
    assert customer.default_shipping is None


def test_order_helpers() -> None:
    order = Order.model_validate(
        {
            "entity_id": 3,
            "items": [
                {"item_id": 1, "product_type": "configurable", "sku": "TEE-M", "price": 22},
                {"item_id": 2, "parent_item_id": 1, "product_type": "simple", "sku": "TEE-M", "price": 0},
            ],
            "payment": {"method": "checkmo", "cc_last4": None, "additional_information": ["Check", ""]},
            "extension_attributes": {
                "shipping_assignments": [{"shipping": {"address": {"city": "Berlin", "street": ["A 1"]}}}],
                "payment_additional_info": [{"key": "method_title", "value": "Check / Money order"}],
            },
        }
    )
    assert [i.item_id for i in order.lines] == [1]
    assert order.shipping_address is not None
    assert order.shipping_address.city == "Berlin"
    assert order.payment_info == {"method_title": "Check / Money order"}


def test_dates_convert_at_the_edge() -> None:
    moment = parse_datetime("2024-05-01 22:22:19")
    assert moment == datetime(2024, 5, 1, 22, 22, 19, tzinfo=UTC)
    assert parse_datetime("") is None
    assert parse_datetime("0000-00-00 00:00:00") is None
    assert format_datetime(datetime.fromisoformat("2024-05-02T00:22:19+02:00")) == "2024-05-01 22:22:19"
    assert (
        Product.model_validate({"updated_at": "2024-05-01 22:22:19"}).model_dump(mode="json")["updated_at"]
        == "2024-05-01 22:22:19"
    )
