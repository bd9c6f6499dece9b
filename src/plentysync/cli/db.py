"""``plentysync db ...``: schema migrations and the secret key."""

from __future__ import annotations

from cyclopts import App

from plentysync.cli.context import Common, open_database
from plentysync.cli.output import console, emit
from plentysync.crypto import SecretBox, generate_key
from plentysync.db.migrate import current_revision, ensure_schema, head_revision, upgrade, upgrade_target
from plentysync.engine.connections import ConnectionStore

app = App(name="db", help="The state database: schema migrations and encrypted credentials.")


@app.command(name="upgrade")
async def db_upgrade(
    *,
    revision: str = "head",
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Upgrade the database schema (needed after installing a new version on PostgreSQL/MariaDB;
    SQLite is upgraded automatically). A SQLite database file that was deleted is created anew, empty
    (every other command refuses to do that).

    Example: PLENTYSYNC_DATABASE_URL=postgresql://plentysync@db/plentysync plentysync db upgrade

    Parameters
    ----------
    revision
        Target revision (default: the newest). Downgrades are not supported.
    dry_run
        Show the current and target revision, without migrating.
    """
    async with open_database(common, recreate=not dry_run) as (_settings, db):
        before = await current_revision(db)
        target = upgrade_target(before, revision)
        after = before if dry_run else (await upgrade(db, revision))[1]
        data = {"database": db.display_url, "before": before, "after": after, "target": target, "dry_run": dry_run}

    def human() -> None:
        if dry_run:
            console.print(f"{db.display_url}: at {before or 'no schema'}, would upgrade to {target}.")
        elif before == after:
            console.print(f"{db.display_url}: already at {after}.")
        else:
            console.print(f"{db.display_url}: upgraded {before or 'empty database'} → {after}.")

    emit(common.json, data, human)
    return 0


@app.command(name="current")
async def db_current(*, common: Common = Common()) -> int:
    """Show the database in use and its schema revision.

    Example: plentysync db current --json
    """
    async with open_database(common) as (_settings, db):
        current = await current_revision(db)
        head = head_revision()
        data = {
            "database": db.display_url,
            "backend": db.backend,
            "current": current,
            "head": head,
            "up_to_date": current == head,
        }

    def human() -> None:
        state = "up to date" if current == head else f"needs `plentysync db upgrade` to {head}"
        console.print(f"{db.display_url} ({db.backend}): revision {current or 'none'}, {state}.")

    emit(common.json, data, human)
    return 0


@app.command(name="rotate-secrets")
async def rotate_secrets(*, dry_run: bool = False, common: Common = Common()) -> int:
    """Re-encrypt every stored credential with the current secret_key.

    To rotate: set the new key as secret_key, move the old one to secret_key_fallbacks, run this,
    then drop the old key.

    Example: PLENTYSYNC_SECRET_KEY=$NEW_KEY PLENTYSYNC_SECRET_KEY_FALLBACKS=$OLD_KEY plentysync db rotate-secrets

    Parameters
    ----------
    dry_run
        Check every credential decrypts, without rewriting them.
    """
    async with open_database(common) as (settings, db):
        await ensure_schema(db)
        store = ConnectionStore(db, SecretBox.from_settings(settings))
        count = await store.rotate(dry_run=dry_run)
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    emit(
        common.json,
        {"dry_run": dry_run, "credentials": count},
        lambda: console.print(f"{count} stored credentials {verb}."),
    )
    return 0


@app.command(name="generate-key")
def db_generate_key(*, common: Common = Common()) -> int:
    """Print a new secret key (for the secret_key setting). Nothing is stored.

    Example: plentysync db generate-key
    """
    key = generate_key()
    emit(common.json, {"secret_key": key}, lambda: print(key))
    return 0
