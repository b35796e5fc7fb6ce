"""Progress of external-memory and Dask training: one line per round (at most one every few
seconds, and the last), with the round out of `model.n_estimators` and the time left.

An XGBoost callback that only reports: it changes no tree (the model's bytes are the same
with and without it). In an XGBoost collective (Dask) only the first member reports, on
stderr, which the Dask workers share with the command that started them.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import xgboost as xgb

from ..text.progress import Progress

log = logging.getLogger(__name__)


class RoundProgress(xgb.callback.TrainingCallback):
    """Reports each boosting round of at most `rounds` as `Progress` of `what`."""

    def __init__(self, what: str, rounds: int, interval_s: float = 5.0) -> None:
        super().__init__()
        self.what, self.rounds, self.interval_s = what, rounds, interval_s
        self.progress: Progress | None = None

    def before_training(self, model: Any) -> Any:
        if _first_member():
            self.progress = Progress(
                self.what, self.rounds, "rounds", log, self.interval_s, bar=False, emit=_stderr
            )
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if self.progress is not None:
            self.progress.advance(1)
        return False  # never stops training

    def after_training(self, model: Any) -> Any:
        progress = self.progress
        if progress is not None and progress.total is not None and progress.done < progress.total:
            _stderr(f"{progress.line()}; stopped early")
        return model


def _first_member() -> bool:
    from xgboost import collective

    return not collective.is_distributed() or collective.get_rank() == 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
