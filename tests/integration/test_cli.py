"""The plentysync command, run as a real process on SQLite: output, --json, exit codes, errors."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from plentysync.cli.app import app

DEMO = "sandbox_demo_export"


def cli(*args: str, env: dict[str, str] | None = None, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "plentysync", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        # bytecode caching on (some machines switch it off): a cold import costs ~1.5 s per call
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "COLUMNS": "200",
            **(env or {}),
        },
        timeout=120,
        check=False,
    )
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def cli_json(*args: str, check: int = 0) -> Any:
    return json.loads(cli(*args, "--json", check=check).stdout)


COMMANDS = [
    ["profile", "list"], ["profile", "types"], ["profile", "info"], ["profile", "create"], ["profile", "enable"],
    ["profile", "disable"], ["profile", "rename"], ["profile", "delete"], ["profile", "run"], ["profile", "history"],
    ["profile", "history", "clean"], ["profile", "config", "export"], ["profile", "config", "import"],
    ["profile", "schedule"], ["queue", "stats"], ["queue", "list"], ["queue", "add"], ["queue", "retry"],
    ["queue", "recover"], ["queue", "purge"], ["db", "upgrade"], ["db", "current"], ["db", "rotate-secrets"],
    ["db", "generate-key"], ["cron", "run"], ["demo"],
    ["connection", "add"], ["connection", "list"], ["connection", "show"], ["connection", "remove"],
    ["connection", "test"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example_and_json(command: list[str]) -> None:
    buffer = io.StringIO()
    app.help_print(command, console=Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert re.search(r"Example: (\S+=\S+ )*plentysync " + " ".join(command), text), text
    assert "--json" in text


def test_demo_then_inspect_with_the_ordinary_commands() -> None:
    demo = cli_json("demo", "--keys", "30")
    plenty_check, magento_check = demo["sandbox_apis"]
    assert (plenty_check["system"], plenty_check["ok"]) == ("plenty", True)
    assert "plentyId 12345" in plenty_check["message"]
    assert (magento_check["system"], magento_check["ok"]) == ("magento", True)
    assert "store view" in magento_check["message"]
    assert demo["queued"] == 30
    assert demo["coalesced"] == 6
    first, second = demo["runs"]
    assert (first["processed"], first["succeeded"], first["errors"]) == (30, 28, 2)
    assert (second["skipped"], second["succeeded"]) == (28, 1)  # unchanged records cost no API call
    assert demo["queue"] == {"error": 1, "skipped": 28, "success": 1}

    stock = demo["stock"]
    assert stock["skipped"] is None
    numbers = [step["step"] for step in stock["steps"]]
    assert f"{stock['sku']}: Magento 10, PlentyONE 10" in numbers[0]
    assert "PlentyONE 7" in numbers[1]
    assert f"{stock['sku']} PlentyONE 6" in numbers[2]  # seed Workflow 4, delta mode: the channel sale is kept
    assert f"{stock['sku']}: Magento 6" in numbers[3]  # stock import brought it back to Magento
    assert "saw 0 changes after the import and the next export made 0 bookings" in numbers[4]

    profiles = {p["type_id"]: p for p in cli_json("profile", "list")}
    assert sorted(profiles) == ["plenty_stock_export", "plenty_stock_import", DEMO]
    profile = profiles[DEMO]
    assert (profile["type_id"], profile["status"], profile["state"]) == (DEMO, "enabled", "completed")
    assert profile["schedule"] == {"cron_expr": "*/5 * * * *", "timezone": "Europe/Berlin", "enabled": True}
    info = cli_json("profile", "info", DEMO)
    assert info["config"]["reject_keys"] == ["DEMO-00013"]
    assert len(info["schedule"]["next_runs"]) == 3
    assert cli_json("queue", "stats", "-p", DEMO)["by_status"] == {"error": 1, "skipped": 28, "success": 1}
    [bad] = cli_json("queue", "list", "-p", DEMO, "--status", "error")
    assert bad["entity_key"] == "DEMO-00013"
    runs = cli_json("profile", "history", DEMO)
    assert [r["status"] for r in runs] == ["partial", "partial"]
    text = cli("profile", "history", DEMO).stdout
    assert "partial" in text


def test_run_exit_codes_keys_and_dry_run() -> None:
    cli("demo", "--keys", "20", "--json")
    added = cli_json("queue", "add", "-p", DEMO, "-k", "DEMO-00001,DEMO-00002", "--reason", "cli")
    assert (added["inserted"], added["updated"]) == (0, 2)
    dry = cli_json("profile", "run", DEMO, "--dry-run")
    assert (dry["dry_run"], dry["skipped"]) == (True, 2)
    assert cli_json("queue", "stats", "-p", DEMO)["by_status"]["pending"] == 2  # the dry run changed nothing
    ok = cli_json("profile", "run", DEMO)
    assert (ok["status"], ok["processed"]) == ("success", 2)
    partial = cli("profile", "run", DEMO, "-k", "DEMO-00013,DEMO-00003", "--json", check=3)
    assert json.loads(partial.stdout)["status"] == "partial"
    human = cli("profile", "run", DEMO, "--status", "error", "-v", check=1)  # all failed again: exit 1
    assert "DEMO-00013" in human.stdout
    assert "rejected by the remote" in human.stdout


def test_destructive_commands_ask_first_or_take_force(tmp_path: Path) -> None:
    cli("demo", "--keys", "20", "--json")
    refused = cli("queue", "purge", "--all", check=2)
    assert "refusing without confirmation; pass --force" in refused.stderr
    assert cli_json("queue", "purge", "-p", DEMO, "--all", "--dry-run")["rows"] == 20
    assert cli_json("queue", "purge", "-p", DEMO, "--all", "--force")["rows"] == 20
    assert "refusing" in cli("profile", "history", "clean", "--days", "0", check=2).stderr
    cleaned = cli_json("profile", "history", "clean", "--days", "0", "--profile", DEMO, "--force")
    assert cleaned["runs"] == 2
    cli("profile", "delete", DEMO, check=2)
    assert cli_json("profile", "delete", DEMO, "--dry-run")["deleted"] is False
    assert cli_json("profile", "delete", DEMO, "--force")["deleted"] is True
    assert DEMO not in {p["type_id"] for p in cli_json("profile", "list")}


def test_config_export_import_and_schedule(tmp_path: Path) -> None:
    cli("demo", "--keys", "20", "--json")
    target = tmp_path / "demo.toml"
    cli("profile", "config", "export", DEMO, "-o", str(target))
    text = target.read_text()
    assert 'type_id = "sandbox_demo_export"' in text
    assert "cron_expr" in text
    cli("profile", "config", "export", DEMO, "-o", str(target), check=2)  # no silent overwrite
    edited = text.replace("process_batch_size = 100", "process_batch_size = 25")
    target.write_text(edited)
    preview = cli_json("profile", "config", "import", str(target), "--dry-run")
    assert (preview["action"], preview["changed_options"]) == ("update", ["process_batch_size"])
    assert cli_json("profile", "info", DEMO)["config"]["process_batch_size"] == 100
    cli_json("profile", "config", "import", str(target))
    assert cli_json("profile", "info", DEMO)["config"]["process_batch_size"] == 25
    target.write_text(edited.replace("process_batch_size = 25", "process_batch_size = 0"))
    bad = cli("profile", "config", "import", str(target), check=2)
    assert "process_batch_size: Input should be greater than or equal to 1" in bad.stderr

    sched = cli_json("profile", "schedule", DEMO, "--cron", "@hourly", "--timezone", "America/New_York", "--dry-run")
    assert sched["schedule"]["cron_expr"] == "0 * * * *"
    assert len(sched["next_runs"]) == 5
    assert cli_json("profile", "schedule", DEMO)["schedule"]["cron_expr"] == "*/5 * * * *"  # dry run saved nothing
    cli_json("profile", "schedule", DEMO, "--cron", "30 2 * * *", "--timezone", "Europe/Berlin")
    assert cli_json("profile", "schedule", DEMO)["schedule"]["timezone"] == "Europe/Berlin"
    bad_cron = cli("profile", "schedule", DEMO, "--cron", "99 * * * *", check=2)
    assert "invalid cron expression" in bad_cron.stderr
    assert cli_json("cron", "run", "--dry-run")["due"] == []


def test_lifecycle_commands() -> None:
    cli("demo", "--keys", "20", "--json")
    assert cli_json("profile", "disable", DEMO)["state"] == "disabled"
    refused = cli("profile", "run", DEMO, check=2)
    assert "disabled" in refused.stderr
    cli_json("profile", "run", DEMO, "--force")
    assert cli_json("profile", "enable", DEMO)["state"] == "completed"
    assert cli_json("profile", "rename", DEMO, "Demo")["name"] == "Demo"
    types = {t["type_id"]: t["available"] for t in cli_json("profile", "types")}
    assert types[DEMO] is True
    assert (types["plenty_stock_export"], types["plenty_stock_import"]) == (True, True)
    assert types["plenty_order_export"] is False
    created = cli("profile", "create", "--type", "plenty_order_export", check=1)
    assert "unknown profile type 'plenty_order_export'" in created.stderr


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    missing = cli("profile", "info", "42", check=1)
    assert missing.stderr.strip() == "error: no profile '42' (see: plentysync profile list)"
    as_json = cli("profile", "info", "42", "--json", check=1)
    assert json.loads(as_json.stdout) == {
        "error": {"message": "no profile '42' (see: plentysync profile list)", "exit_code": 1}
    }
    unknown = cli("queue", "stats", "--profle", "x", check=2)
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert "--profle" in unknown.stderr
    (tmp_path / "plentysync.toml").write_text("[queue]\nlease_seconds = 'long'\n")
    bad = cli("queue", "stats", check=2)
    assert bad.stderr.strip().startswith("error: settings file ")
    assert "setting 'queue.lease_seconds'" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_database_commands(tmp_path: Path) -> None:
    current = cli_json("db", "current")
    assert current["backend"] == "sqlite"
    upgrade = cli_json("db", "upgrade")
    assert upgrade["after"] == current["head"]
    assert cli_json("db", "upgrade", "--dry-run")["before"] == current["head"]
    key = cli_json("db", "generate-key")["secret_key"]
    assert len(key) == 44
    assert cli_json("db", "rotate-secrets", "--dry-run")["credentials"] == 0
    assert "plentysync.db" in cli("db", "current").stdout


def test_module_entry_point_and_version() -> None:
    from plentysync import __version__

    assert cli("--version").stdout.strip() == __version__


def cli_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The command in this process (no interpreter start-up): its exit code and stderr."""
    from plentysync.cli.app import main

    capsys.readouterr()
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["queue", "list", "-p", HUGE], f"profile id {HUGE} is out of range"),
        (["profile", "info", HUGE], f"profile id {HUGE} is out of range"),
        (["queue", "list", "--limit", HUGE], "for --limit. Must be <= 100000"),
        (["queue", "list", "--limit", "0"], "for --limit. Must be >= 1"),
        (["queue", "list", "--offset", HUGE], "for --offset. Must be <="),
        (["queue", "purge", "-i", HUGE], f"row id {HUGE} is out of range"),
        (["queue", "purge", "--older-than", "9999999999999"], "for --older-than. Must be <= 36500"),
        (["queue", "purge", "--older-than", "-1"], "for --older-than. Must be >= 0"),
        (["profile", "history", "--run", HUGE], "for --run. Must be <="),
        (["profile", "history", "--limit", HUGE], "for --limit. Must be <="),
        (["profile", "history", "clean", "--days", "9999999999999"], "for --days. Must be <= 36500"),
        (["profile", "schedule", DEMO, "--next", "99999999"], "for --next. Must be <= 1000"),
        (["profile", "schedule", DEMO, "--jobs", HUGE], "for --jobs. Must be <="),
        (["stock", "export", "purge", "--older-than", "9999999999999"], "for --older-than. Must be <= 36500"),
        (["notifications", "list", "--limit", HUGE], "for --limit. Must be <="),
        (["notifications", "show", HUGE], "for NOTIFICATION_ID. Must be <="),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_out_of_range_numbers_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = cli_in_process(capsys, *args)
    assert code == 2, err
    assert message in err
    assert "internal error" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", [["profile", "config", "import"], ["profile", "create", "--type", DEMO, "--config-file"]]
)
def test_a_profile_file_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('type_id = "sandbox_demo_export"\nname = "Müller"\n'.encode("latin-1"))
    code, err = cli_in_process(capsys, *command, str(path))
    assert code == 2, err
    assert f"cannot read {path}: not UTF-8 text" in err
    assert "internal error" not in err


def test_db_upgrade_refuses_downgrades_and_unknown_revisions(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_in_process(capsys, "db", "upgrade", "--revision", "0002") == (0, "")
    for args, message in [
        (["--revision", "0001"], "downgrades are not supported: the database is at 0002, revision 0001 is older"),
        (["--revision", "0001", "--dry-run"], "downgrades are not supported"),
        (["--revision", "base"], "downgrades are not supported"),
        (["--revision", "0099"], "unknown schema revision '0099'"),
    ]:
        code, err = cli_in_process(capsys, "db", "upgrade", *args)
        assert (code, len(err.strip().splitlines())) == (2, 1), err
        assert message in err
    assert cli_in_process(capsys, "db", "upgrade", "--revision", "0002")[0] == 0  # already there
    assert cli_in_process(capsys, "db", "upgrade", "--revision", "0003")[0] == 0
