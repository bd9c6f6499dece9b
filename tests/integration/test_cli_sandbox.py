"""``plentysync sandbox``: both simulated systems assembled (faults, recording, saved state) and served
by the real command in a subprocess."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client
from rich.console import Console

from plentysync.cli.app import app
from plentysync.clock import ManualClock
from plentysync.sandbox.faults import FaultRule


def _sandboxes_available() -> bool:
    try:
        from plentysync.sandbox.magento import create_magento_app  # noqa: F401
        from plentysync.sandbox.plenty import create_plenty_app  # noqa: F401
    except ImportError:
        return False
    return True


needs_sandboxes = pytest.mark.skipif(not _sandboxes_available(), reason="sandbox packages not in the tree yet")

ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "COLUMNS": "200",
}


def cli(*args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "plentysync", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**ENV, "PLENTYSYNC_DATA_DIR": os.environ["PLENTYSYNC_DATA_DIR"]},
        timeout=120,
        check=False,
    )
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@contextmanager
def running_sandbox(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``sandbox run --json`` as a process; yields it with the JSON line it printed; stops it with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "plentysync", "sandbox", "run", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**ENV, "PLENTYSYNC_DATA_DIR": os.environ["PLENTYSYNC_DATA_DIR"]},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: lines.put(process.stdout.readline() if process.stdout else ""), daemon=True).start()
    try:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            pytest.fail("sandbox run printed nothing within 60 s")
        if not line:
            process.wait(10)
            pytest.fail(f"sandbox run exited {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise


def plenty_login(info: dict[str, Any]) -> httpx2.Response:
    plenty = info["plenty"]
    return httpx2.post(
        plenty["login_url"], json={"username": plenty["username"], "password": plenty["password"]}, timeout=10
    )


def magento_get(info: dict[str, Any], path: str) -> httpx2.Response:
    magento = info["magento"]
    client = Client(
        magento["consumer_key"],
        client_secret=magento["consumer_secret"],
        resource_owner_key=magento["access_token"],
        resource_owner_secret=magento["access_token_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    url, headers, _body = client.sign(magento["rest_url"] + path, "GET")
    return httpx2.get(url, headers=headers, timeout=10)


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["sandbox", "run"], ["sandbox", "reset"]], ids=" ".join)
def test_help_has_an_example_and_json(command: list[str]) -> None:
    buffer = io.StringIO()
    app.help_print(command, console=Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert re.search(r"Example: plentysync " + " ".join(command), text), text
    assert "--json" in text


def test_a_public_address_needs_public() -> None:
    result = cli("sandbox", "run", "--host", "0.0.0.0", "--json", check=2)
    error = json.loads(result.stdout)["error"]
    assert "--public" in error["message"]
    assert error["exit_code"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "meltdown"], "unknown fault kind"),
        (["--fault", "status:status"], "key=value"),
        (["--memory", "--state-dir", "x"], "exclude"),
        (["--size", "0"], "--size"),
    ],
)
def test_bad_options_give_a_one_line_error(args: list[str], message: str) -> None:
    result = cli("sandbox", "run", *args, check=2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- assembly, in process ------------------------------------------------------------------------


@needs_sandboxes
@pytest.mark.anyio
async def test_faults_and_recording_wrap_both_apps() -> None:
    from plentysync.sandbox.apps import build_sandbox

    pair = build_sandbox(record=True, faults=[FaultRule("status", status=503, times=1)])
    assert pair.recorder is not None
    for app_, path in ((pair.plenty_app, "/rest/login"), (pair.magento_app, "/rest/V1/store/storeViews")):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app_), base_url="http://sandbox") as client:
            first = await client.post(path) if path.endswith("login") else await client.get(path)
            second = await client.post(path) if path.endswith("login") else await client.get(path)
        assert first.status_code == 503
        assert second.status_code != 503
    assert [(e.system, e.status) for e in pair.recorder.exchanges()][::2] == [("plenty", 503), ("magento", 503)]
    # each system counts its own copy of the rule
    assert [rule.fired for rule in pair.plenty_faults.rules()] == [1]
    assert [rule.fired for rule in pair.magento_faults.rules()] == [1]


@needs_sandboxes
@pytest.mark.anyio
async def test_expire_token_fault_reaches_the_state() -> None:
    from plentysync.sandbox.apps import build_sandbox

    pair = build_sandbox()
    transport = httpx2.ASGITransport(app=pair.plenty_app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        login = await client.post("/rest/login", json={"username": "sandbox-api", "password": "sandbox-password"})
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/rest/items", headers=headers)).status_code == 200
        pair.plenty_faults.add(FaultRule("expire_token", times=1))
        assert (await client.get("/rest/items", headers=headers)).status_code == 401


@needs_sandboxes
def test_state_dir_is_seeded_once_then_loaded(tmp_path: Path) -> None:
    from plentysync.sandbox.apps import MAGENTO_STATE_FILE, PLENTY_STATE_FILE, build_sandbox

    first = build_sandbox(state_dir=tmp_path, seed=3)
    assert first.catalog is not None
    assert (tmp_path / PLENTY_STATE_FILE).is_file()
    assert (tmp_path / MAGENTO_STATE_FILE).is_file()
    assert first.plenty_config.state_file == tmp_path / PLENTY_STATE_FILE
    assert first.magento_config.state_file == tmp_path / MAGENTO_STATE_FILE

    second = build_sandbox(state_dir=tmp_path, seed=99)
    assert second.catalog is None
    assert second.plenty_state.to_dict() == first.plenty_state.to_dict()
    assert second.magento_state.to_dict() == first.magento_state.to_dict()


@needs_sandboxes
def test_same_seed_same_data_in_both_systems() -> None:
    from plentysync.sandbox.apps import build_sandbox

    clock = ManualClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))  # the same "now": timestamps derive from it
    a, b = build_sandbox(seed=5, clock=clock), build_sandbox(seed=5, clock=clock)
    assert a.catalog == b.catalog
    assert a.catalog is not None
    skus = {p.sku for p in a.catalog.products if p.presence == "both" and p.type == "simple"}
    assert skus
    for sku in skus:
        assert a.plenty_state.variation_by_number(sku) is not None
        assert a.magento_state.product(sku) is not None


# --- the real process ----------------------------------------------------------------------------


@needs_sandboxes
def test_run_serves_both_systems_and_stops_cleanly_on_sigterm() -> None:
    with running_sandbox("--memory") as (process, info):
        assert info["state_dir"] is None
        login = plenty_login(info)
        assert login.status_code == 200, login.text
        assert login.json()["access_token"]
        views = magento_get(info, "/store/storeViews")
        assert views.status_code == 200, views.text
        assert isinstance(views.json(), list)
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


@needs_sandboxes
def test_state_persists_between_runs_until_reset() -> None:
    state_dir = Path(os.environ["PLENTYSYNC_DATA_DIR"]) / "sandbox"
    with running_sandbox("--plenty-port", "0") as (_process, info):
        assert Path(info["state_dir"]) == state_dir
        assert info["seeded"] is True
    files = sorted(p.name for p in state_dir.iterdir())
    assert files == ["magento.json", "plenty.json"]
    with running_sandbox() as (_process, info):
        assert info["seeded"] is False

    refused = cli("sandbox", "reset", check=2)
    assert "--force" in refused.stderr
    preview = json.loads(cli("sandbox", "reset", "--dry-run", "--json").stdout)
    assert preview["deleted"] is False
    assert sorted(Path(p).name for p in preview["files"]) == files
    assert sorted(p.name for p in state_dir.iterdir()) == files

    done = json.loads(cli("sandbox", "reset", "--force", "--json").stdout)
    assert done["deleted"] is True
    assert list(state_dir.iterdir()) == []
    again = json.loads(cli("sandbox", "reset", "--force", "--json").stdout)
    assert again["files"] == []
    with running_sandbox() as (_process, info):
        assert info["seeded"] is True


@needs_sandboxes
def test_faults_from_the_command_line_reach_the_right_system() -> None:
    with running_sandbox("--memory", "--fault", "plenty:rate_limit:times=1", "--latency-ms", "5") as (_p, info):
        assert [f["kind"] for f in info["faults"]["plenty"]] == ["rate_limit", "latency"]
        assert [f["kind"] for f in info["faults"]["magento"]] == ["latency"]
        assert plenty_login(info).status_code == 429
        assert plenty_login(info).status_code == 200
        remote = httpx2.get(info["magento"]["url"] + "/__sandbox/faults", timeout=10).json()
        assert [rule["kind"] for rule in remote] == ["latency"]


def admin_token(info: dict[str, Any]) -> httpx2.Response:
    magento = info["magento"]
    return httpx2.post(
        magento["rest_url"] + "/integration/admin/token",
        json={"username": magento["admin_username"], "password": magento["admin_password"]},
        timeout=10,
    )


def bearer_get(info: dict[str, Any], path: str) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {info['magento']['access_token']}"}
    return httpx2.get(info["magento"]["rest_url"] + path, headers=headers, timeout=10)


def human_lines(info: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    from plentysync.cli import output, sandbox

    buffer = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=buffer, width=300))
    monkeypatch.setattr(sandbox, "console", output.console)
    sandbox._print_human(info)
    return buffer.getvalue()


@needs_sandboxes
def test_admin_2fa_and_bearer_integration_tokens_are_switched_from_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_sandbox("--memory") as (_process, info):
        assert (info["magento"]["admin_two_factor_auth"], info["magento"]["integration_as_bearer"]) == (True, False)
        refused = admin_token(info)
        assert refused.status_code == 401
        assert "2fa" in refused.text
        assert bearer_get(info, "/store/storeViews").status_code == 401
        printed = human_lines(info, monkeypatch)
        assert "admin sandbox-admin / sandbox-password123" in printed
        assert "2FA is on" in printed
        assert "--no-admin-2fa" in printed
    with running_sandbox("--memory", "--no-admin-2fa", "--integration-as-bearer") as (_process, info):
        assert (info["magento"]["admin_two_factor_auth"], info["magento"]["integration_as_bearer"]) == (False, True)
        token = admin_token(info)
        assert token.status_code == 200, token.text
        assert isinstance(token.json(), str)
        views = bearer_get(info, "/store/storeViews")
        assert views.status_code == 200, views.text
        assert "2FA off" in human_lines(info, monkeypatch)
