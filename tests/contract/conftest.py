"""Fixtures of the contract tests: the official specs and a shared validator.

Without the reference specs (a user's own clone) the tests skip with a reason saying so; on CI (``CI=true``) they
fail instead, so a broken checkout cannot silently pass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NoReturn

import pytest

from tests.contract.allowlist import AllowList
from tests.contract.specs import SpecUnavailableError, System, load_spec
from tests.contract.validate import ContractValidator


def spec_missing(reason: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: contract tests must not be skipped)", pytrace=False)
    pytest.skip(reason)


def _spec(system: System) -> Mapping[str, Any]:
    try:
        return load_spec(system)
    except SpecUnavailableError as error:
        spec_missing(str(error))


@pytest.fixture(scope="session")
def plenty_spec() -> Mapping[str, Any]:
    return _spec("plenty")


@pytest.fixture(scope="session")
def magento_spec() -> Mapping[str, Any]:
    return _spec("magento")


@pytest.fixture(scope="session")
def contract_validator(plenty_spec: Mapping[str, Any], magento_spec: Mapping[str, Any]) -> ContractValidator:
    """One validator for the whole session, so allow-list usage accumulates across tests."""
    return ContractValidator({"plenty": plenty_spec, "magento": magento_spec}, AllowList.load())
