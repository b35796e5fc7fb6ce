"""One line per finished tuning trial: its number out of the total, the best so far, time left."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..text.progress import duration


def short(value: Any) -> str:
    """A value for a log line: floats to 4 significant digits, anything else as it is."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{key}={short(item)}" for key, item in value.items())
    return str(value)


@dataclass
class TrialProgress:
    """Counts finished trials of this run against `total` and estimates the time left."""

    total: int
    metric: str
    maximise: bool
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    best: tuple[float, int] | None = None

    def line(self, number: int, state: str, value: float | None, now: float | None = None) -> str:
        """The line for trial `number` (optuna's, from 0) that ended in `state` with `value`."""
        self.done += 1
        if value is not None and state == "complete":
            better = self.best is None or (
                value > self.best[0] if self.maximise else value < self.best[0]
            )
            if better:
                self.best = (value, number)
        elapsed = (now if now is not None else time.monotonic()) - self.started
        left = elapsed / self.done * max(self.total - self.done, 0)
        outcome = state if value is None else f"{state}, {self.metric} {short(value)}"
        best = "none yet" if self.best is None else f"{short(self.best[0])} (trial {self.best[1]})"
        return (
            f"tune: trial {self.done}/{self.total} (#{number}) {outcome}; best {best}; "
            f"{duration(elapsed)} elapsed, about {duration(left)} left"
        )
