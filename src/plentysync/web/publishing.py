"""A guard around the injected broker publisher: a publisher that raises or hangs must not turn an
accepted webhook (rows already committed) into an error answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from plentysync.log import get_logger
from plentysync.runtime.urgent import Publisher

log = get_logger(__name__)


class SafePublisher:
    """Delegates to ``inner``; an exception or a publish slower than ``timeout`` counts as not
    published (False), as the :class:`~plentysync.runtime.urgent.Publisher` contract asks."""

    def __init__(self, inner: Publisher, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout

    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await self.inner.publish(profile_type, keys, reason=reason))
        except TimeoutError:
            log.warning("web.publish_timeout", profile=profile_type, timeout=self.timeout)
        except Exception as exc:
            log.warning("web.publish_error", profile=profile_type, error=type(exc).__name__)
        return False

    async def healthy(self) -> bool | None:
        """The inner publisher's ``async healthy()`` answer, None when it has no such method."""
        probe = getattr(self.inner, "healthy", None)
        if probe is None or not callable(probe):
            return None
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await probe())
        except Exception as exc:  # a failing probe is an unhealthy broker, not a failing request
            log.warning("web.broker_probe_error", error=type(exc).__name__)
            return False
