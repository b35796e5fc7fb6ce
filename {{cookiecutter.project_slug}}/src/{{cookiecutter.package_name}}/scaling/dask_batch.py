"""`predict --engine dask`: batch scoring with chunks scored in parallel on a Dask cluster.

This process reads the input in chunks of `--chunk-rows` (as the local engine does) and sends
each to the cluster, at most two per worker thread at a time (memory stays bounded by the chunk
size); a worker validates and scores it with `model.batch.score_chunk` (the local engine's
code: same checks, same preprocessing, same columns) and sends back the scored columns, which
are written here as `part-NNNNN.parquet`, one file per chunk, numbered in input order, into the
`--output` folder (a Parquet dataset: `pandas.read_parquet(folder)` reads the rows in order).
The folder appears only when every chunk is scored. Workers need no shared file system.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from ..data.raw import iter_table, table_columns
from ..data.validation import check_columns
from ..errors import PipelineError
from ..model.batch import output_plan, score_chunk
from ..model.files import LoadedModel
from ..settings.params import DaskConfig, DataConfig
from ..text.progress import Progress
from .cluster import dask_client

log = logging.getLogger(__name__)


def part_name(index: int) -> str:
    """The file of chunk number `index` (zero-padded: names sort in input order)."""
    return f"part-{index:05d}.parquet"


def score_file_on_dask(
    model: LoadedModel,
    source: Path,
    target: Path,
    *,
    threshold: float | None,
    chunk_rows: int,
    config: DaskConfig,
    progress: bool | None = None,
) -> int:
    """Score every row of `source` into the folder `target`; return the number of rows.

    `progress` as `model.batch.score_file`'s: lines (or a bar) as chunks are written."""
    from distributed import wait

    if target.suffix.lower() != ".parquet":
        raise PipelineError(f"--output {target}: expected a .parquet (folder) name")
    if target.exists() and not target.is_dir():
        raise PipelineError(f"--output {target}: a file is there; the dask engine writes a folder")
    data = DataConfig.model_validate(model.metadata["params"]["data"])
    columns, total = table_columns(source, data)
    check_columns(columns, data, labels=False)
    schema, key = output_plan(columns, data, model.spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    rows = 0
    shown = progress is not False and (total is None or total > chunk_rows)
    bar = Progress("predict (dask)", total, "rows", log, bar=progress) if shown else None
    try:
        with dask_client(config) as client:
            shared_model = client.scatter(model, broadcast=True)
            window = 2 * max(1, sum(client.nthreads().values()))
            pending: dict[object, int] = {}

            def collect(futures: set[object]) -> None:
                for future in futures:
                    table = future.result()  # type: ignore[attr-defined]
                    pq.write_table(table, staging / part_name(pending.pop(future)))
                    if bar is not None:
                        bar.advance(table.num_rows)

            for index, chunk in enumerate(iter_table(source, data, chunk_rows)):
                future = client.submit(
                    score_chunk,
                    shared_model,
                    chunk,
                    schema,
                    threshold,
                    source,
                    rows + 1,
                    key,
                    pure=False,
                )
                pending[future] = index
                rows += len(chunk)
                if len(pending) >= window:
                    done, _ = wait(list(pending), return_when="FIRST_COMPLETED")
                    collect(set(done))
            collect(set(pending))
        if bar is not None:
            bar.close()
        if rows == 0:
            raise PipelineError(f"{source} has a header but no rows: nothing to score")
        _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows


def _replace_folder(staging: Path, target: Path) -> None:
    """Put `staging` at `target` (an old folder there is removed only after the swap)."""
    os.chmod(staging, 0o755)
    if not target.exists():
        staging.rename(target)
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
