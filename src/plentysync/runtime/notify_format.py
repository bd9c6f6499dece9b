"""What the emails and webhook posts say: one critical at once, or a digest. Pure functions."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plentysync.runtime.notification_store import NotificationRecord
from plentysync.runtime.severity import LEVELS, SEVERITIES

DIGEST_DETAILS = 20
"""How many of the most recent items a digest spells out; the rest are counted."""
_MESSAGE_CHARS = 1500


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def origin() -> str:
    """Which installation speaks: several may mail the same people."""
    return f"plentysync@{socket.gethostname()}"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _clip(text: str | None, limit: int = _MESSAGE_CHARS) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _details(item: NotificationRecord, *, context: bool) -> list[str]:
    lines = [
        f"#{item.id} {item.severity.upper()} {item.title}",
        f"  when:    {_when(item.created_at)}",
    ]
    if item.profile_type:
        lines.append(f"  profile: {item.profile_type}" + (f" (run {item.run_id})" if item.run_id else ""))
    lines.append(f"  kind:    {item.kind}")
    if item.message:
        lines += ["", *(f"  {line}" for line in _clip(item.message).splitlines())]
    if context and item.context:
        dumped = json.dumps(item.context, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        lines += ["", "  context:", *(f"    {line}" for line in _clip(dumped, 4000).splitlines())]
    return lines


def render_immediate(item: NotificationRecord) -> Rendered:
    subject = f"[{origin()}] {item.severity.upper()}: {item.title}"
    body = "\n".join(
        [
            *_details(item, context=True),
            "",
            f"Details: plentysync notifications show {item.id}",
            "Mark it read: plentysync notifications mark-read " + str(item.id),
        ]
    )
    return Rendered(subject, body + "\n")


def severity_counts(items: Sequence[NotificationRecord]) -> dict[str, int]:
    """Counts per severity, most severe first."""
    counts = Counter(item.severity for item in items)
    return {name: counts[name] for name in sorted(SEVERITIES, key=lambda s: -LEVELS[s]) if counts[name]}


def _count_line(items: Sequence[NotificationRecord]) -> str:
    return ", ".join(f"{count} {name}" for name, count in severity_counts(items).items())


def render_digest(items: Sequence[NotificationRecord], since: datetime | None, until: datetime) -> Rendered:
    recent = sorted(items, key=lambda i: (i.level, i.created_at, i.id), reverse=True)[:DIGEST_DETAILS]
    period = f"since {_when(since)}" if since else f"until {_when(until)}"
    profiles = Counter(item.profile_type or "(no profile)" for item in items)
    lines = [
        f"{len(items)} notifications {period}: {_count_line(items)}",
        "",
        "By severity:",
        *(f"  {name:<9} {count}" for name, count in severity_counts(items).items()),
        "",
        "By profile:",
        *(f"  {name:<28} {count}" for name, count in profiles.most_common()),
        "",
        f"Most severe and most recent ({len(recent)} of {len(items)}):",
        "",
    ]
    for item in recent:
        lines += [*_details(item, context=False), ""]
    if len(items) > len(recent):
        lines.append(f"… and {len(items) - len(recent)} more: plentysync notifications list --unread")
    lines.append("All of them: plentysync notifications list --unread; one in full: plentysync notifications show ID")
    subject = f"[{origin()}] Digest: {_count_line(items)}"
    return Rendered(subject, "\n".join(lines) + "\n")


def as_chat_text(rendered: Rendered) -> str:
    """The webhook's text: the subject in bold, then the body."""
    return f"*{rendered.subject}*\n{rendered.body}"


def render_test() -> Rendered:
    subject = f"[{origin()}] Test notification"
    body = (
        "This is a test from plentysync notifications test.\n"
        "If you can read it, the channel works: critical notifications will reach you here.\n"
    )
    return Rendered(subject, body)
