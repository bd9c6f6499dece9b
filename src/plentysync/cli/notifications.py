"""``plentysync notifications ...``: what was recorded, what was sent, and sending now."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from plentysync.cli.common import Limit, RowId, parse_ids, profile_type_of
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import confirm, console, emit, err_console, fmt_time, table
from plentysync.engine.services import Engine
from plentysync.errors import ConfigError, NotFoundError, UsageError
from plentysync.runtime.notify import DispatchReport, Notifier
from plentysync.runtime.severity import level_of

app = App(
    name="notifications",
    help="""Notifications: list and read them, send what is due (email, webhook), test the channels, clean up.

Example: plentysync notifications list --severity error --unread""",
)

SEVERITY_STYLE = {
    "debug": "dim",
    "info": "",
    "notice": "cyan",
    "warning": "yellow",
    "error": "red",
    "critical": "bold red",
}


def _styled(severity: str) -> str:
    style = SEVERITY_STYLE.get(severity, "")
    return f"[{style}]{severity}[/{style}]" if style else severity


def _notifier(engine: Engine) -> Notifier:
    return Notifier(engine.db, engine.settings.notifications, engine.clock)


def _min_level(severity: str | None) -> int | None:
    if severity is None:
        return None
    try:
        return level_of(severity)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@app.command(name="list")
async def list_notifications(
    *,
    severity: Annotated[str | None, Parameter(name=["--severity", "-s"])] = None,
    profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None,
    kind: str | None = None,
    unread: bool = False,
    limit: Limit = 50,
    common: Common = Common(),
) -> int:
    """List notifications, newest first.

    Example: plentysync notifications list --severity error --unread

    Parameters
    ----------
    severity
        Only this severity and above (debug, info, notice, warning, error, critical).
    profile
        Only this profile (type id or profile id).
    kind
        Only this kind (run_summary, auth_failed, failing_runs, error_rows, ...).
    unread
        Only notifications not marked read.
    limit
        How many to show.
    """
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    min_level = _min_level(severity)
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile) if profile else None
        rows = await _notifier(engine).store.find(
            min_level=min_level, profile_type=ptype, kind=kind, unread=unread, limit=limit
        )

    def human() -> None:
        if not rows:
            console.print("No notifications match.")
            return
        grid = table("ID", "Severity", "Profile", "Kind", "Title", "Created", "Read", "Sent")
        for row in rows:
            sent = ", ".join(
                name for name, at in (("email", row.emailed_at), ("webhook", row.webhook_at)) if at is not None
            )
            title = row.title if row.read_at else f"[bold]{row.title}[/bold]"
            grid.add_row(
                str(row.id),
                _styled(row.severity),
                row.profile_type or "—",
                row.kind,
                title,
                fmt_time(row.created_at),
                "yes" if row.read_at else "no",
                sent or "—",
            )
        console.print(grid)

    emit(common.json, rows, human)
    return 0


@app.command(name="show")
async def show(notification_id: RowId, /, *, common: Common = Common()) -> int:
    """Show one notification in full: message, context, when it was sent and read.

    Example: plentysync notifications show 42

    Parameters
    ----------
    notification_id
        The notification's id (see notifications list).
    """
    async with open_engine(common) as engine:
        row = await _notifier(engine).store.get(notification_id)

    def human() -> None:
        console.print(f"[bold]#{row.id} {_styled(row.severity)} {row.title}[/bold]")
        for label, value in (
            ("Kind", row.kind),
            ("Profile", row.profile_type or "—"),
            ("Run", str(row.run_id) if row.run_id else "—"),
            ("Created", fmt_time(row.created_at)),
            ("Emailed", fmt_time(row.emailed_at)),
            ("In digest", fmt_time(row.digested_at)),
            ("Webhook", fmt_time(row.webhook_at)),
            ("Read", fmt_time(row.read_at)),
        ):
            console.print(f"{label + ':':<11}{value}", markup=False)
        if row.message:
            console.print()
            console.print(row.message, markup=False)
        if row.context:
            console.print()
            console.print_json(data=row.context)

    emit(common.json, row, human)
    return 0


@app.command(name="mark-read")
async def mark_read(
    ids: list[str] | None = None,
    /,
    *,
    all_: Annotated[bool, Parameter(name="--all")] = False,
    profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None,
    common: Common = Common(),
) -> int:
    """Mark notifications read, by id or all of them (optionally of one profile).

    Example: plentysync notifications mark-read 41,42

    Example: plentysync notifications mark-read --all --profile plenty_stock_export

    Parameters
    ----------
    ids
        Notification ids (comma-separated or several).
    all_
        All unread notifications.
    profile
        With --all: only this profile's.
    """
    wanted = parse_ids(ids, "notification id")
    if bool(wanted) == all_:
        raise UsageError("give notification ids or --all (not both)")
    if profile and not all_:
        raise UsageError("--profile goes with --all")
    async with open_engine(common) as engine:
        notifier = _notifier(engine)
        ptype = await profile_type_of(engine, profile) if profile else None
        if wanted:
            missing = sorted(set(wanted) - await notifier.store.existing_ids(wanted))
            if missing:
                raise NotFoundError(f"no notification {', '.join(map(str, missing))}")
        changed = await notifier.store.mark_read(wanted or None, engine.clock.now(), profile_type=ptype)
    emit(common.json, {"marked_read": changed}, lambda: console.print(f"Marked {changed} notifications read."))
    return 0


def _print_report(report: DispatchReport, *, preview: bool) -> None:
    for note in report.notes:
        console.print(note, markup=False)
    if not report.deliveries:
        console.print("Nothing to send." if not preview else "Nothing would be sent.")
        return
    grid = table("Channel", "Kind", "Notifications", "Subject", "Result")
    for d in report.deliveries:
        result = "would send" if preview else ("[green]sent[/green]" if d.sent else f"[red]failed[/red]: {d.error}")
        if d.refused:
            result += f" (refused: {', '.join(d.refused)})"
        ids = ", ".join(map(str, d.notification_ids[:10])) + (" …" if len(d.notification_ids) > 10 else "")
        grid.add_row(d.channel, d.kind, f"{len(d.notification_ids)} ({ids})" if ids else "—", d.subject, result)
    console.print(grid)
    if preview:
        for d in report.deliveries:
            console.rule(f"{d.channel} {d.kind}: {d.subject}")
            console.print(d.body or "", markup=False)


@app.command(name="send")
async def send(*, digest: bool = False, dry_run: bool = False, common: Common = Common()) -> int:
    """Send what is due now: criticals at once, the digest when its interval has passed (or with
    --digest). Exit 1 when a channel failed; the notifications stay queued for the next try.

    Example: plentysync notifications send --digest --dry-run

    Parameters
    ----------
    digest
        Send the digest now, even before its interval has passed.
    dry_run
        Show what would be sent, without sending or marking anything.
    """
    async with open_engine(common) as engine:
        report = await _notifier(engine).dispatch(force_digest=digest, dry_run=dry_run)
    emit(common.json, report, lambda: _print_report(report, preview=dry_run))
    if not report.ok:
        if not common.json:
            err_console.print(f"[red]error:[/red] {len(report.failures)} deliveries failed; they will be retried")
        return 1
    return 0


@app.command(name="test")
async def send_test(*, common: Common = Common()) -> int:
    """Send a test message on every configured channel (email, webhook) to check the settings.

    Example: plentysync notifications test

    Exit 1 when a channel failed (the message says why), 2 when none is configured.
    """
    async with open_engine(common) as engine:
        report = await _notifier(engine).send_test()
    if not report.deliveries:
        raise ConfigError(
            "no notification channel configured: set notifications.email_enabled with notifications.recipients "
            "(and notifications.smtp), or notifications.webhook_url"
        )
    emit(common.json, report, lambda: _print_report(report, preview=False))
    if not report.ok:
        if not common.json:
            for failure in report.failures:
                err_console.print(f"[red]error:[/red] {failure.channel}: {failure.error}", highlight=False)
        return 1
    return 0


@app.command(name="clean")
async def clean(
    *,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Delete notifications older than retention_days, then the oldest beyond max_notifications, in batches.

    Example: plentysync notifications clean --dry-run

    Parameters
    ----------
    force
        Do not ask for confirmation.
    dry_run
        Count what would be deleted.
    """
    async with open_engine(common) as engine:
        notifier = _notifier(engine)
        settings = engine.settings.notifications
        count = await notifier.clean(dry_run=True)
        if not dry_run and count:
            confirm(
                f"Delete {count} notifications (retention {settings.retention_days} days, "
                f"cap {settings.max_notifications})?",
                force=force,
            )
            count = await notifier.clean()
    data = {"dry_run": dry_run, "deleted": count}
    verb = "Would delete" if dry_run else "Deleted"
    emit(common.json, data, lambda: console.print(f"{verb} {count} notifications."))
    return 0
