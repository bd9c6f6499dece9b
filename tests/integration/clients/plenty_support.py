"""A seeded PlentyONE sandbox on loopback, wrapped in fault injection and recording, for client tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from plentysync.http.client import HttpConfig, RetryConfig
from plentysync.plenty import PlentyClient, PlentyClientConfig, PlentyCredentials
from plentysync.sandbox.catalog import generate
from plentysync.sandbox.faults import FaultInjector, FaultMiddleware
from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
from plentysync.sandbox.server import serving

FAST_RETRY = RetryConfig(attempts=5, timeout=15, wait_initial=0.01, wait_max=0.05, wait_jitter=0)


@dataclass
class PlentySandbox:
    state: PlentyState
    config: PlentySandboxConfig
    recorder: Recorder
    faults: FaultInjector
    url: str

    def client(self, *, read_timeout: float = 10.0, **overrides: Any) -> PlentyClient:
        http = HttpConfig(retry=FAST_RETRY, read_timeout=read_timeout, connect_timeout=5.0)
        config = PlentyClientConfig(base_url=self.url, http=http, **overrides)
        return PlentyClient(PlentyCredentials(self.config.username, self.config.password), config)


def seeded_state(size: int = 1) -> PlentyState:
    state = PlentyState.minimal()
    state.load_catalog(generate(size, seed=7))
    return state


@contextmanager
def plenty_sandbox(
    config: PlentySandboxConfig | None = None, *, record_all: bool = False, state: PlentyState | None = None
) -> Iterator[PlentySandbox]:
    """``record_all=False`` puts the recorder inside the faults (only requests that reached the app
    are recorded: "was it applied, how often"); ``True`` puts it outside (every request sent,
    including the ones a fault answered: "how often did the client try")."""
    config = config or PlentySandboxConfig()
    state = state or seeded_state()
    app = create_plenty_app(state, config)
    recorder = Recorder()
    injector = FaultInjector()
    if record_all:
        wrapped: Any = RecordingMiddleware(
            FaultMiddleware(app, injector, system="plenty", tokens=state), recorder, system="plenty"
        )
    else:
        wrapped = FaultMiddleware(
            RecordingMiddleware(app, recorder, system="plenty"), injector, system="plenty", tokens=state
        )
    with serving(wrapped) as server:
        yield PlentySandbox(state, config, recorder, injector, server.url)
