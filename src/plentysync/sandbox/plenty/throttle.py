"""Fixed-window throttling with the ``X-Plenty-Global-*`` headers (notes §3).

Short windows count per access token and kind (read = GET, write = everything else), long windows
per system and kind. A window starts at the first call after the previous one ended. ``Decay`` is
rounded up, so a client that sleeps ``Decay`` seconds never arrives before the reset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from plentysync.sandbox.plenty.config import PlentySandboxConfig
from plentysync.sandbox.plenty.errors import ApiError

Kind = Literal["read", "write"]
PREFIX = "X-Plenty-Global-"


@dataclass
class Window:
    start: float
    count: int = 0


class Throttle:
    def __init__(self, config: PlentySandboxConfig) -> None:
        self.config = config
        self.short: dict[tuple[str, Kind], Window] = {}
        self.long: dict[Kind, Window] = {}

    def _limits(self, kind: Kind) -> tuple[int, int]:
        if kind == "read":
            return self.config.read_limit, self.config.long_read_limit
        return self.config.write_limit, self.config.long_write_limit

    @staticmethod
    def _current(window: Window | None, now: float, length: float) -> Window:
        if window is None or now >= window.start + length:
            return Window(now)
        return window

    def hit(self, token: str, kind: Kind, now: float) -> dict[str, str]:
        """Count one call; return the headers, or raise the 429 (not counted) when a window is spent."""
        short_limit, long_limit = self._limits(kind)
        short = self.short[(token, kind)] = self._current(
            self.short.get((token, kind)), now, self.config.window_seconds
        )
        long = self.long[kind] = self._current(self.long.get(kind), now, self.config.long_window_seconds)
        short_end = short.start + self.config.window_seconds
        long_end = long.start + self.config.long_window_seconds
        spent: list[tuple[str, float]] = []
        if short.count >= short_limit:
            spent.append(("short", short_end))
        if long.count >= long_limit:
            spent.append(("long", long_end))
        if spent:
            headers = self._headers(short_limit, short, short_end, long_limit, long, long_end, now)
            period, reset_at = max(spent, key=lambda s: s[1])
            headers["Retry-After"] = str(max(1, math.ceil(reset_at - now)))
            label = "Short" if period == "short" else "Long"
            headers[f"{PREFIX}{label}-Period-Calls-Reset"] = str(math.ceil(reset_at))
            # The message text is what real clients match; the envelope around it is the notes' best guess (§3.3).
            body = {"error": {"message": f"{period} period {kind} limit reached", "code": 429}}
            raise ApiError(429, body, headers)
        short.count += 1
        long.count += 1
        return self._headers(short_limit, short, short_end, long_limit, long, long_end, now)

    @staticmethod
    def _headers(
        short_limit: int, short: Window, short_end: float, long_limit: int, long: Window, long_end: float, now: float
    ) -> dict[str, str]:
        return {
            f"{PREFIX}Short-Period-Limit": str(short_limit),
            f"{PREFIX}Short-Period-Calls-Left": str(max(0, short_limit - short.count)),
            f"{PREFIX}Short-Period-Decay": str(max(1, math.ceil(short_end - now))),
            f"{PREFIX}Long-Period-Limit": str(long_limit),
            f"{PREFIX}Long-Period-Calls-Left": str(max(0, long_limit - long.count)),
            f"{PREFIX}Long-Period-Decay": str(max(1, math.ceil(long_end - now))),
        }
