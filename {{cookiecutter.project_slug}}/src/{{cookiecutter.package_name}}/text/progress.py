"""Progress of long work (batch scoring, training rounds, reading a large file), as tuning's.

On a terminal, a bar (tqdm, on stderr); otherwise one log line per step (at most one every
`interval_s`, and always the last): what is done out of the total, the time elapsed and the
time left. Numbers are rounded for reading: counts with thousands separators, times in
seconds or minutes.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s` or `1 h 02 min`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


@dataclass
class Progress:
    """Counts `done` of `total` `unit` (total None: unknown, no time left) for `what`."""

    what: str
    total: int | None
    unit: str
    log: logging.Logger
    interval_s: float = 5.0
    bar: bool | None = None  # None: a bar when stdout is a terminal
    emit: Callable[[str], None] | None = None  # where lines go; `log.info` when None
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    _last_line: float | None = None
    _shown: int = 0  # `done` when the last line was logged
    _bar: Any = None

    def __post_init__(self) -> None:
        terminal = sys.stdout.isatty() if self.bar is None else self.bar
        if terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, unit=f" {self.unit}", desc=self.what)

    def advance(self, steps: int, now: float | None = None) -> None:
        """`steps` more done: the bar moves, or a line is logged when one is due."""
        self.done += steps
        if self._bar is not None:
            self._bar.update(steps)
            return
        now = time.monotonic() if now is None else now
        last = self.total is not None and self.done >= self.total
        if last or self._last_line is None or now - self._last_line >= self.interval_s:
            self._emit(now)

    def _emit(self, now: float | None = None) -> None:
        self._last_line = time.monotonic() if now is None else now
        self._shown = self.done
        (self.emit or self.log.info)(self.line(now))

    def line(self, now: float | None = None) -> str:
        """`what: 400,000/1,000,000 rows (40%); 4 s elapsed, about 6 s left`."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        if self.total is None:
            return f"{self.what}: {self.done:,} {self.unit}; {duration(elapsed)} elapsed"
        share = self.done / self.total if self.total else 1.0
        left = elapsed / self.done * max(self.total - self.done, 0) if self.done else 0.0
        return (
            f"{self.what}: {self.done:,}/{self.total:,} {self.unit} ({share:.0%}); "
            f"{duration(elapsed)} elapsed, about {duration(left)} left"
        )

    def close(self, now: float | None = None) -> None:
        """Close the bar, or log the last line if the last step's was not logged."""
        if self._bar is not None:
            self._bar.close()
        elif self.done and self._shown != self.done:
            self._emit(now)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
