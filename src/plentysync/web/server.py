"""uvicorn for ``plentysync serve``: a listening socket of our own (so a busy port is a clean error, not
uvicorn's ``sys.exit``) and a graceful stop on SIGTERM and SIGINT that returns normally."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn

from plentysync.errors import PlentysyncError

SHUTDOWN_GRACE_SECONDS = 10
"""How long requests in flight may take to finish once a stop was asked for."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio switches Nagle off only on sockets whose proto says TCP
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PlentysyncError(f"cannot listen on {host}:{port}: {reason}") from None
    # Listening at once: a client connecting before the server loop runs waits in the backlog
    # instead of being refused (uvicorn calls listen() again with its own backlog).
    sock.listen(128)
    return sock


class GracefulServer(uvicorn.Server):
    """uvicorn's server; a first SIGTERM/SIGINT stops it gracefully (a second SIGINT forces it), and
    unlike uvicorn's own handling the signal is not raised again afterwards, so the caller's cleanup
    (closing the database) runs and the process exits 0. ``install_signal_handlers=False`` (tests, or a
    server off the main thread) leaves the signals alone; set ``should_exit`` to stop."""

    def __init__(self, config: uvicorn.Config, *, install_signal_handlers: bool = True) -> None:
        super().__init__(config)
        self.install_signal_handlers = install_signal_handlers

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if not self.install_signal_handlers or threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def server_config(app: object, *, log_level: str = "info") -> uvicorn.Config:
    # log_config=None: uvicorn's loggers go through plentysync's logging (file and terminal) instead
    # of replacing it; no access log (paths and client addresses only, but one line per LB probe).
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_config=None,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        server_header=False,
    )
