"""What a finished run raises: its summary, and the critical alerts (credentials rejected, a streak
of failed runs, too many queue rows in error). Streaks and crossings are remembered in
``sync_state`` so each raises once, and re-arm when the profile recovers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import select

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.tables import profile_run
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.queue import CoalescingQueue, QueueStatus
from plentysync.engine.runner import RunReport
from plentysync.runtime.severity import Severity
from plentysync.runtime.state_cell import StateCell
from plentysync.settings import NotificationSettings

_SUMMARY_SEVERITY: dict[str, Severity] = {
    RunStatus.SUCCESS.value: "info",
    RunStatus.PARTIAL.value: "warning",
    RunStatus.FAILED.value: "error",
    RunStatus.CANCELLED.value: "notice",
}
_FINISHED = (RunStatus.SUCCESS.value, RunStatus.PARTIAL.value, RunStatus.FAILED.value)
SAMPLE_ERRORS = 10


class NotifyFn(Protocol):
    def __call__(
        self,
        severity: Severity,
        kind: str,
        title: str,
        message: str,
        *,
        profile_type: str | None = None,
        run_id: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> Awaitable[int | None]: ...


class RunAlerts:
    def __init__(self, db: Database, settings: NotificationSettings, clock: Clock, notify: NotifyFn) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.queue = CoalescingQueue(db, clock=clock)

    async def after_run(self, report: RunReport) -> list[int]:
        if not self.settings.enabled or report.run.dry_run:
            return []
        ids: list[int | None] = []
        steps: tuple[Callable[[RunReport], Awaitable[list[int | None]]], ...] = (
            self._summary,
            self._auth,
            self._failing_streak,
            self._error_rows,
        )
        for step in steps:
            ids += await step(report)
        return [i for i in ids if i is not None]

    async def _summary(self, report: RunReport) -> list[int | None]:
        run = report.run
        if not self.settings.run_summary or not (run.processed or run.status == RunStatus.FAILED.value):
            return []
        duration = run.duration.total_seconds() if run.duration is not None else None
        rate = round(100 * run.succeeded / run.processed, 1) if run.processed else None
        title = f"{report.profile.type_id} run {run.id}: {run.status}, {run.processed} processed"
        lines = [
            f"Profile {report.profile.name} ({report.profile.type_id}), run {run.id} ({run.trigger}): {run.status}.",
            f"{run.processed} processed: {run.succeeded} succeeded, {run.errors} failed, {run.skipped} skipped"
            + (f" ({rate}% succeeded)" if rate is not None else "")
            + (f" in {duration:.1f} s." if duration is not None else "."),
        ]
        if run.message:
            lines += ["", run.message]
        sample = [{"key": e.key, "status": str(e.status), "message": e.message} for e in report.errors[:SAMPLE_ERRORS]]
        if sample:
            lines += ["", "First failed entities:", *(f"  {e['key']}: {e['message'] or e['status']}" for e in sample)]
            lines.append(f"All of them: plentysync profile history --run {run.id} --status error")
        context = {
            "status": run.status,
            "trigger": run.trigger,
            "processed": run.processed,
            "succeeded": run.succeeded,
            "errors": run.errors,
            "skipped": run.skipped,
            "duration_seconds": duration,
            "success_rate": rate,
            "failure_kind": report.failure_kind,
            "sample_errors": sample,
        }
        severity = _SUMMARY_SEVERITY.get(run.status, "notice")
        return [
            await self.notify(
                severity,
                "run_summary",
                title,
                "\n".join(lines),
                profile_type=report.profile.type_id,
                run_id=run.id,
                context=context,
            )
        ]

    async def _auth(self, report: RunReport) -> list[int | None]:
        if report.failure_kind != "auth":
            return []
        profile, run = report.profile, report.run
        connections = sorted(
            str(value) for key, value in profile.config.items() if key.endswith("_connection") and value
        )
        checks = [f"plentysync connection test {name}" for name in connections] or [
            "plentysync connection list, then plentysync connection test NAME"
        ]
        message = "\n".join(
            [
                f"Run {run.id} of {profile.name} ({profile.type_id}) stopped because the credentials were rejected:",
                f"  {run.message or 'no details'}",
                "",
                "Check:",
                *(f"  - {check}" for check in checks),
                "  - whether the API user is still active, its password unchanged and its rights sufficient",
                "  - for Magento: whether the integration's tokens were re-issued (re-activating it changes them)",
                "",
                "Nothing was lost: the rows wait in the queue and go out once the connection works again.",
            ]
        )
        return [
            await self.notify(
                "critical",
                "auth_failed",
                f"{profile.type_id}: credentials rejected",
                message,
                profile_type=profile.type_id,
                run_id=run.id,
                context={"connections": connections, "run_message": run.message},
            )
        ]

    async def _failing_streak(self, report: RunReport) -> list[int | None]:
        profile, run = report.profile, report.run
        if run.status not in _FINISHED:
            return []  # a cancelled run neither extends nor ends a streak
        limit = self.settings.failing_runs_threshold
        query = (
            select(profile_run.c.id, profile_run.c.status, profile_run.c.message)
            .where(
                profile_run.c.profile_id == profile.id,
                profile_run.c.dry_run.is_(False),
                profile_run.c.status.in_(_FINISHED),
            )
            .order_by(profile_run.c.started_at.desc(), profile_run.c.id.desc())
            .limit(limit)
        )
        async with self.db.read() as conn:
            recent = (await conn.execute(query)).all()
        failing = len(recent) == limit and all(row.status == RunStatus.FAILED.value for row in recent)
        cell = StateCell(self.db, self.clock, f"notifications.failing_runs.{profile.type_id}")
        seen = await cell.read()
        alerted = isinstance(seen.value, dict) and bool(seen.value.get("alerted"))
        if failing and not alerted:
            if await cell.swap(seen, {"alerted": True, "run_id": run.id}) is None:
                return []  # another process raised it
            messages = [f"  run {row.id}: {row.message or 'failed'}" for row in recent]
            text = "\n".join(
                [
                    f"{profile.name} ({profile.type_id}) failed its last {limit} runs in a row:",
                    *messages,
                    "",
                    f"History: plentysync profile history {profile.type_id}",
                    "This is raised once per streak; a run that succeeds ends it.",
                ]
            )
            return [
                await self.notify(
                    "critical",
                    "failing_runs",
                    f"{profile.type_id}: {limit} failed runs in a row",
                    text,
                    profile_type=profile.type_id,
                    run_id=run.id,
                    context={"runs": [row.id for row in recent], "threshold": limit},
                )
            ]
        if alerted and run.status != RunStatus.FAILED.value:
            if await cell.swap(seen, {"alerted": False, "run_id": run.id}) is None:
                return []
            return [
                await self.notify(
                    "notice",
                    "failing_runs_recovered",
                    f"{profile.type_id}: runs succeed again",
                    f"Run {run.id} of {profile.name} ({profile.type_id}) ended {run.status}; "
                    "the streak of failed runs is over.",
                    profile_type=profile.type_id,
                    run_id=run.id,
                )
            ]
        return []

    async def _error_rows(self, report: RunReport) -> list[int | None]:
        profile = report.profile
        threshold = self.settings.error_rows_threshold
        count = await self.queue.count(profile.type_id, statuses=[QueueStatus.ERROR])
        cell = StateCell(self.db, self.clock, f"notifications.error_rows.{profile.type_id}")
        seen = await cell.read()
        alerted = isinstance(seen.value, dict) and bool(seen.value.get("alerted"))
        if count >= threshold and not alerted:
            if await cell.swap(seen, {"alerted": True, "count": count}) is None:
                return []
            text = "\n".join(
                [
                    f"{profile.name} ({profile.type_id}) has {count} queue rows in status error "
                    f"(threshold {threshold}). They are not retried on their own.",
                    "",
                    f"Look:  plentysync queue list -p {profile.type_id} --status error",
                    f"Retry: plentysync queue retry -p {profile.type_id}   (after fixing the cause)",
                    "This is raised again only after the count has dropped below the threshold.",
                ]
            )
            return [
                await self.notify(
                    "critical",
                    "error_rows",
                    f"{profile.type_id}: {count} queue rows in error",
                    text,
                    profile_type=profile.type_id,
                    run_id=report.run.id,
                    context={"error_rows": count, "threshold": threshold},
                )
            ]
        if count < threshold and alerted:
            await cell.swap(seen, {"alerted": False, "count": count})  # re-armed, quietly
        return []
