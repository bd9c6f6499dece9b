"""Connection names: what ``connection add`` and the store accept."""

from __future__ import annotations

import pytest

from plentysync.engine.connections import MAX_NAME, check_name
from plentysync.errors import UsageError


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("\t\n", "must not be empty"),
        (" erp", "starts or ends with blanks"),
        ("erp ", "starts or ends with blanks"),
        ("x" * (MAX_NAME + 1), f"longer than {MAX_NAME} characters"),
    ],
)
def test_bad_connection_names_are_refused(name: str, error: str) -> None:
    with pytest.raises(UsageError, match=error):
        check_name(name)


def test_good_connection_names_pass() -> None:
    for name in ("erp", "shop de", "x" * MAX_NAME):
        assert check_name(name) == name
