"""``plentysync connection ...``: the stored, encrypted connections to PlentyONE and Magento.

Secrets (passwords, the OAuth secrets, bearer tokens) never come from flags, so they stay out of the
shell history and the process list: they are asked for with hidden input on a terminal, or read as one
JSON object from stdin with ``--secrets-stdin``. No command prints them.

The API clients are imported only by ``connection test``, so the other commands stay quick to load.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

from cyclopts import App, Parameter
from rich.markup import escape
from rich.prompt import Prompt

from plentysync.cli.context import Common, open_database
from plentysync.cli.output import confirm, console, emit, err_console, fmt_time, table
from plentysync.crypto import SecretBox
from plentysync.db.migrate import ensure_schema
from plentysync.engine.connections import Connection, ConnectionStore, check_name
from plentysync.errors import ConfigError, UsageError
from plentysync.settings import Settings
from plentysync.sync.credentials import SECRET_CREDENTIALS, SHOWN_CREDENTIALS, required_credentials

if TYPE_CHECKING:
    from plentysync.sync.clients import ConnectionCheck

app = App(name="connection", help="Connections to PlentyONE and Magento: URL, options and encrypted credentials.")

FLAG_FIELDS = ("username", "consumer_key", "access_token")


@asynccontextmanager
async def open_store(common: Common) -> AsyncIterator[tuple[Settings, ConnectionStore]]:
    async with open_database(common) as (settings, db):
        await ensure_schema(db)
        yield settings, ConnectionStore(db, SecretBox.from_settings(settings))


def _auth_of(connection: Connection) -> str | None:
    return str(connection.options.get("auth") or "oauth") if connection.system == "magento" else None


def required_fields(system: str, auth: str | None) -> tuple[str, ...]:
    try:
        return required_credentials(system, {"auth": auth} if system == "magento" else None)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def summary(connection: Connection) -> dict[str, Any]:
    """What may be shown of a connection: everything but credential values."""
    return {
        "name": connection.name,
        "system": connection.system,
        "base_url": connection.base_url,
        "options": connection.options,
        "credential_names": connection.credential_names,
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    }


def _read_stdin_secrets() -> dict[str, str]:
    text = sys.stdin.read()
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError("--secrets-stdin: stdin is not one JSON object") from None
    if not isinstance(data, dict):
        raise UsageError('--secrets-stdin: stdin must hold one JSON object, e.g. {"password": "..."}')
    bad = sorted(k for k, v in data.items() if not isinstance(v, str))
    if bad:
        raise UsageError(f"--secrets-stdin: values must be strings (not: {', '.join(bad)})")
    return {str(k): v for k, v in data.items()}


def collect_credentials(
    fields: tuple[str, ...], flags: Mapping[str, str | None], *, secrets_stdin: bool
) -> dict[str, str]:
    """Credentials from flags (non-secret fields), stdin JSON or hidden prompts; exit 2 naming what is missing."""
    given = {k: v for k, v in flags.items() if v}
    unused = sorted(set(given) - set(fields))
    if unused:
        raise UsageError(f"--{unused[0].replace('_', '-')} does not apply here (fields: {', '.join(fields)})")
    if secrets_stdin:
        piped = _read_stdin_secrets()
        unknown = sorted(set(piped) - set(fields))
        if unknown:
            raise UsageError(f"--secrets-stdin: unknown credential {unknown[0]!r} (fields: {', '.join(fields)})")
        twice = sorted(set(piped) & set(given))
        if twice:
            raise UsageError(f"credential {twice[0]!r} given both as a flag and on stdin")
        given.update({k: v for k, v in piped.items() if v})
    for name in fields:
        if name in given:
            continue
        if name not in SECRET_CREDENTIALS:
            raise UsageError(f"missing credential {name!r}: pass --{name.replace('_', '-')}")
        if secrets_stdin or not sys.stdin.isatty():
            raise UsageError(
                f"missing credential {name!r}: pass it in the JSON object on stdin with --secrets-stdin, "
                "or run on a terminal to be asked"
            )
        value = Prompt.ask(name.replace("_", " ").capitalize(), password=True, console=err_console)
        if not value:
            raise UsageError(f"missing credential {name!r}: nothing entered")
        given[name] = value
    return {name: given[name] for name in fields}


@app.command(name="add")
async def add(
    name: str,
    /,
    *,
    system: Literal["plenty", "magento"],
    url: str,
    auth: Literal["oauth", "bearer", "admin"] | None = None,
    store_code: str | None = None,
    username: str | None = None,
    consumer_key: str | None = None,
    access_token: str | None = None,
    secrets_stdin: bool = False,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Store a connection (credentials encrypted). Secrets are asked for with hidden input, or read
    as one JSON object from stdin with --secrets-stdin; they are never taken from flags.

    PlentyONE needs --username and a password. Magento needs, by --auth: oauth (default) --consumer-key,
    --access-token, consumer_secret and access_token_secret; bearer a token; admin --username and a password.

    Example: plentysync connection add erp --system plenty --url https://erp.example --username api

    Example: plentysync connection add shop --system magento --url https://shop.example --consumer-key K
    --access-token T --secrets-stdin

    With --secrets-stdin, pipe e.g. {"consumer_secret": "...", "access_token_secret": "..."} into the command.

    Parameters
    ----------
    name
        Name of the connection (profiles refer to it).
    system
        plenty or magento.
    url
        Base URL: the exact https address of the PlentyONE system, or the shop's base URL.
    auth
        Magento only: oauth (an Integration, default), bearer (integration token) or admin (user and password).
    store_code
        Magento only: the store view reads and store-scoped writes address (default: default).
    username
        PlentyONE user, or Magento admin user (--auth admin).
    consumer_key
        Magento Integration consumer key.
    access_token
        Magento Integration access token.
    secrets_stdin
        Read the secrets as one JSON object from stdin.
    force
        Replace an existing connection of this name without asking.
    dry_run
        Validate and show what would be saved (without secrets), without saving.
    """
    check_name(name)
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got {url!r}")
    options: dict[str, Any] = {}
    if system == "magento":
        options = {"auth": auth or "oauth", "store_code": store_code or "default"}
    elif auth is not None or store_code is not None:
        raise UsageError(f"--{'auth' if auth is not None else 'store-code'} applies to magento connections only")
    fields = required_fields(system, options.get("auth"))
    flags = {"username": username, "consumer_key": consumer_key, "access_token": access_token}
    credentials = collect_credentials(fields, flags, secrets_stdin=secrets_stdin)
    async with open_store(common) as (_settings, store):
        exists = name in await store.names()
        if not dry_run:
            if exists:
                confirm(f"Replace the stored connection '{name}'?", force=force)
            saved = await store.save(name, system=system, base_url=url, credentials=credentials, options=options)
    data: dict[str, Any] = (
        {**summary(saved), "dry_run": False, "replaced": exists}
        if not dry_run
        else {
            "name": name,
            "system": system,
            "base_url": url.rstrip("/"),
            "options": options,
            "credential_names": sorted(credentials),
            "dry_run": True,
            "replaced": exists,
        }
    )

    def human() -> None:
        verb = ("Would replace" if exists else "Would add") if dry_run else ("Replaced" if exists else "Added")
        console.print(
            escape(
                f"{verb} connection '{name}' ({system}, {data['base_url']}) with credentials "
                f"{', '.join(data['credential_names'])}."
            ),
            soft_wrap=True,
        )
        if not dry_run:
            console.print(f"Check it with: plentysync connection test {name}", soft_wrap=True)

    emit(common.json, data, human)
    return 0


@app.command(name="list")
async def list_connections(*, common: Common = Common()) -> int:
    """List the stored connections with their options and the names (never the values) of their credentials.

    Example: plentysync connection list --json
    """
    async with open_store(common) as (_settings, store):
        rows = [summary(await store.get(name)) for name in await store.names()]

    def human() -> None:
        if not rows:
            console.print("No connections yet. Add one with: plentysync connection add NAME --system plenty ...")
            return
        grid = table("Name", "System", "URL", "Options", "Credentials", "Updated")
        for row in rows:
            options = ", ".join(f"{k}={v}" for k, v in sorted(row["options"].items())) or "—"
            grid.add_row(
                escape(row["name"]),
                row["system"],
                escape(row["base_url"]),
                escape(options),
                ", ".join(row["credential_names"]),
                fmt_time(row["updated_at"]),
            )
        console.print(grid)

    emit(common.json, rows, human)
    return 0


@app.command(name="show")
async def show(name: str, /, *, common: Common = Common()) -> int:
    """Show one connection: URL, options, which credentials it has and which it lacks. Secret values are
    never shown; the user name and consumer key are, since they only say which account is used.

    Example: plentysync connection show erp

    Parameters
    ----------
    name
        Name of the connection.
    """
    async with open_store(common) as (_settings, store):
        connection = await store.get(name)
    data = summary(connection)
    try:
        fields = required_fields(connection.system, _auth_of(connection))
    except UsageError:
        fields = ()
    data["missing_credentials"] = [f for f in fields if f not in connection.credentials]
    data["identity"] = {
        key: connection.credentials[key].get_secret_value()
        for key in sorted(SHOWN_CREDENTIALS)
        if key in connection.credentials
    }

    def human() -> None:
        console.print(f"[bold]{escape(connection.name)}[/bold]  ({connection.system})", soft_wrap=True)
        console.print(f"URL: {escape(connection.base_url)}", soft_wrap=True)
        for key, value in sorted(connection.options.items()):
            console.print(escape(f"Option {key}: {value}"), soft_wrap=True)
        for key, value in data["identity"].items():
            console.print(escape(f"{key.replace('_', ' ').capitalize()}: {value}"), soft_wrap=True)
        console.print(f"Credentials stored: {', '.join(connection.credential_names) or 'none'}", soft_wrap=True)
        if data["missing_credentials"]:
            console.print(f"[red]Missing:[/red] {', '.join(data['missing_credentials'])}", soft_wrap=True)
        console.print(f"Created {fmt_time(connection.created_at)}, updated {fmt_time(connection.updated_at)}")

    emit(common.json, data, human)
    return 0


@app.command(name="remove")
async def remove(
    name: str,
    /,
    *,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Delete a stored connection and its credentials. Asks for confirmation unless --force is given.

    Example: plentysync connection remove erp --force

    Parameters
    ----------
    name
        Name of the connection.
    force
        Do not ask for confirmation.
    dry_run
        Show what would be removed, without removing it.
    """
    async with open_store(common) as (_settings, store):
        connection = await store.get(name)
        if not dry_run:
            confirm(f"Remove the connection '{name}' ({connection.system}, {connection.base_url})?", force=force)
            await store.delete(name)
    data = {"name": name, "system": connection.system, "removed": not dry_run, "dry_run": dry_run}
    verb = "Would remove" if dry_run else "Removed"
    emit(common.json, data, lambda: console.print(escape(f"{verb} connection '{name}'."), soft_wrap=True))
    return 0


def _print_check(check: ConnectionCheck) -> None:
    grid = table("Connection", "System", "Result", "Message")
    result = "[green]ok[/green]" if check.ok else "[red]failed[/red]"
    grid.add_row(escape(check.name), check.system, result, escape(check.message))
    console.print(grid)
    details = check.details
    if "warehouses" in details:
        console.print(
            "Warehouses: " + (escape(", ".join(f"{w['id']} {w['name']}" for w in details["warehouses"])) or "none"),
            soft_wrap=True,
        )
    if "budget" in details:
        budget = table("Calls", "Window", "Limit", "Left", "Resets in", title="PlentyONE budget")
        for kind, windows in details["budget"].items():
            for window, reading in windows.items():
                resets = reading["resets_in"]
                budget.add_row(
                    kind,
                    window,
                    str(reading["limit"] if reading["limit"] is not None else "—"),
                    str(reading["calls_left"] if reading["calls_left"] is not None else "—"),
                    "—" if resets is None else f"{resets:.0f}s",
                )
        console.print(budget)
    if "store_views" in details:
        views = table("Store view", "Code", "Website", title="Magento store views")
        for view in details["store_views"]:
            views.add_row(escape(str(view["name"])), escape(str(view["code"])), str(view["website_id"]))
        console.print(views)


@app.command(name="test")
async def check(name: str, /, *, common: Common = Common()) -> int:
    """Log in with a stored connection and read a little reference data: PlentyONE webstores, warehouses
    and the API budget left; Magento websites and store views. Exit code 1 when the check fails.

    Example: plentysync connection test erp

    Parameters
    ----------
    name
        Name of the connection.
    """
    from plentysync.sync.clients import check_connection

    async with open_store(common) as (settings, store):
        connection = await store.get(name)
        result = await check_connection(connection, settings, db=store.db)
    emit(common.json, result, lambda: _print_check(result))
    return 0 if result.ok else 1
