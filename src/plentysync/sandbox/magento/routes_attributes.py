"""Product attributes (with their options) and attribute sets."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import MagentoError, bad_request, no_such_entity, not_found, required
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import evaluate, search_result
from plentysync.sandbox.magento.seed import new_attribute
from plentysync.sandbox.magento.state import Record

router = Router()
ATTRIBUTES = "Magento_Catalog::attributes_attributes"
SETS = "Magento_Catalog::sets"
PRODUCT_ENTITY_TYPE = 4
FIXED_ON_UPDATE = ("attribute_id", "attribute_code", "frontend_input", "is_user_defined", "options")
"""``ProductAttributeRepository::save`` keeps these from the stored attribute on an update."""


def _options(ctx: Ctx, attribute: Record) -> list[Record]:
    """Option list as Magento gives it: a blank first option, labels in the request's store view."""
    if attribute.get("frontend_input") not in ("select", "multiselect"):
        return []
    store_id = ctx.scope.store_id
    out: list[Record] = [{"label": " ", "value": ""}]
    for option in attribute.get("options") or []:
        label = option["label"]
        for store_label in option.get("store_labels") or []:
            if store_id and store_label.get("store_id") == store_id:
                label = store_label["label"]
        out.append({**copy.deepcopy(option), "label": label})
    return out


def _render_attribute(ctx: Ctx, attribute: Record) -> Record:
    return {**attribute, "options": _options(ctx, attribute)}


def _attribute(ctx: Ctx) -> Record:
    code = ctx.params["attributeCode"]
    attribute = ctx.state.attribute(code)
    if attribute is None:
        raise not_found(
            'The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute and try again.', [code]
        )
    return attribute


@router.route("GET", "/products/attributes", ATTRIBUTES)
def search_attributes(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria()
    items = [_render_attribute(ctx, a) for a in sorted(ctx.state.attributes.values(), key=lambda a: a["attribute_id"])]
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


@router.route("GET", "/products/attributes/{attributeCode}", ATTRIBUTES)
def get_attribute(ctx: Ctx) -> Record:
    return _render_attribute(ctx, _attribute(ctx))


@router.route("POST", "/products/attributes", ATTRIBUTES, body=("attribute",))
def post_attribute(ctx: Ctx) -> Record:
    data = ctx.field("attribute")
    if not isinstance(data, dict) or not data.get("attribute_code"):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "attribute_code"})
    code = str(data["attribute_code"])
    if code in ctx.state.attributes:
        raise bad_request("An attribute with the same code (%1) already exists.", [code])
    record = new_attribute(
        ctx.state,
        code,
        str(data.get("default_frontend_label") or code),
        str(data.get("frontend_input") or "text"),
        "varchar",
    )
    record.update({k: copy.deepcopy(v) for k, v in data.items() if k not in ("attribute_id", "options")})
    record["is_user_defined"] = True
    record["options"] = []
    ctx.state.attributes[code] = record
    for option in data.get("options") or []:
        if isinstance(option, dict) and str(option.get("label", "")).strip():
            _add_option(ctx, record, option)
    return _render_attribute(ctx, record)


@router.route("PUT", "/products/attributes/{attributeCode}", ATTRIBUTES, body=("attribute",))
def put_attribute(ctx: Ctx) -> Record:
    """Update the attribute named in the path; options whose label is new are added, others stay."""
    attribute = _attribute(ctx)
    data = ctx.field("attribute")
    if not isinstance(data, dict):
        raise required("attribute")
    if "default_frontend_label" in data and not str(data["default_frontend_label"] or "").strip():
        raise required("frontend_label")
    attribute.update({k: copy.deepcopy(v) for k, v in data.items() if k not in FIXED_ON_UPDATE})
    labels = {o["label"] for o in attribute["options"]}
    for option in data.get("options") or []:
        label = str(option.get("label", "")).strip() if isinstance(option, dict) else ""
        if label and label not in labels and attribute.get("frontend_input") in ("select", "multiselect"):
            _add_option(ctx, attribute, option)
            labels.add(label)
    return _render_attribute(ctx, attribute)


@router.route("DELETE", "/products/attributes/{attributeCode}", ATTRIBUTES)
def delete_attribute(ctx: Ctx) -> bool:
    """Deleting drops the attribute's product values and set memberships too (the EAV cascade).
    Attributes used by configurable products are locked, and system attributes are kept."""
    attribute = _attribute(ctx)
    code = str(attribute["attribute_code"])
    if _used_by_configurables(ctx, attribute):
        raise bad_request("This attribute is used in configurable products.")
    if not attribute.get("is_user_defined"):
        raise bad_request("The system attribute can't be deleted.")
    del ctx.state.attributes[code]
    for product in ctx.state.products.values():
        product["custom_attributes"] = [
            c for c in product.get("custom_attributes") or [] if c.get("attribute_code") != code
        ]
    for per_store in ctx.state.product_overrides.values():
        for values in per_store.values():
            values.pop(code, None)
    for members in ctx.state.attribute_set_members.values():
        if code in members:
            members.remove(code)
    return True


def _used_by_configurables(ctx: Ctx, attribute: Record) -> bool:
    attribute_id = str(attribute["attribute_id"])
    return any(
        str(option.get("attribute_id")) == attribute_id
        for product in ctx.state.products.values()
        for option in (product.get("extension_attributes") or {}).get("configurable_product_options") or []
    )


@router.route("GET", "/products/attributes/{attributeCode}/options", ATTRIBUTES)
def get_options(ctx: Ctx) -> list[Record]:
    return _options(ctx, _attribute(ctx))


def _add_option(ctx: Ctx, attribute: Record, option: Record) -> str:
    label = str(option.get("label", "")).strip()
    if not label:
        raise bad_request("The attribute option label is empty. Enter the value and try again.")
    if any(o["label"] == label for o in attribute["options"]):
        raise bad_request("Admin store attribute option label '%1' is already exists.", [label])
    value = str(ctx.state.next_id("attribute_option"))
    attribute["options"].append(
        {
            "label": label,
            "value": value,
            "sort_order": int(option.get("sort_order") or 0),
            "is_default": bool(option.get("is_default", False)),
            "store_labels": [
                {"store_id": int(s["store_id"]), "label": str(s["label"])} for s in option.get("store_labels") or []
            ],
        }
    )
    return value


@router.route("POST", "/products/attributes/{attributeCode}/options", ATTRIBUTES, body=("option",))
def post_option(ctx: Ctx) -> str:
    attribute = _attribute(ctx)
    if attribute.get("frontend_input") not in ("select", "multiselect"):
        raise bad_request('The "%1" attribute doesn\'t work with options.', [attribute["attribute_code"]])
    option = ctx.field("option")
    if not isinstance(option, dict):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "option"})
    return _add_option(ctx, attribute, option)


@router.route("DELETE", "/products/attributes/{attributeCode}/options/{optionId}", ATTRIBUTES)
def delete_option(ctx: Ctx) -> bool:
    attribute = _attribute(ctx)
    option_id = ctx.params["optionId"]
    if not any(o["value"] == option_id for o in attribute["options"]):
        raise not_found(
            'The "%1" attribute doesn\'t include an option with "%2" ID.', [attribute["attribute_code"], option_id]
        )
    attribute["options"] = [o for o in attribute["options"] if o["value"] != option_id]
    return True


@router.route("GET", "/products/attribute-sets/sets/list", SETS)
def attribute_sets(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria()
    items = [ctx.state.attribute_sets[k] for k in sorted(ctx.state.attribute_sets)]
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


def _attribute_set(ctx: Ctx) -> Record:
    set_id = ctx.int_param("attributeSetId")
    record = ctx.state.attribute_sets.get(set_id)
    if record is None or int(record.get("entity_type_id") or PRODUCT_ENTITY_TYPE) != PRODUCT_ENTITY_TYPE:
        raise no_such_entity("id", set_id)
    return record


@router.route("GET", "/products/attribute-sets/{attributeSetId}", SETS)
def get_attribute_set(ctx: Ctx) -> Record:
    return _attribute_set(ctx)


@router.route("GET", "/products/attribute-sets/{attributeSetId}/attributes", SETS)
def attribute_set_attributes(ctx: Ctx) -> list[Record]:
    record = _attribute_set(ctx)
    codes = ctx.state.attribute_set_codes(int(record["attribute_set_id"]))
    attributes = sorted((ctx.state.attributes[c] for c in codes), key=lambda a: int(a["attribute_id"]))
    return [_render_attribute(ctx, a) for a in attributes]


def _invalid_value(field_name: str, value: Any) -> MagentoError:
    return bad_request(
        'Invalid value of "%value" provided for the %fieldName field.', {"fieldName": field_name, "value": value}
    )


@router.route("POST", "/products/attribute-sets", SETS, body=("attributeSet", "skeletonId"))
def post_attribute_set(ctx: Ctx) -> Record:
    """``AttributeSetManagement::create``: a new set (no id given) whose attributes are copied from the
    skeleton set; names are unique per entity type."""
    data = ctx.field("attributeSet")
    if not isinstance(data, dict):
        raise required("attributeSet")
    skeleton = ctx.field("skeletonId")
    if data.get("attribute_set_id") is not None:
        raise _invalid_value("id", data["attribute_set_id"])
    if not isinstance(skeleton, int | str) or not str(skeleton).isdigit() or int(skeleton) == 0:
        raise _invalid_value("skeletonId", skeleton)
    skeleton_id = int(skeleton)
    if skeleton_id not in ctx.state.attribute_sets:
        raise no_such_entity("id", skeleton_id)
    name = str(data.get("attribute_set_name") or "").strip()
    if not name:
        raise bad_request("The attribute set name is empty. Enter the name and try again.")
    if any(s["attribute_set_name"] == name for s in ctx.state.attribute_sets.values()):
        raise bad_request('A "%1" attribute set name already exists. Create a new name and try again.', [name])
    set_id = ctx.state.next_id("attribute_set")
    record: Record = {
        "attribute_set_id": set_id,
        "attribute_set_name": name,
        "sort_order": int(data.get("sort_order") or 0),
        "entity_type_id": PRODUCT_ENTITY_TYPE,
    }
    ctx.state.attribute_sets[set_id] = record
    ctx.state.attribute_set_members[set_id] = ctx.state.attribute_set_codes(skeleton_id)
    return record
