"""The log file handler swallows its own write errors (disk full): at most one short line on stderr per
process, never the stdlib's ``--- Logging error ---`` traceback per record."""

from __future__ import annotations

import errno
import io
import logging
from pathlib import Path
from typing import Any

import pytest

from plentysync import log
from plentysync.log import LogFileHandler, configure_logging, get_logger


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(log, "_write_error_reported", False)
    yield
    configure_logging(None)


def _log_three_records() -> None:
    logger = get_logger("plentysync.test")
    logger.warning("first", n=1)
    logger.error("second", n=2)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("third")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_under_the_log_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "plentysync.log").symlink_to("/dev/full")  # every write: ENOSPC
    configure_logging(logs)
    _log_three_records()
    configure_logging(None)  # closes (flushes) the file handler: no error from there either
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert "Traceback" not in err
    mine = [line for line in err.splitlines() if line.startswith("plentysync: ")]
    assert mine == [
        f"plentysync: cannot write the log file {logs / 'plentysync.log'} (No space left on device); log lines are lost"
    ]


def test_write_errors_are_reported_once_per_process_and_logging_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    configure_logging(tmp_path / "logs")
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, LogFileHandler))
    monkeypatch.setattr(handler, "stream", FullDisk())
    _log_three_records()
    configure_logging(tmp_path / "logs")  # a second handler in the same process stays quiet too
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, LogFileHandler))
    monkeypatch.setattr(handler, "stream", FullDisk())
    _log_three_records()
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert err.count("plentysync: cannot write the log file") == 1
