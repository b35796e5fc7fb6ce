"""Rejected requests in the log: one WARNING line each, no traceback, at a bounded rate.

Rejections get their own line (status, reason, field, request id) while a token bucket allows:
`burst` lines at once, refilled at `lines_per_second`. Past that, rejections are counted and
one summary line per second says how many were left out, by reason (written when the next
rejection after that second arrives). A flood of bad requests therefore writes about
`lines_per_second + 1` lines a second after its first `burst` lines, however long it lasts
(a 100,000-request soak with 10% bad requests: well under 1 MB of log).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from .request_body import RejectionError

log = logging.getLogger(__name__)


class RejectionLog:
    """Logs rejections one line each within a token bucket, then one summary a second."""

    def __init__(
        self,
        lines_per_second: float = 1.0,
        burst: int = 10,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.lines_per_second = lines_per_second
        self.burst = burst
        self._clock = clock
        self._log = logger
        # BentoML's logging configuration (`disable_existing_loggers`) disables the loggers
        # that exist when it runs, this one included when the service module came first.
        logger.disabled = False
        self._second = 0
        self._tokens = float(burst)
        self._last: float | None = None
        self._left_out: Counter[str] = Counter()

    def record(self, rejection: RejectionError, request_id: str) -> None:
        now = self._clock()
        second = int(now)
        if second != self._second:
            self._summarise()
            self._second = second
        if self._last is not None:
            refill = (now - self._last) * self.lines_per_second
            self._tokens = min(float(self.burst), self._tokens + refill)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            self._log.warning(
                "rejected request %s: %d %s, field %s: %s",
                request_id,
                rejection.status,
                rejection.reason,
                rejection.field,
                rejection.message,
            )
        else:
            self._left_out[rejection.reason] += 1

    def _summarise(self) -> None:
        if not self._left_out:
            return
        total = sum(self._left_out.values())
        by_reason = ", ".join(f"{reason} {n}" for reason, n in sorted(self._left_out.items()))
        self._log.warning(
            "%d more rejected requests not logged one by one in that second (%s)",
            total,
            by_reason,
        )
        self._left_out.clear()
