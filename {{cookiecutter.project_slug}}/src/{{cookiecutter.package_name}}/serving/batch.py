"""Batch scoring: `python -m <package> predict --input FILE --output FILE.parquet`.

Reads the input in chunks (memory bounded by `serve.chunk_rows` or `--chunk-rows`), validates
each chunk against the schema the model was trained with (`data.validation.validate` with
`labels=False`: the target column may be absent), scores it through
`scoring.positive_scores` (the same preprocessing as training, evaluation and the service) and
writes the Parquet output atomically: on any error no output file appears. A schema mismatch
in the header is reported before any row is read. The output has one row per input row, in
order: the input's `id` columns (role `id` in the data config, those present in the input, as
validated: so results can be joined back; never model inputs), then the personal-data
columns with `pii: hash` present in the input, hashed exactly as `prepare` hashes them (the
key from the environment, see `data.pii`; refused without it), then the model's answer, by
task: binary `label` (the predicted class, positive when `score` >= the model's saved
threshold) and `score` (the probability of the positive class); multiclass `label` (the most
probable class) and `probability_<class>` per class; regression `prediction`. Columns with
`pii: drop` never reach the output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from .. import PACKAGE
from ..artifacts import paths
from ..errors import PipelineError, guarded
from ..model.batch import score_file
from ..model.files import load_model
from ..settings.params import load_params


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} predict", description=__doc__)
    parser.add_argument("--input", type=Path, required=True, help=".csv, .csv.gz or .parquet")
    parser.add_argument("--output", type=Path, required=True, help="the .parquet to write")
    parser.add_argument("--chunk-rows", type=int, default=None, help="rows per chunk")
    parser.add_argument("--model", type=Path, default=paths.MODEL_FILE, help="model file")
    parser.add_argument("--metadata", type=Path, default=paths.METADATA_FILE)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="dask: chunks scored in parallel on the train.dask cluster, written per chunk",
    )
    args = parser.parse_args(argv)

    def run() -> Any:
        params = load_params(args.params)
        chunk_rows = args.chunk_rows or params.serve.chunk_rows
        if chunk_rows < 1:
            raise PipelineError(f"--chunk-rows must be at least 1, got {chunk_rows}")
        model = load_model(args.model, args.metadata)
        if args.engine == "dask":
            from ..scaling.dask_batch import score_file_on_dask

            score = partial(score_file_on_dask, config=params.train.dask)
        else:
            score = score_file
        rows = score(
            model,
            args.input,
            args.output,
            threshold=model.threshold,
            chunk_rows=chunk_rows,
        )
        print(f"scored {rows} rows from {args.input} into {args.output}", file=sys.stderr)

    return guarded(run, "predict")


if __name__ == "__main__":
    sys.exit(main())
