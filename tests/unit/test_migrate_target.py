"""Which revisions ``db upgrade --revision`` accepts (no database needed)."""

from __future__ import annotations

import pytest

from plentysync.db.migrate import head_revision, upgrade_target
from plentysync.errors import SchemaError, UsageError


def test_upgrades_resolve_to_a_revision() -> None:
    assert upgrade_target(None, "0001") == "0001"
    assert upgrade_target("0001", "head") == head_revision()
    assert upgrade_target("0002", "0002") == "0002"  # nothing to do
    assert upgrade_target(None, "base") is None


@pytest.mark.parametrize(
    ("current", "revision", "error"),
    [
        ("0003", "0001", "downgrades are not supported: the database is at 0003, revision 0001 is older"),
        ("0002", "base", "downgrades are not supported"),
        ("0002", "nope", "unknown schema revision 'nope'"),
        (None, " ", "--revision must not be empty"),
    ],
)
def test_downgrades_and_unknown_revisions_are_refused(current: str | None, revision: str, error: str) -> None:
    with pytest.raises(UsageError, match=error):
        upgrade_target(current, revision)


def test_a_database_newer_than_this_version_is_named() -> None:
    with pytest.raises(SchemaError, match="revision 9999, which this version of plentysync does not know"):
        upgrade_target("9999", "head")
