"""Example request bodies from the configured data: `python -m <package> example [--rows N]`.

Prints `{"records": [...]}` with the first N rows of `data.path` that have every feature
(feature columns only, values as read from the file), ready for the service's `/predict`:
`curl ... -d "$(uv run python -m <package> example)"`. Built from the data config, so it
fits whatever data the project uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import PACKAGE
from ..errors import PipelineError, guarded
from ..settings.params import DataConfig, load_params
from .raw import iter_table

SCAN_ROWS = 10_000


def example_records(data: DataConfig, rows: int = 1) -> list[dict[str, Any]]:
    """The first `rows` rows of `data.path` with no missing feature, as feature -> value."""
    features = data.feature_columns
    chunk = next(iter_table(data.path, data, SCAN_ROWS), None)
    if chunk is None or len(chunk) == 0:
        raise PipelineError(f"{data.path} has no rows to take an example from")
    absent = [name for name in features if name not in chunk.columns]
    if absent:
        raise PipelineError(f"{data.path} lacks feature column(s) {absent} (data.columns)")
    table = chunk[features]
    complete = table[table.notna().all(axis=1)]
    chosen = (complete if len(complete) else table).head(rows)
    return json.loads(chosen.to_json(orient="records", double_precision=15))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} example", description=__doc__)
    parser.add_argument("--rows", type=int, default=1, help="how many records (default 1)")
    args = parser.parse_args(argv)

    def run() -> None:
        if args.rows < 1:
            raise PipelineError(f"--rows must be at least 1, got {args.rows}")
        records = example_records(load_params().data, args.rows)
        print(json.dumps({"records": records}, ensure_ascii=False))

    return guarded(run, "example")


if __name__ == "__main__":
    sys.exit(main())
