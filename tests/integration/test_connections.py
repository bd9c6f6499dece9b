"""Clients built from stored connections and ``plentysync connection ...``, against both sandboxes on loopback.

The sandboxes are served in this process; the CLI runs as a real subprocess that talks to them over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from plentysync.engine.connections import Connection
from plentysync.errors import ConfigError
from plentysync.sandbox.apps import SandboxPair, build_sandbox
from plentysync.sandbox.magento import MagentoSandboxConfig
from plentysync.sandbox.server import serving
from plentysync.settings import HttpSettings, Settings
from plentysync.sync.clients import check_connection, magento_client, plenty_client


@dataclass(frozen=True)
class Sandboxes:
    pair: SandboxPair
    plenty_url: str
    magento_url: str


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    pair = build_sandbox(magento_config=MagentoSandboxConfig(two_factor_auth=False))
    with serving(pair.plenty_app) as plenty, serving(pair.magento_app) as magento:
        yield Sandboxes(pair, plenty.url, magento.url)


def connection(name: str, system: str, url: str, credentials: dict[str, str], **options: Any) -> Connection:
    now = datetime.now(UTC)
    secrets = {key: SecretStr(value) for key, value in credentials.items()}
    return Connection(1, name, system, url, dict(options), secrets, now, now)


def plenty_connection(box: Sandboxes, **overrides: str) -> Connection:
    config = box.pair.plenty_config
    credentials = {"username": config.username, "password": config.password, **overrides}
    return connection("erp", "plenty", box.plenty_url, credentials)


def oauth_credentials(box: Sandboxes) -> dict[str, str]:
    config = box.pair.magento_config
    return {
        "consumer_key": config.consumer_key,
        "consumer_secret": config.consumer_secret,
        "access_token": config.access_token,
        "access_token_secret": config.access_token_secret,
    }


# -- check_connection and the client factories --------------------------------------------------------


@pytest.mark.anyio
async def test_plenty_check_reports_webstores_warehouses_and_budget(sandboxes: Sandboxes) -> None:
    config = sandboxes.pair.plenty_config
    check = await check_connection(plenty_connection(sandboxes), Settings())
    assert check.ok, check.message
    assert (check.name, check.system) == ("erp", "plenty")
    assert check.details["plenty_ids"] == [config.plenty_id]
    assert str(config.plenty_id) in check.message
    warehouses = check.details["warehouses"]
    assert warehouses
    assert sorted(w["id"] for w in warehouses) == sorted(sandboxes.pair.plenty_state.warehouses)
    short = check.details["budget"]["read"]["short"]
    assert short["limit"] == config.read_limit
    assert 0 < short["calls_left"] < config.read_limit


@pytest.mark.anyio
async def test_magento_check_with_oauth_and_with_an_admin_user(sandboxes: Sandboxes) -> None:
    config = sandboxes.pair.magento_config
    oauth = connection("shop", "magento", sandboxes.magento_url, oauth_credentials(sandboxes))
    admin = connection(
        "shop-admin",
        "magento",
        sandboxes.magento_url,
        {"username": config.admin_username, "password": config.admin_password},
        auth="admin",
        store_code="en",
    )
    for conn in (oauth, admin):
        check = await check_connection(conn, Settings())
        assert check.ok, check.message
        assert check.details["websites"]
        assert "default" in [view["code"] for view in check.details["store_views"]]
    assert check.details["store_code"] == "en"
    assert check.details["auth"] == "admin"


@pytest.mark.anyio
async def test_wrong_credentials_fail_with_a_clear_message_and_no_secret(sandboxes: Sandboxes) -> None:
    wrong = "wrong-password-4711"
    check = await check_connection(plenty_connection(sandboxes, password=wrong), Settings())
    assert not check.ok
    assert "wrong username or password" in check.message
    assert wrong not in check.message
    assert "\n" not in check.message

    secret = "not-the-consumer-secret"
    bad_oauth = connection(
        "shop", "magento", sandboxes.magento_url, {**oauth_credentials(sandboxes), "consumer_secret": secret}
    )
    check = await check_connection(bad_oauth, Settings())
    assert not check.ok
    assert "401" in check.message
    assert secret not in check.message


@pytest.mark.anyio
async def test_admin_login_refused_while_two_factor_auth_is_on() -> None:
    pair = build_sandbox()
    config = pair.magento_config
    with serving(pair.magento_app) as magento:
        admin = connection(
            "shop",
            "magento",
            magento.url,
            {"username": config.admin_username, "password": config.admin_password},
            auth="admin",
        )
        check = await check_connection(admin, Settings())
    assert not check.ok
    assert "two-factor" in check.message
    assert config.admin_password not in check.message


@pytest.mark.anyio
async def test_unknown_store_code_and_unreachable_server_are_not_ok(sandboxes: Sandboxes) -> None:
    shop = connection("shop", "magento", sandboxes.magento_url, oauth_credentials(sandboxes), store_code="nl")
    check = await check_connection(shop, Settings())
    assert not check.ok
    assert "'nl'" in check.message
    assert "default" in check.message  # the codes that do exist
    wrong_path = replace(shop, base_url=sandboxes.magento_url + "/shop", options={})
    check = await check_connection(wrong_path, Settings())
    assert not check.ok
    assert "/shop/rest/default/V1/store/websites" in check.message
    with serving(sandboxes.pair.plenty_app) as server:
        gone = server.url
    check = await check_connection(replace(plenty_connection(sandboxes), base_url=gone), Settings())
    assert not check.ok
    assert "ConnectError" in check.message


def test_missing_credential_or_wrong_system_is_a_config_error(sandboxes: Sandboxes) -> None:
    no_password = connection("erp", "plenty", sandboxes.plenty_url, {"username": "api"})
    with pytest.raises(ConfigError, match="connection 'erp' has no credential 'password'"):
        plenty_client(no_password, Settings())
    oauth = oauth_credentials(sandboxes)
    del oauth["access_token_secret"]
    with pytest.raises(ConfigError, match="connection 'shop' has no credential 'access_token_secret'"):
        magento_client(connection("shop", "magento", sandboxes.magento_url, oauth), Settings())
    with pytest.raises(ConfigError, match="'token'"):
        magento_client(connection("shop", "magento", sandboxes.magento_url, {}, auth="bearer"), Settings())
    with pytest.raises(ConfigError, match="not magento"):
        magento_client(plenty_connection(sandboxes), Settings())


@pytest.mark.anyio
async def test_factories_apply_the_http_settings(sandboxes: Sandboxes) -> None:
    http = HttpSettings(
        max_attempts=7,
        connect_timeout_seconds=3,
        read_timeout_seconds=11,
        plenty_write_concurrency=2,
        magento_page_size=250,
        magento_batch_size=15,
    )
    settings = Settings(http=http)
    async with plenty_client(plenty_connection(sandboxes), settings) as plenty:
        assert plenty.config.write_concurrency == 2
        assert (plenty.config.http.retry.attempts, plenty.config.http.read_timeout) == (7, 11)
        assert plenty.config.request_log is None
    shop = connection("shop", "magento", sandboxes.magento_url, oauth_credentials(sandboxes), store_code="fr")
    async with magento_client(shop, settings, profile="plenty_stock_export") as magento:
        assert (magento.config.page_size, magento.config.source_items_chunk_size) == (250, 15)
        assert magento.config.store_code == "fr"
        assert magento.config.http.connect_timeout == 3
        assert magento.http.request_log is None  # log_requests is off


@pytest.mark.anyio
async def test_request_log_is_written_redacted_when_switched_on(sandboxes: Sandboxes, tmp_path: Path) -> None:
    settings = Settings(log_dir=tmp_path / "logs", http=HttpSettings(log_requests=True))
    password = sandboxes.pair.plenty_config.password
    async with plenty_client(plenty_connection(sandboxes), settings, profile="plenty_stock_export") as plenty:
        await plenty.login()
        assert plenty.auth.token is not None
        access_token = plenty.auth.token.access
        await plenty.reference.webstores()
    shop = connection("shop", "magento", sandboxes.magento_url, oauth_credentials(sandboxes))
    async with magento_client(shop, settings, profile="plenty_order_import") as magento:
        await magento.stores.websites()

    plenty_log = (tmp_path / "logs" / "plenty_stock_export_request.log").read_text()
    entries = [json.loads(line) for line in plenty_log.splitlines()]
    assert any(entry["url"].endswith("/rest/login") for entry in entries)
    assert any(entry["url"].endswith("/rest/webstores") and entry["status"] == 200 for entry in entries)
    assert password not in plenty_log
    assert access_token not in plenty_log
    magento_log = (tmp_path / "logs" / "plenty_order_import_request.log").read_text()
    assert "/V1/store/websites" in magento_log
    assert sandboxes.pair.magento_config.access_token_secret not in magento_log


# -- plentysync connection ... as a subprocess -------------------------------------------------------


def cli(*args: str, stdin: str | None = None, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "plentysync", "connection", *args],
        capture_output=True,
        text=True,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def cli_json(*args: str, stdin: str | None = None, check: int = 0) -> Any:
    return json.loads(cli(*args, "--json", stdin=stdin, check=check).stdout)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_cli_add_list_show_test_remove(sandboxes: Sandboxes) -> None:
    plenty, magento = sandboxes.pair.plenty_config, sandboxes.pair.magento_config
    secrets = [plenty.password, magento.consumer_secret, magento.access_token_secret]
    seen: list[str] = []

    def run(*args: str, stdin: str | None = None, check: int = 0) -> subprocess.CompletedProcess[str]:
        result = cli(*args, stdin=stdin, check=check)
        seen.append(output(result))
        return result

    erp = ["erp", "--system", "plenty", "--url", sandboxes.plenty_url, "--username", plenty.username]
    dry = json.loads(
        run("add", *erp, "--secrets-stdin", "--dry-run", "--json", stdin=json.dumps({"password": "x"})).stdout
    )
    assert (dry["dry_run"], dry["credential_names"]) == (True, ["password", "username"])
    assert json.loads(run("list", "--json").stdout) == []

    added = json.loads(
        run("add", *erp, "--secrets-stdin", "--json", stdin=json.dumps({"password": plenty.password})).stdout
    )
    assert (added["name"], added["system"], added["replaced"]) == ("erp", "plenty", False)
    shop_secrets = {"consumer_secret": magento.consumer_secret, "access_token_secret": magento.access_token_secret}
    shop = [
        "shop",
        "--system",
        "magento",
        "--url",
        sandboxes.magento_url,
        "--consumer-key",
        magento.consumer_key,
        "--access-token",
        magento.access_token,
        "--secrets-stdin",
    ]
    run("add", *shop, stdin=json.dumps(shop_secrets))

    rows = json.loads(run("list", "--json").stdout)
    assert [(row["name"], row["system"]) for row in rows] == [("erp", "plenty"), ("shop", "magento")]
    assert rows[1]["options"] == {"auth": "oauth", "store_code": "default"}
    assert rows[1]["credential_names"] == sorted(["consumer_key", "access_token", *shop_secrets])
    assert "shop" in run("list").stdout
    shown = json.loads(run("show", "erp", "--json").stdout)
    assert shown["identity"] == {"username": plenty.username}
    assert shown["missing_credentials"] == []

    for name in ("erp", "shop"):
        check = json.loads(run("test", name, "--json").stdout)
        assert check["ok"], check["message"]
    assert check["details"]["store_code"] == "default"
    human = run("test", "erp").stdout
    assert "PlentyONE budget" in human
    assert str(plenty.plenty_id) in human

    refused = run("add", *erp, "--secrets-stdin", stdin=json.dumps({"password": "another-pass"}), check=2)
    assert "pass --force" in refused.stderr
    wrong = {"password": "wrong-pass-0815"}
    replaced = json.loads(run("add", *erp, "--secrets-stdin", "--force", "--json", stdin=json.dumps(wrong)).stdout)
    assert replaced["replaced"] is True
    failed = run("test", "erp", check=1)
    assert "wrong username or password" in failed.stdout
    assert wrong["password"] not in output(failed)

    assert "pass --force" in run("remove", "erp", check=2).stderr
    assert json.loads(run("remove", "erp", "--dry-run", "--json").stdout)["removed"] is False
    assert json.loads(run("remove", "erp", "--force", "--json").stdout)["removed"] is True
    assert [row["name"] for row in json.loads(run("list", "--json").stdout)] == ["shop"]
    run("show", "erp", check=1)

    everything = "\n".join(seen)
    for secret in secrets:
        assert secret not in everything


def test_cli_missing_or_misplaced_fields_exit_2() -> None:
    url = "https://erp.example"
    blank = cli("add", "  ", "--system", "plenty", "--url", url, "--username", "api", check=2)
    assert "a connection name must not be empty" in blank.stderr
    no_user = cli("add", "erp", "--system", "plenty", "--url", url, check=2)
    assert "'username'" in no_user.stderr
    no_password = cli("add", "erp", "--system", "plenty", "--url", url, "--username", "api", check=2)
    assert "'password'" in no_password.stderr
    assert "--secrets-stdin" in no_password.stderr
    partial = cli(
        "add", "shop", "--system", "magento", "--url", url, "--consumer-key", "k", "--access-token", "t",
        "--secrets-stdin", stdin=json.dumps({"consumer_secret": "s"}), check=2,
    )  # fmt: skip
    assert "'access_token_secret'" in partial.stderr
    unknown = cli(
        "add", "erp", "--system", "plenty", "--url", url, "--username", "api", "--secrets-stdin",
        stdin=json.dumps({"password": "p", "pin": "1"}), check=2,
    )  # fmt: skip
    assert "'pin'" in unknown.stderr
    misplaced = cli(
        "add", "erp", "--system", "plenty", "--url", url, "--consumer-key", "k", "--secrets-stdin", stdin="{}", check=2
    )
    assert "--consumer-key" in misplaced.stderr
    not_json = cli(
        "add", "erp", "--system", "plenty", "--url", url, "--username", "a", "--secrets-stdin", stdin="pw", check=None
    )
    assert not_json.returncode == 2
    assert "pw" not in output(not_json)
    assert cli_json("list") == []
