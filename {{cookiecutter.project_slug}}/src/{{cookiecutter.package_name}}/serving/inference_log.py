"""Optional log of the service's inputs and outputs in rotated local Parquet files.

Inputs go to `<directory>/<name>.parquet` with the raw feature columns and the data's `id`
columns as the requests gave them (null where a record had none), so a file is a batch that
the drift monitor reads like any incoming batch; the outputs of the same rows (the id columns,
time, score, label) go to `<directory>/outputs/<name>.parquet`, row for row, so results join
back to the records they scored. Names start
with the UTC time, so sorting them sorts by time. Rows are buffered and a file is written
(atomically) every `rotate_rows` rows and when the service stops; only the newest
`keep_files` files are kept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..artifacts.atomic import staged_outputs
from ..settings.params import InferenceLogConfig

OUTPUT_COLUMNS = ("time", "score", "label", "prediction")


class InferenceLog:
    """Buffers scored rows and writes them in files of `rotate_rows` rows."""

    def __init__(self, config: InferenceLogConfig) -> None:
        self.directory = Path(config.directory)
        self.rotate_rows = config.rotate_rows
        self.keep_files = config.keep_files
        self._inputs: list[pd.DataFrame] = []
        self._outputs: list[pd.DataFrame] = []
        self._rows = 0
        self._sequence = 0
        self._lock = threading.Lock()

    def append(
        self,
        inputs: pd.DataFrame,
        scores: np.ndarray,
        labels: list[str] | None,
        ids: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        """Add scored rows and their id values; write a file once `rotate_rows` are buffered.

        Classifiers: `score` (binary: of the positive class; multiclass: of the predicted
        class) and `label`; regression (`labels` None): `prediction`.
        """
        ids = dict(ids or {})
        answers: dict[str, Any] = {"time": pd.Timestamp.now(tz="UTC")}
        if labels is None:
            answers["prediction"] = scores
        else:
            answers |= {"score": scores, "label": labels}
        outputs = pd.DataFrame(
            {**{name: v for name, v in ids.items() if name not in OUTPUT_COLUMNS}, **answers}
        )
        inputs = inputs.reset_index(drop=True)
        if ids:
            inputs = inputs.assign(**{name: list(values) for name, values in ids.items()})
        with self._lock:
            self._inputs.append(inputs)
            self._outputs.append(outputs)
            self._rows += len(inputs)
            if self._rows >= self.rotate_rows:
                self._write()

    def flush(self) -> None:
        """Write whatever is buffered."""
        with self._lock:
            if self._rows:
                self._write()

    def _write(self) -> None:
        self._sequence += 1
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = f"{stamp}-{os.getpid()}-{self._sequence:06d}.parquet"
        inputs = pd.concat(self._inputs, ignore_index=True)
        outputs = pd.concat(self._outputs, ignore_index=True)
        with staged_outputs() as staged:
            inputs.to_parquet(staged.path(self.directory / name), index=False)
            outputs.to_parquet(staged.path(self.directory / "outputs" / name), index=False)
        self._inputs, self._outputs, self._rows = [], [], 0
        self._prune()

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*.parquet"))
        for old in files[: max(0, len(files) - self.keep_files)]:
            old.unlink(missing_ok=True)
            (self.directory / "outputs" / old.name).unlink(missing_ok=True)
