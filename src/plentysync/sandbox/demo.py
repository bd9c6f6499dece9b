"""The sandbox demo profile: a complete export pipeline against a simulated remote that lives in a
JSON file, so the engine can be watched end to end (queue, claims, batching, identity links,
skip-if-unchanged, errors and retries, history) before any real profile is configured.

It shows nothing Magento- or PlentyONE-specific; the stock profile replaces it as the main demo.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import Field

from plentysync.engine.links import Link, content_hash
from plentysync.engine.pipeline import Batch, Pipeline, Request, Result, RunContext
from plentysync.engine.registry import ProfileConfig, ProfileType
from plentysync.engine.stages import collect_from_queue, estimate_queue, finish_queue_rows
from plentysync.errors import FatalError
from plentysync.settings import Settings

DEMO_TYPE_ID = "sandbox_demo_export"
DEMO_ENTITY = "demo"


class DemoConfig(ProfileConfig):
    reject_keys: list[str] = Field(default_factory=list)
    """Keys the simulated remote rejects with a validation error (shows a permanent error)."""
    flaky_keys: list[str] = Field(default_factory=list)
    """Keys whose first write fails with a temporary error (shows a retry)."""


class DemoRemote:
    """A pretend remote system: records keyed by entity key, one file, one "API call" per batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"next_id": 1, "calls": 0, "records": {}, "failed_once": []}
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    async def upsert_many(
        self, payloads: dict[str, dict[str, Any]], *, reject: set[str], flaky: set[str]
    ) -> dict[str, tuple[str, int | str]]:
        """Write records in one call. Per key: ("created" | "updated", remote id) or ("rejected" |
        "unavailable", reason)."""
        async with self._lock:
            data = self._load()
            data["calls"] += 1
            outcome: dict[str, tuple[str, int | str]] = {}
            for key, payload in payloads.items():
                if key in reject:
                    outcome[key] = ("rejected", "quantity must be zero or more (demo validation rule)")
                    continue
                if key in flaky and key not in data["failed_once"]:
                    data["failed_once"].append(key)
                    outcome[key] = ("unavailable", "the remote timed out (demo: fails once, then works)")
                    continue
                record = data["records"].get(key)
                if record is None:
                    record = {"id": data["next_id"]}
                    data["next_id"] += 1
                    outcome[key] = ("created", record["id"])
                else:
                    outcome[key] = ("updated", record["id"])
                record["payload"] = payload
                data["records"][key] = record
            self._save(data)
            return outcome

    def snapshot(self) -> dict[str, Any]:
        return self._load()


def demo_quantity(key: str) -> int:
    """A stable pseudo quantity per key, so repeated runs see unchanged records."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % 100


async def collect(ctx: RunContext) -> AsyncIterator[Batch]:
    async for batch in collect_from_queue(ctx):
        links = await ctx.links.resolve(DEMO_ENTITY, batch.keys)
        for item in batch.items:
            item.data = links.get(item.key)
        yield batch


def generate(batch: Batch, ctx: RunContext) -> list[Request | Result]:
    out: list[Request | Result] = []
    for item in batch.items:
        payload = {"sku": item.key, "name": f"Demo product {item.key}", "qty": demo_quantity(item.key)}
        link: Link | None = item.data
        if link is not None and link.source_hash == content_hash(payload):
            out.append(Result.skipped(item.key, f"up to date (remote id {link.plenty_key}), nothing sent"))
        else:
            out.append(Request(item.key, payload, operation="demo.upsert"))
    return out


async def process(requests: Sequence[Request], ctx: RunContext) -> list[Result]:
    remote = ctx.extras.get("demo_remote")
    if not isinstance(remote, DemoRemote):
        raise FatalError("the demo remote is not set up")
    config = ctx.config
    assert isinstance(config, DemoConfig)
    payloads = {request.key: request.payload for request in requests}
    answers = await remote.upsert_many(payloads, reject=set(config.reject_keys), flaky=set(config.flaky_keys))
    results = []
    for key, (verdict, value) in answers.items():
        if verdict == "rejected":
            results.append(Result.error(key, f"rejected by the remote: {value}"))
        elif verdict == "unavailable":
            results.append(Result.retry(key, str(value)))
        else:
            results.append(
                Result.success(key, f"{verdict} remote record {value}", data={"remote_id": value, **payloads[key]})
            )
    return results


async def save_links(batch: Batch, results: Sequence[Result], ctx: RunContext) -> None:
    """Post-processing: remember remote ids and what was sent (step before the queue status)."""
    links = [
        Link(
            DEMO_ENTITY,
            result.key,
            str(result.data["remote_id"]),
            source_hash=content_hash({k: v for k, v in result.data.items() if k != "remote_id"}),
        )
        for result in results
        if result.status == "success" and result.data
    ]
    await ctx.links.upsert(links)


def demo_remote_path(settings: Settings) -> Path:
    return settings.data_dir / "sandbox" / "demo-remote.json"


@asynccontextmanager
async def open_resources(ctx: RunContext, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    yield {"demo_remote": DemoRemote(demo_remote_path(settings))}


DEMO_TYPE = ProfileType(
    type_id=DEMO_TYPE_ID,
    entity=DEMO_ENTITY,
    direction="export",
    label="Sandbox Demo Export",
    description="Exports demo records to a simulated remote (a JSON file) to show the engine at work.",
    config_model=DemoConfig,
    pipeline=Pipeline(
        collect=collect,
        generate=generate,
        process=process,
        post_process=(save_links, finish_queue_rows),
        estimate=estimate_queue,
    ),
    open_resources=open_resources,
)
