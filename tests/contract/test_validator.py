"""The validator itself, on small hand-made exchanges that must pass or must fail."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from plentysync.sandbox.recorder import Exchange
from tests.contract import conftest, specs
from tests.contract.allowlist import AllowList
from tests.contract.validate import ContractValidator, normalise_query_name

JSON = (("content-type", "application/json"),)


def exchange(
    system: str,
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    body: Any = None,
    status: int = 200,
    response: Any = None,
) -> Exchange:
    pairs = tuple(query.items()) if isinstance(query, Mapping) else tuple(query)
    return Exchange(
        system=system,
        method=method,
        path=path,
        query=pairs,
        request_body=body,
        request_content_type="application/json" if body is not None else "",
        status=status,
        response_body=response,
        response_headers=JSON,
    )


def assert_problem(problems: list[str], *fragments: str) -> None:
    assert any(all(fragment in problem for fragment in fragments) for problem in problems), problems


@pytest.fixture
def fresh_validator(plenty_spec: Mapping[str, Any], magento_spec: Mapping[str, Any], tmp_path: Path) -> Any:
    """A validator with its own allow-list file, so tests can add entries and watch their usage."""

    def build(toml: str = "") -> ContractValidator:
        path = tmp_path / "allowlist.toml"
        path.write_text(toml, encoding="utf-8")
        return ContractValidator({"plenty": plenty_spec, "magento": magento_spec}, AllowList.load(path))

    return build


# routes


def test_literal_template_beats_path_parameter(contract_validator: ContractValidator) -> None:
    listing = exchange("plenty", "GET", "/rest/items/variations", response={"entries": []})
    single = exchange("plenty", "GET", "/rest/items/17", response={"id": 17})

    assert contract_validator.route_label(listing).endswith("GET /rest/items/variations")
    assert "{" in contract_validator.route_label(single)
    assert contract_validator.validate_exchange(listing) == []
    assert contract_validator.validate_exchange(single) == []


def test_unknown_route_fails(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(exchange("plenty", "GET", "/rest/no/such/route"))

    assert_problem(problems, "route not in spec")


def test_undeclared_method_fails_and_names_the_declared_ones(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(exchange("plenty", "DELETE", "/rest/webstores", status=404))

    assert_problem(problems, "route not in spec", "GET")


def test_path_parameter_of_wrong_type_fails(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(exchange("plenty", "GET", "/rest/orders/abc", status=404))

    assert_problem(problems, "orderId", "'abc'")


def test_allow_listed_route_passes_and_counts_as_used(fresh_validator: Any) -> None:
    toml = '[[route]]\nsystem = "plenty"\nmethod = "GET"\npath = "/rest/vendor/{id}/thing"\nreason = "test"\n'
    validator = fresh_validator(toml)
    assert [entry.path for entry in validator.allowlist.stale()] == ["/rest/vendor/{id}/thing"]

    problems = validator.validate_exchange(exchange("plenty", "GET", "/rest/vendor/5/thing", response={"x": 1}))

    assert problems == []
    assert validator.allowlist.stale() == []


def test_allow_listed_route_still_gets_its_error_envelope_checked(fresh_validator: Any) -> None:
    toml = '[[route]]\nsystem = "plenty"\nmethod = "GET"\npath = "/rest/vendor"\nreason = "test"\n'
    validator = fresh_validator(toml)

    problems = validator.validate_exchange(exchange("plenty", "GET", "/rest/vendor", status=500, response={"x": 1}))

    assert_problem(problems, "error response", "'error' is a required property")


def test_allow_list_entries_need_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "allowlist.toml"
    path.write_text('[[route]]\nsystem = "plenty"\nmethod = "GET"\npath = "/rest/x"\n', encoding="utf-8")

    with pytest.raises(ValueError, match="reason"):
        AllowList.load(path)


def test_project_allow_list_loads_and_every_entry_has_a_reason() -> None:
    allowlist = AllowList.load()

    assert all(entry.reason and entry.system in specs.SYSTEMS for entry in allowlist.entries)


@pytest.mark.parametrize(
    "path",
    [
        "/rest/V1/products/ABC-1",
        "/rest/default/V1/products/ABC-1",
        "/rest/all/V1/products/ABC-1",
        "/rest/de_ch/V1/products/ABC-1",
        "/index.php/rest/V1/products/ABC-1",
        "/index.php/rest/en/V1/products/ABC-1",
    ],
)
def test_magento_store_code_prefixes_map_to_the_same_operation(
    contract_validator: ContractValidator, path: str
) -> None:
    found = exchange("magento", "GET", path, response={"sku": "ABC-1"})

    assert contract_validator.route_label(found) == "magento GET /V1/products/{sku}"
    assert contract_validator.validate_exchange(found) == []


def test_magento_path_outside_rest_is_not_in_spec(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(exchange("magento", "GET", "/V2/products/x"))

    assert_problem(problems, "route not in spec")


@pytest.mark.parametrize("path", ["/rest/V1/products/A%2FB/media", "/rest/all/V1/products/A/B/media"])
def test_sku_with_encoded_or_decoded_slash_matches_one_parameter(
    contract_validator: ContractValidator, path: str
) -> None:
    found = exchange("magento", "GET", path, response=[])

    assert contract_validator.route_label(found) == "magento GET /V1/products/{sku}/media"
    assert contract_validator.validate_exchange(found) == []


# query parameters


def test_with_brackets_and_comma_form_are_the_same_parameter(contract_validator: ContractValidator) -> None:
    brackets = exchange(
        "plenty", "GET", "/rest/items/variations", query=[("with[]", "variationBarcodes"), ("with[]", "item")]
    )
    comma = exchange("plenty", "GET", "/rest/items/variations", query={"with": "variationBarcodes,item"})

    assert contract_validator.validate_exchange(brackets) == []
    assert contract_validator.validate_exchange(comma) == []


def test_unknown_query_parameter_fails(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(
        exchange("plenty", "GET", "/rest/items", query={"itemsPerPage": "50", "parentCategoryId": "3"})
    )

    assert problems == ["query parameter 'parentCategoryId' is not declared"]


def test_search_criteria_in_snake_or_camel_case_with_any_index_passes(contract_validator: ContractValidator) -> None:
    query = [
        ("searchCriteria[filter_groups][0][filters][0][field]", "updated_at"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gteq"),
        ("searchCriteria[filterGroups][3][filters][2][value]", "2026-01-01 00:00:00"),
        ("searchCriteria[sortOrders][1][direction]", "ASC"),
        ("searchCriteria[page_size]", "100"),
        ("searchCriteria[currentPage]", "2"),
        ("fields", "items[entity_id,updated_at],total_count"),
    ]

    problems = contract_validator.validate_exchange(exchange("magento", "GET", "/rest/V1/orders", query=query))

    assert problems == []


def test_empty_search_criteria_passes_but_unknown_criteria_key_fails(contract_validator: ContractValidator) -> None:
    empty = exchange("magento", "GET", "/rest/V1/products", query={"searchCriteria": ""})
    unknown = exchange("magento", "GET", "/rest/V1/products", query={"searchCriteria[filter_groups][0][x]": "1"})

    assert contract_validator.validate_exchange(empty) == []
    assert_problem(contract_validator.validate_exchange(unknown), "searchCriteria[filter_groups][0][x]")


def test_fields_is_global_on_magento_only(contract_validator: ContractValidator) -> None:
    magento = exchange("magento", "GET", "/rest/V1/products/X", query={"fields": "sku,name"})
    plenty = exchange("plenty", "GET", "/rest/webstores", query={"fields": "id"})

    assert contract_validator.validate_exchange(magento) == []
    assert_problem(contract_validator.validate_exchange(plenty), "'fields'")


@pytest.mark.parametrize(
    ("raw", "system", "expected"),
    [
        ("with[]", "plenty", "with"),
        ("id[0]", "plenty", "id"),
        ("searchCriteria[filter_groups][12][filters][0][condition_type]", "magento", None),
        ("searchCriteria[filterGroups][0][filters][0][conditionType]", "magento", None),
    ],
)
def test_query_name_normalisation(raw: str, system: Any, expected: str | None) -> None:
    camel = normalise_query_name("searchCriteria[filterGroups][0][filters][0][conditionType]", "magento")

    assert normalise_query_name(raw, system) == (expected if expected is not None else camel)


# request bodies


def test_wrong_type_in_request_body_fails(contract_validator: ContractValidator) -> None:
    body = {"corrections": [{"variationId": "1001", "quantity": 5, "storageLocationId": 0, "reasonId": 301}]}

    problems = contract_validator.validate_exchange(
        exchange("plenty", "PUT", "/rest/stockmanagement/warehouses/1/stock/correction", body=body)
    )

    assert_problem(problems, "corrections[0].variationId", "integer")


def test_unknown_request_body_field_fails(contract_validator: ContractValidator) -> None:
    body = {"product": {"sku": "ABC", "name": "Chair", "colour": "red"}}

    problems = contract_validator.validate_exchange(exchange("magento", "PUT", "/rest/all/V1/products/ABC", body=body))

    assert_problem(problems, "product", "'colour' was unexpected")


def test_missing_required_request_field_fails(contract_validator: ContractValidator) -> None:
    magento = exchange("magento", "PUT", "/rest/V1/products/ABC", body={"saveOptions": True})
    plenty = exchange("plenty", "POST", "/rest/io/customer/login", body={"email": "a@example.com"})

    assert_problem(contract_validator.validate_exchange(magento), "'product' is a required property")
    assert_problem(contract_validator.validate_exchange(plenty), "'password' is a required property")


def test_magento_accepts_camel_case_fields_and_ignores_getter_required_lists(
    contract_validator: ContractValidator,
) -> None:
    ok = exchange(
        "magento",
        "PUT",
        "/rest/V1/products/ABC/stockItems/1",
        body={"stockItem": {"qty": 25, "isInStock": True}},
        response=1,
    )
    typo = exchange("magento", "PUT", "/rest/V1/products/ABC/stockItems/1", body={"stockItem": {"quantity": 25}})

    assert contract_validator.validate_exchange(ok) == []
    assert_problem(contract_validator.validate_exchange(typo), "'quantity' was unexpected")


def test_documented_plenty_request_bodies_pass_despite_stub_schemas(contract_validator: ContractValidator) -> None:
    item = {"variations": [{"variationCategories": [{"categoryId": 400}], "unit": {"unitId": 1, "content": 1}}]}
    contact = {"typeId": 1, "referrerId": 1, "firstName": "Max", "lastName": "Mustermann", "lang": "de"}
    payment = {
        "amount": 1.5,
        "exchangeRatio": 1,
        "mopId": 6000,
        "currency": "EUR",
        "type": "credit",
        "status": 2,
        "transactionType": 2,
        "properties": [{"typeId": 1, "value": "TX-1"}],
    }
    cases = [
        exchange("plenty", "POST", "/rest/items", body=item),
        exchange("plenty", "POST", "/rest/accounts/contacts", body=contact),
        exchange("plenty", "POST", "/rest/payments", body=payment),
        exchange("plenty", "POST", "/rest/login", query={"username": "u", "password": "p"}),
        exchange("plenty", "GET", "/rest/payments/property/1/TX-1", response=[]),
    ]

    for found in cases:
        assert contract_validator.validate_exchange(found) == [], found.path
    bad_item = {"variations": [{"unit": {"unitId": "one"}, "colour": "red"}]}
    assert_problem(
        contract_validator.validate_exchange(exchange("plenty", "POST", "/rest/items", body=bad_item)), "colour"
    )


def test_body_on_an_operation_without_one_fails(contract_validator: ContractValidator) -> None:
    problems = contract_validator.validate_exchange(exchange("plenty", "GET", "/rest/webstores", body={"x": 1}))

    assert_problem(problems, "declares none")


def test_plenty_category_create_takes_an_array(contract_validator: ContractValidator) -> None:
    good = [{"parentCategoryId": 399, "type": "item", "right": "all"}]
    bad = [{"parentCategoryId": "x", "type": "item"}]

    assert contract_validator.validate_exchange(exchange("plenty", "POST", "/rest/categories", body=good)) == []
    assert_problem(
        contract_validator.validate_exchange(exchange("plenty", "POST", "/rest/categories", body=bad)),
        "body[0]",
        "parentCategoryId",
    )


def test_form_encoded_login_is_not_json_validated(contract_validator: ContractValidator) -> None:
    login = Exchange(
        "plenty",
        "POST",
        "/rest/login",
        (),
        "username=a&password=b",
        "application/x-www-form-urlencoded",
        200,
        {"access_token": "t", "accessToken": "t"},
        JSON,
    )

    assert contract_validator.validate_exchange(login) == []


# responses


def test_response_accepts_nulls_unknown_fields_and_string_pagination_numbers(
    contract_validator: ContractValidator,
) -> None:
    response = {
        "page": 1,
        "totalsCount": 1,
        "isLastPage": True,
        "itemsPerPage": "100",
        "entries": [{"id": 1, "itemId": 2, "number": None, "somethingNew": {"x": 1}}],
    }

    found = exchange("plenty", "GET", "/rest/items/variations", response=response)

    assert contract_validator.validate_exchange(found) == []


def test_response_type_mismatch_of_declared_field_fails(contract_validator: ContractValidator) -> None:
    response = {"page": 1, "itemsPerPage": "many", "entries": [{"id": "one"}]}

    problems = contract_validator.validate_exchange(
        exchange("plenty", "GET", "/rest/items/variations", response=response)
    )

    assert_problem(problems, "itemsPerPage")
    assert_problem(problems, "entries[0].id")


def test_documented_plenty_deviations_pass(contract_validator: ContractValidator) -> None:
    properties = {"page": 1, "totalsCount": 0, "isLastPage": True, "entries": []}
    referrers = [{"id": "2.08", "name": "Amazon"}, {"id": 1.0, "name": "Client"}]
    classes = {"1": "Standard-Endkunde", "2": "B2C"}

    for found in (
        exchange("plenty", "GET", "/rest/properties", response=properties),
        exchange("plenty", "GET", "/rest/orders/referrers", response=referrers),
        exchange("plenty", "GET", "/rest/accounts/contacts/classes", response=classes),
    ):
        assert contract_validator.validate_exchange(found) == [], found.path


def test_documented_magento_deviations_pass(contract_validator: ContractValidator) -> None:
    product = {"sku": "A", "custom_attributes": [{"attribute_code": "category_ids", "value": ["3", "4"]}]}
    invoice = exchange("magento", "POST", "/rest/V1/order/7/invoice", body={"capture": True}, response="4")
    bad_invoice = exchange("magento", "POST", "/rest/V1/order/7/invoice", body={"capture": True}, response="four")

    assert (
        contract_validator.validate_exchange(exchange("magento", "GET", "/rest/V1/products/A", response=product)) == []
    )
    assert contract_validator.validate_exchange(invoice) == []
    assert_problem(contract_validator.validate_exchange(bad_invoice), "response")


def test_error_envelopes(contract_validator: ContractValidator) -> None:
    cases = [
        (
            exchange("plenty", "GET", "/rest/orders/1", status=404, response={"error": {"message": "x", "code": 404}}),
            True,
        ),
        (
            exchange(
                "plenty",
                "PUT",
                "/rest/stockmanagement/warehouses/1/stock/bookOutgoingItems",
                body={"outgoingItems": []},
                status=422,
                response={"error": {"message": "validation error found"}, "validation_errors": {"a": ["b"]}},
            ),
            True,
        ),
        (exchange("plenty", "GET", "/rest/orders/1", status=401, response={"error": "access_denied"}), True),
        (exchange("plenty", "GET", "/rest/orders/1", status=404, response={"message": "x"}), False),
        (
            exchange("magento", "GET", "/rest/V1/orders/9", status=404, response={"message": "m", "parameters": {}}),
            True,
        ),
        (
            exchange(
                "magento", "GET", "/rest/V1/orders/9", status=400, response={"message": "%1", "parameters": ["x"]}
            ),
            True,
        ),
        (exchange("magento", "GET", "/rest/V1/orders/9", status=404, response={"error": "x"}), False),
    ]

    for found, valid in cases:
        problems = contract_validator.validate_exchange(found)
        assert (problems == []) is valid, (found, problems)


# reports and speed


def test_report_groups_problems_by_route(contract_validator: ContractValidator) -> None:
    exchanges = [
        exchange("plenty", "GET", "/rest/items", query={"bogus": "1"}),
        exchange("plenty", "GET", "/rest/items", query={"bogus": "2"}),
        exchange("plenty", "GET", "/rest/nowhere"),
        exchange("plenty", "GET", "/rest/webstores", response=[]),
    ]

    report = contract_validator.validate_exchanges(exchanges)

    assert report.checked == len(exchanges)
    assert not report.ok
    assert len(report.problems) == 2
    text = str(report)
    assert "2x" in text
    assert "/rest/nowhere" in text


def test_thousands_of_exchanges_validate_in_seconds(contract_validator: ContractValidator) -> None:
    variety = [
        exchange("plenty", "GET", f"/rest/items/{n}/variations/{n + 1}", response={"id": n + 1, "itemId": n})
        for n in range(1000)
    ] + [
        exchange(
            "magento",
            "GET",
            f"/rest/V1/products/SKU-{n}",
            query={"fields": "sku"},
            response={"sku": f"SKU-{n}", "price": n, "extension_attributes": {"website_ids": [1]}},
        )
        for n in range(2000)
    ]
    started = time.perf_counter()

    report = contract_validator.validate_exchanges(variety)

    assert report.ok, str(report)
    assert time.perf_counter() - started < 10


# locating the specs


def test_reference_dir_override_and_missing_spec_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(specs.REFERENCE_DIR_ENV, str(tmp_path))

    assert specs.reference_dir() == tmp_path.resolve()
    with pytest.raises(specs.SpecUnavailableError, match="not found") as raised:
        specs.spec_path("magento")
    assert str(tmp_path) in str(raised.value)


def test_missing_specs_skip_locally_and_fail_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no specs here"):
        conftest.spec_missing("no specs here")

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest.spec_missing("no specs here")


def test_parsed_spec_is_cached_on_disk(plenty_spec: Mapping[str, Any]) -> None:
    path = specs.spec_path("plenty")
    stat = path.stat()

    cached = list(specs._cache_dir().glob(f"{path.name}.{stat.st_size}.{stat.st_mtime_ns}.*.pickle"))

    assert cached
    assert specs.load_spec("plenty") is plenty_spec
