"""Run a sandbox ASGI app on real HTTP: uvicorn on loopback, in a background thread, on a free port
unless one is given. Tests, benchmarks and ``plentysync sandbox`` share this."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from plentysync.sandbox.faults import ASGIApp


@dataclass
class RunningServer:
    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_server(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> RunningServer:
    """Start ``app`` and return once it accepts connections."""
    # IPPROTO_TCP explicitly: asyncio switches Nagle off (TCP_NODELAY) only on sockets whose proto says TCP, and
    # with Nagle on, every response waits for the client's delayed ACK (~40 ms on loopback).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        limit_concurrency=None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"sandbox-{bound_port}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"sandbox server on {host}:{bound_port} failed to start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{bound_port} did not start within 10 s")
        time.sleep(0.01)
    return RunningServer(host, bound_port, server, thread)


@contextmanager
def serving(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningServer]:
    running = start_server(app, host=host, port=port)
    try:
        yield running
    finally:
        running.stop()
