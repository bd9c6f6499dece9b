"""Test doubles and fluent builders: profile types with a scripted in-memory remote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.engine.pipeline import Batch, Collect, Pipeline, Process, Request, Result, RunContext
from plentysync.engine.registry import ProfileConfig, ProfileRegistry, ProfileType
from plentysync.engine.services import Engine
from plentysync.engine.stages import collect_from_queue, estimate_queue, finish_queue_rows
from plentysync.settings import Settings


class SimpleConfig(ProfileConfig):
    """All options have defaults: a new profile is Configured at once."""

    label_prefix: str = "item"


class NeedsWarehouseConfig(ProfileConfig):
    """A required option: a new profile is only Created until it is configured."""

    main_warehouse_id: int = Field(gt=0)


@dataclass
class ScriptedRemote:
    """A pretend API. Records every call; per key it can reject or fail temporarily; per call number
    it can raise an exception for the whole batch."""

    calls: list[list[str]] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)
    reject: set[str] = field(default_factory=set)
    flaky: set[str] = field(default_factory=set)
    raise_on_call: dict[int, BaseException] = field(default_factory=dict)
    omit: set[str] = field(default_factory=set)

    def send(self, requests: Sequence[Request]) -> list[Result]:
        self.calls.append([r.key for r in requests])
        exc = self.raise_on_call.get(len(self.calls))
        if exc is not None:
            raise exc
        results = []
        for request in reversed(requests):  # answers come back in another order than asked
            if request.key in self.omit:
                continue
            if request.key in self.reject:
                results.append(Result.error(request.key, "rejected"))
            elif request.key in self.flaky:
                self.flaky.discard(request.key)
                results.append(Result.retry(request.key, "timeout"))
            else:
                self.stored[request.key] = request.payload
                results.append(Result.success(request.key, "stored"))
        return results


class ProfileTypeBuilder:
    def __init__(self, type_id: str = "plenty_test_export") -> None:
        self.type_id = type_id
        self.remote = ScriptedRemote()
        self.config_model: type[ProfileConfig] = SimpleConfig
        self.unmappable: set[str] = set()
        self.max_attempts: int | None = None
        self.post: tuple[Any, ...] = (finish_queue_rows,)
        self.collect: Collect = collect_from_queue
        self.process: Process | None = None

    def with_config(self, model: type[ProfileConfig]) -> ProfileTypeBuilder:
        self.config_model = model
        return self

    def rejecting(self, *keys: str) -> ProfileTypeBuilder:
        self.remote.reject.update(keys)
        return self

    def flaky(self, *keys: str) -> ProfileTypeBuilder:
        self.remote.flaky.update(keys)
        return self

    def unmappable_keys(self, *keys: str) -> ProfileTypeBuilder:
        self.unmappable.update(keys)
        return self

    def raising(self, exc: BaseException, *, on_call: int = 1) -> ProfileTypeBuilder:
        self.remote.raise_on_call[on_call] = exc
        return self

    def forgetting(self, *keys: str) -> ProfileTypeBuilder:
        """The remote returns no result for these keys."""
        self.remote.omit.update(keys)
        return self

    def collecting_with(self, collect: Collect) -> ProfileTypeBuilder:
        self.collect = collect
        return self

    def processing_with(self, process: Process) -> ProfileTypeBuilder:
        """Replace the scripted remote by a stage of the test's own."""
        self.process = process
        return self

    def without_post_processing(self) -> ProfileTypeBuilder:
        self.post = ()
        return self

    def build(self) -> ProfileType:
        remote, unmappable = self.remote, self.unmappable

        def generate(batch: Batch, ctx: RunContext) -> list[Request | Result]:
            out: list[Request | Result] = []
            for key in batch.keys:
                if key in unmappable:
                    out.append(Result.error(key, "no mapping for this key"))
                else:
                    out.append(Request(key, {"key": key}, operation="test.write"))
            return out

        async def send(requests: Sequence[Request], ctx: RunContext) -> list[Result]:
            return remote.send(requests)

        return ProfileType(
            type_id=self.type_id,
            entity="test",
            direction="export",
            label="Test Export",
            config_model=self.config_model,
            pipeline=Pipeline(
                collect=self.collect,
                generate=generate,
                process=self.process or send,
                post_process=self.post,
                estimate=estimate_queue,
            ),
            max_attempts=self.max_attempts,
        )


def make_engine(db: Database, *types: ProfileType, clock: Clock | None = None, **settings: Any) -> Engine:
    registry = ProfileRegistry()
    for profile_type in types:
        registry.register(profile_type)
    return Engine.build(db, registry, Settings(**settings), clock=clock)
