"""Profile configuration as a file (TOML or JSON), for backups, reviews and moving a setup between
installations. The document holds the type, name, schedule and options; never credentials."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomli_w

from plentysync.engine.profiles import ProfileRecord, validate_config
from plentysync.engine.registry import ProfileConfig, ProfileRegistry
from plentysync.engine.schedule import Schedule, normalize_cron, zone
from plentysync.errors import ConfigError

FORMAT_VERSION = 1
Format = Literal["toml", "json"]


@dataclass(frozen=True)
class ScheduleSpec:
    cron_expr: str
    timezone: str
    enabled: bool


@dataclass(frozen=True)
class ProfileDocument:
    type_id: str
    name: str
    config: ProfileConfig
    schedule: ScheduleSpec | None


def export_document(record: ProfileRecord, schedule: Schedule | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "type_id": record.type_id,
        "name": record.name,
        "enabled": record.enabled,
    }
    if schedule is not None:
        doc["schedule"] = {
            "cron_expr": schedule.cron_expr,
            "timezone": schedule.timezone,
            "enabled": schedule.enabled,
        }
    doc["config"] = record.config
    return doc


def format_for(path: Path | None, explicit: str | None) -> Format:
    if explicit is not None:
        if explicit not in ("toml", "json"):
            raise ConfigError(f"unknown format {explicit!r}: use toml or json")
        return explicit  # type: ignore[return-value]
    if path is not None and path.suffix.lower() == ".json":
        return "json"
    return "toml"


def dumps(doc: dict[str, Any], fmt: Format, registry: ProfileRegistry | None = None) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, sort_keys=False) + "\n"
    cleaned = _drop_none(doc)
    profile_type = registry.find(doc["type_id"]) if registry is not None else None
    # TOML has no null: make sure leaving a None out restores the same configuration.
    restored = profile_type.config_model.model_validate(cleaned.get("config", {})) if profile_type else None
    if restored is not None and restored.model_dump(mode="json") != doc["config"]:
        raise ConfigError("this configuration has empty (null) values that TOML cannot express: export it as JSON")
    header = f"# plentysync profile configuration ({doc['type_id']})\n"
    return header + tomli_w.dumps(cleaned)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


def loads(text: str, fmt: Format, *, source: str = "input") -> dict[str, Any]:
    try:
        data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source} is not valid {fmt.upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a table/object at the top level")
    return data


def parse_document(data: dict[str, Any], registry: ProfileRegistry, *, source: str = "input") -> ProfileDocument:
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ConfigError(f"{source}: format_version {version} is not supported (expected {FORMAT_VERSION})")
    unknown = set(data) - {
        "format_version",
        "type_id",
        "name",
        "enabled",
        "schedule",
        "config",
    }
    if unknown:
        raise ConfigError(f"{source}: unknown keys {', '.join(sorted(unknown))}")
    type_id = data.get("type_id")
    if not isinstance(type_id, str):
        raise ConfigError(f"{source}: 'type_id' is missing")
    profile_type = registry.get(type_id)
    name = data.get("name") or profile_type.label
    if not isinstance(name, str):
        raise ConfigError(f"{source}: 'name' must be text")
    config_data = data.get("config", {})
    if not isinstance(config_data, dict):
        raise ConfigError(f"{source}: 'config' must be a table/object")
    config = validate_config(profile_type, config_data)
    schedule = None
    if (raw := data.get("schedule")) is not None:
        if not isinstance(raw, dict) or "cron_expr" not in raw:
            raise ConfigError(f"{source}: 'schedule' needs at least cron_expr")
        if extra := sorted(set(raw) - set(SCHEDULE_KEYS)):
            raise ConfigError(
                f"{source}: unknown key{'s' if len(extra) > 1 else ''} in 'schedule': {', '.join(extra)}"
                f" (known: {', '.join(SCHEDULE_KEYS)})"
            )
        cron_expr = raw["cron_expr"]
        if not isinstance(cron_expr, str):
            raise ConfigError(f"{source}: 'schedule.cron_expr' must be text (got {cron_expr!r})")
        tz = raw.get("timezone", "UTC")
        if not isinstance(tz, str):
            raise ConfigError(f"{source}: 'schedule.timezone' must be text (got {tz!r})")
        zone(tz)
        enabled = parse_bool(raw.get("enabled", True), "schedule.enabled", source=source)
        schedule = ScheduleSpec(normalize_cron(cron_expr), tz, enabled)
    return ProfileDocument(type_id=type_id, name=name, config=config, schedule=schedule)


SCHEDULE_KEYS = ("cron_expr", "timezone", "enabled")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def parse_bool(value: Any, key: str, *, source: str = "input") -> bool:
    """A boolean from a configuration file: true/false, or one of the strings true/false, yes/no,
    on/off, 1/0 (any case). Anything else (numbers, other text) is a :class:`ConfigError` naming the key."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ConfigError(f"{source}: '{key}' must be true or false (got {value!r})")
