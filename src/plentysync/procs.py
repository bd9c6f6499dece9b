"""Which process is this, and is another process of this host still alive.

Rows that a process holds in the state database (shared-budget slots, PlentyONE sessions, worker
heartbeats) name their holder as ``host:pid``. Another process of the same host can tell at once
whether that holder is gone (killed, OOM) instead of waiting for its lease to run out; for a holder on
another host only the lease can tell.
"""

from __future__ import annotations

import os
import socket


def this_host() -> str:
    return socket.gethostname()


def process_id() -> str:
    """``host:pid`` of this process."""
    return f"{this_host()}:{os.getpid()}"


def gone_here(host: str, pid: int) -> bool:
    """True when ``pid`` ran on this host and no longer exists. False when it is alive, is this process,
    or runs elsewhere (unknowable here)."""
    if host != this_host() or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    except OverflowError:  # not a pid at all
        return True
    return False


def holder_gone(holder: str) -> bool:
    """For a holder id ``host:pid[:anything]``: is its process gone from this host?"""
    host, _, rest = holder.partition(":")
    pid, _, _ = rest.partition(":")
    return pid.isdigit() and gone_here(host, int(pid))
