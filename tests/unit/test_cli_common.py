"""Shared command-line parsing: id lists and key files."""

from __future__ import annotations

from pathlib import Path

import pytest

from plentysync.cli.common import parse_ids, read_keys_file
from plentysync.engine.profiles import MAX_ID
from plentysync.errors import UsageError


def test_ids_are_bounded_whole_numbers() -> None:
    assert parse_ids(["3,4", "7", "3"]) == [3, 4, 7]
    assert parse_ids([str(MAX_ID)]) == [MAX_ID]
    with pytest.raises(UsageError, match=r"row id 99999999999999999999 is out of range \(1 to "):
        parse_ids(["99999999999999999999"])
    with pytest.raises(UsageError, match="run id 0 is out of range"):
        parse_ids(["0"], "run id")
    for bad in ("-1", "x", "²", "1.5"):
        with pytest.raises(UsageError, match="not a row id"):
            parse_ids([bad])


def test_a_keys_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_bytes(b"SKU-1\n\xff\xfe\n")
    with pytest.raises(UsageError, match=r"keys\.txt: not UTF-8 text"):
        read_keys_file(path)
