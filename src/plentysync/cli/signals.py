"""SIGTERM stops a command the way Ctrl-C does: the running task is cancelled, so every ``async with``
unwinds (PlentyONE sessions are logged out, claimed queue rows given back) before the process exits.

Without this a SIGTERM (systemd stopping a unit, ``timeout``, ``kill``) ended a CLI command at once:
exit 143 without a word, and a PlentyONE session left open for a day, counted against the account's cap.
Long-running commands (``worker``, ``serve``) install their own handlers while they run.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

EXIT_TERMINATED = 143
EXIT_INTERRUPTED = 130

_received: list[int] = []


def note(signum: int) -> None:
    """A command with its own handlers (the worker) reports the signal that stopped it."""
    _received.append(signum)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    note(signum)
    # Whatever handles SIGINT right now (asyncio.run's: cancel the main task; else KeyboardInterrupt).
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _on_sigterm:
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGTERM to the SIGINT handling (main thread only: tests call the CLI from threads)."""
    _received.clear()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def interruption() -> tuple[str, int]:
    """The message and exit code for a command stopped by a signal."""
    if signal.SIGTERM in _received:
        return "terminated", EXIT_TERMINATED
    return "interrupted", EXIT_INTERRUPTED
