"""``plentysync sandbox ...``: run the simulated PlentyONE and Magento on loopback, and forget their state.

The sandboxes are imported only when a server starts, so the rest of the CLI stays quick to load.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

from cyclopts import App, Parameter

from plentysync.cli.context import Common, settings_for
from plentysync.cli.output import confirm, console, emit, to_jsonable
from plentysync.errors import UsageError
from plentysync.sandbox.faults import FaultRule, System

if TYPE_CHECKING:
    from plentysync.sandbox.apps import SandboxPair

app = App(name="sandbox", help="Simulated PlentyONE and Magento servers for trying plentysync without real systems.")

SYSTEMS: tuple[System, ...] = ("plenty", "magento")


def default_state_dir(common: Common) -> Path:
    return settings_for(common).data_dir / "sandbox"


def parse_faults(values: list[str], latency_ms: float | None) -> dict[System, list[FaultRule]]:
    """``--fault`` values per system: a ``plenty:`` or ``magento:`` prefix picks one, none means both."""
    rules: dict[System, list[FaultRule]] = {"plenty": [], "magento": []}
    for text in values:
        prefix, sep, rest = text.partition(":")
        targets: tuple[System, ...] = SYSTEMS
        if sep and prefix in SYSTEMS:
            targets = ("plenty",) if prefix == "plenty" else ("magento",)
            text = rest
        try:
            rule = FaultRule.parse(text)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--fault {text!r}: {exc}") from None
        for system in targets:
            rules[system].append(FaultRule.from_dict(_spec(rule)))
    if latency_ms is not None:
        if latency_ms < 0:
            raise UsageError("--latency-ms must not be negative")
        for system in SYSTEMS:
            rules[system].append(FaultRule("latency", latency_ms=latency_ms))
    return rules


def _spec(rule: FaultRule) -> dict[str, Any]:
    return {k: v for k, v in rule.to_dict().items() if k not in ("seen", "fired")}


def _fault_text(spec: dict[str, Any]) -> str:
    """The command-line form, with only the fields that differ from the defaults."""
    defaults = _spec(FaultRule(spec["kind"]))
    options = ",".join(f"{k}={v}" for k, v in spec.items() if k != "kind" and v != defaults[k])
    return f"{spec['kind']}:{options}" if options else spec["kind"]


def check_host(host: str, public: bool) -> None:
    if host == "localhost" or public:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"refusing to serve on {host}: the sandboxes are fake systems with published credentials; "
            "pass --public to expose them anyway"
        )


def describe(pair: SandboxPair, plenty_url: str, magento_url: str, state_dir: Path | None) -> dict[str, Any]:
    plenty, magento = pair.plenty_config, pair.magento_config
    return {
        "plenty": {
            "url": plenty_url,
            "login_url": f"{plenty_url}/rest/login",
            "username": plenty.username,
            "password": plenty.password,
            "plenty_id": plenty.plenty_id,
        },
        "magento": {
            "url": magento_url,
            "rest_url": f"{magento_url}/rest/V1",
            "consumer_key": magento.consumer_key,
            "consumer_secret": magento.consumer_secret,
            "access_token": magento.access_token,
            "access_token_secret": magento.access_token_secret,
            "admin_username": magento.admin_username,
            "admin_password": magento.admin_password,
            "admin_two_factor_auth": magento.two_factor_auth,
            "integration_as_bearer": magento.integration_as_bearer,
        },
        "state_dir": state_dir,
        "seeded": pair.catalog is not None,
        "faults": {system: [_spec(rule) for rule in pair.faults(system).rules()] for system in SYSTEMS},
    }


def _print_human(info: dict[str, Any]) -> None:
    def say(text: str) -> None:
        console.print(text, soft_wrap=True)

    plenty, magento = info["plenty"], info["magento"]
    say(f"[bold]PlentyONE[/bold]  {plenty['url']}  (login: POST {plenty['login_url']})")
    say(f"  username {plenty['username']}  password {plenty['password']}  plentyId {plenty['plenty_id']}")
    say(f"[bold]Magento[/bold]    {magento['url']}  (REST: {magento['rest_url']})")
    say(f"  consumer key {magento['consumer_key']}  consumer secret {magento['consumer_secret']}")
    say(f"  access token {magento['access_token']}  access token secret {magento['access_token_secret']}")
    if magento["admin_two_factor_auth"]:
        admin_note = "2FA is on: the admin token endpoint refuses this login; start with --no-admin-2fa to use it"
    else:
        admin_note = "2FA off: POST /rest/V1/integration/admin/token issues an admin token"
    say(f"  admin {magento['admin_username']} / {magento['admin_password']}  ({admin_note})")
    bearer = "accepted" if magento["integration_as_bearer"] else "not accepted (--integration-as-bearer)"
    say(f"  access token as a bearer token: {bearer}; OAuth 1.0a signatures always work")
    if info["state_dir"] is None:
        say("State: in memory only; it is gone when the servers stop.")
    else:
        origin = "seeded from the catalog" if info["seeded"] else "loaded from the last run"
        say(f"State: {info['state_dir']} ({origin}; forget it with: plentysync sandbox reset)")
    for system, rules in info["faults"].items():
        for rule in rules:
            say(f"Fault on {system}: {_fault_text(rule)}")
    say("Serving; press Ctrl-C to stop.")


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (handled alike, so neither interrupts the shutdown)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@app.command(name="run")
def run(
    *,
    host: str = "127.0.0.1",
    plenty_port: int = 0,
    magento_port: int = 0,
    size: int = 1,
    seed: int = 7,
    state_dir: Path | None = None,
    memory: bool = False,
    fault: Annotated[list[str] | None, Parameter(name="--fault")] = None,
    latency_ms: float | None = None,
    no_admin_2fa: bool = False,
    integration_as_bearer: bool = False,
    public: bool = False,
    common: Common = Common(),
) -> int:
    """Serve a simulated PlentyONE and a simulated Magento, seeded with the same catalog, until Ctrl-C.

    Prints both base URLs and their (fake, fixed) credentials; with --json one line of JSON, then the
    servers keep running. Magento's admin login is printed too, but Magento's admin 2FA is on (as on a
    real shop) unless --no-admin-2fa; the integration token works as a bearer token only with
    --integration-as-bearer (OAuth 1.0a signatures always work). The data is saved in the state
    directory after every write and loaded again on the next start, so a sync can be resumed; --memory
    keeps it in memory only.

    Example: plentysync sandbox run --size 2 --fault plenty:rate_limit:times=3 --latency-ms 20

    Parameters
    ----------
    host
        Address to listen on. Anything but loopback needs --public.
    plenty_port
        Port of the PlentyONE sandbox (0: a free one).
    magento_port
        Port of the Magento sandbox (0: a free one).
    size
        Catalog size (1: about 40 products, 20 customers, 30 orders; counts grow linearly).
    seed
        Seed of the generated catalog; the same seed gives the same data.
    state_dir
        Where the state is kept between runs (default: <data_dir>/sandbox).
    memory
        Keep the state in memory only: start from the catalog, save nothing.
    fault
        A fault rule KIND[:key=value,...] for both systems, or for one with a plenty: / magento: prefix,
        e.g. status:status=503,times=2 or magento:drop_after:path=/V1/orders. Repeatable.
    latency_ms
        Delay every response of both systems by this many milliseconds.
    no_admin_2fa
        Switch Magento's admin 2FA off, so the printed admin login gets a token from
        /V1/integration/admin/token (with 2FA on, as on a default Magento, it is refused).
    integration_as_bearer
        Accept the integration access token as a bearer token (Magento's
        oauth/consumer/enable_integration_as_bearer; off by default since 2.4.4).
    public
        Allow listening on a non-loopback address.
    """
    if memory and state_dir is not None:
        raise UsageError("--memory and --state-dir exclude each other")
    if not 1 <= size <= 1000:
        raise UsageError("--size must be between 1 and 1000")
    for name, port in (("--plenty-port", plenty_port), ("--magento-port", magento_port)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{name} must be between 0 and 65535")
    check_host(host, public)
    rules = parse_faults(fault or [], latency_ms)
    directory = None if memory else (state_dir or default_state_dir(common))
    if memory:
        settings_for(common)

    from plentysync.sandbox.apps import build_sandbox
    from plentysync.sandbox.magento.config import MagentoSandboxConfig
    from plentysync.sandbox.server import RunningServer, start_server

    magento = MagentoSandboxConfig(two_factor_auth=not no_admin_2fa, integration_as_bearer=integration_as_bearer)
    pair = build_sandbox(size=size, seed=seed, state_dir=directory, magento_config=magento)
    for system in SYSTEMS:
        for rule in rules[system]:
            pair.faults(system).add(rule)
    servers: list[RunningServer] = []
    try:
        try:
            servers.append(start_server(pair.plenty_app, host=host, port=plenty_port))
            servers.append(start_server(pair.magento_app, host=host, port=magento_port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}: {exc.strerror or exc}") from None
        info = describe(pair, servers[0].url, servers[1].url, directory)
        if common.json:
            sys.stdout.write(json.dumps(to_jsonable(info), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            _print_human(info)
        _wait_for_stop()
    finally:
        for server in servers:
            server.server.should_exit = True
        for server in servers:
            server.stop()
    if not common.json:
        console.print("Stopped.")
    return 0


def _state_files(directory: Path) -> list[Path]:
    from plentysync.sandbox.apps import STATE_FILES

    found = [directory / name for name in STATE_FILES if (directory / name).is_file()]
    leftovers = [p for name in STATE_FILES for p in sorted(directory.glob(f"{name}*.tmp")) if p.is_file()]
    return found + leftovers


@app.command(name="reset")
def reset(
    *,
    state_dir: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Forget the saved sandbox state, so the next `plentysync sandbox run` starts from a fresh catalog.

    Stop a running sandbox first: it saves its state again after the next write.

    Example: plentysync sandbox reset --dry-run

    Parameters
    ----------
    state_dir
        The state directory (default: <data_dir>/sandbox).
    force
        Delete without asking (needed when not on a terminal).
    dry_run
        Only show what would be deleted.
    """
    directory = state_dir or default_state_dir(common)
    files = _state_files(directory) if directory.is_dir() else []
    deleted = False
    if files and not dry_run:
        confirm(f"Delete the sandbox state in {directory} ({len(files)} files)?", force=force)
        for path in files:
            path.unlink(missing_ok=True)
        deleted = True

    data = {"state_dir": directory, "files": files, "deleted": deleted, "dry_run": dry_run}

    def human() -> None:
        if not files:
            console.print(f"No saved sandbox state in {directory}.")
            return
        verb = "Would delete" if dry_run else "Deleted"
        for path in files:
            console.print(f"{verb} {path}")

    emit(common.json, data, human)
    return 0
