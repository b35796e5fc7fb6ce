"""Batch scoring of a file, chunk by chunk: the library behind the `predict` command.

Each chunk is validated against the schema the model was trained with
(`data.validation.validate` with `labels=False`), scored through `model.scoring` (the same
preprocessing as training, evaluation and the service), and written to Parquet atomically.
The output's columns are described in `serving/batch.py` (the command).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..artifacts.atomic import staged_outputs
from ..data.pii import hash_values, load_key
from ..data.raw import iter_table, table_columns
from ..data.validation import check_columns, validate
from ..errors import PipelineError
from ..settings.params import DataConfig
from ..text.progress import Progress
from .features import FeatureSpec
from .files import LoadedModel
from .scoring import decide, predictions

OUTPUT_COLUMNS = ("label", "score")  # binary's; see `output_columns`
log = logging.getLogger(__name__)
# Arrow types of id columns, by their declared dtype (categories are written as their levels).
ID_TYPES = {"int": pa.int64(), "float": pa.float64(), "datetime": pa.timestamp("ns")}


def output_columns(spec: FeatureSpec | None = None) -> tuple[str, ...]:
    """The model's answer columns, by task (binary's when no spec is given)."""
    if spec is None or spec.task == "binary":
        return OUTPUT_COLUMNS
    if spec.task == "multiclass":
        return ("label", *(f"probability_{c}" for c in spec.spelled(spec.classes)))
    return ("prediction",)


def id_columns(columns: list[str], data: DataConfig, spec: FeatureSpec | None = None) -> list[str]:
    """The id and hashed personal-data columns present in `columns`, carried to the output.

    Raise `PipelineError` if one has the name of an output.
    """
    ids = [name for name in [*data.id_columns, *data.hashed_columns] if name in columns]
    outputs = output_columns(spec)
    clash = [name for name in ids if name in outputs]
    if clash:
        raise PipelineError(
            f"id column(s) {clash} have the name of a batch-scoring output {list(outputs)}"
            "; rename the column in the data"
        )
    return ids


def output_schema(ids: list[str], data: DataConfig, spec: FeatureSpec | None = None) -> pa.Schema:
    """The output's columns: the id (and hashed) columns, then the task's answer."""

    def kind(name: str) -> pa.DataType:
        if name in data.hashed_columns:
            return pa.string()
        return ID_TYPES.get(data.columns[name].dtype, pa.string())

    answer = [
        (name, pa.string() if name == "label" else pa.float64()) for name in output_columns(spec)
    ]
    return pa.schema([(name, kind(name)) for name in ids] + answer)


def answer_columns(
    spec: FeatureSpec, outputs: np.ndarray, threshold: float | None
) -> dict[str, Any]:
    """The model's outputs as the task's answer columns (see `output_columns`)."""
    if spec.task == "regression":
        return {"prediction": outputs}
    labels = np.asarray(spec.spelled(decide(spec, outputs, threshold)), dtype=object)
    if spec.task == "binary":
        return {"label": labels, "score": outputs}
    names = output_columns(spec)[1:]
    return {"label": labels, **{n: outputs[:, i] for i, n in enumerate(names)}}


def score_file(
    model: LoadedModel,
    source: Path,
    target: Path,
    *,
    threshold: float | None,
    chunk_rows: int,
    progress: bool | None = None,
) -> int:
    """Score every row of `source` into `target` (Parquet); return the number of rows.

    `progress`: a bar on a terminal, else a log line per chunk (at most one every 5 s) when
    the file has more than one chunk or its size is unknown (CSV); False: none.
    """
    if target.suffix.lower() != ".parquet":
        raise PipelineError(f"--output {target}: expected a .parquet file name")
    data = DataConfig.model_validate(model.metadata["params"]["data"])
    columns, total = table_columns(source, data)
    check_columns(columns, data, labels=False)
    schema, key = output_plan(columns, data, model.spec)
    rows = 0
    shown = progress is not False and (total is None or total > chunk_rows)
    bar = Progress("predict", total, "rows", log, bar=progress) if shown else None
    with staged_outputs() as staged:
        with pq.ParquetWriter(staged.path(target), schema) as writer:
            for chunk in iter_table(source, data, chunk_rows):
                if chunk.empty:  # a header without rows is read as one empty chunk
                    continue
                writer.write_table(
                    score_chunk(model, chunk, schema, threshold, source, rows + 1, key)
                )
                rows += len(chunk)
                if bar is not None:
                    bar.advance(len(chunk))
        if bar is not None:
            bar.close()
        if rows == 0:
            raise PipelineError(f"{source} has a header but no rows: nothing to score")
    return rows


def output_plan(
    columns: list[str], data: DataConfig, spec: FeatureSpec
) -> tuple[pa.Schema, bytes | None]:
    """The output's schema and, when a carried column is hashed personal data, the key."""
    ids = id_columns(columns, data, spec)
    key = load_key() if any(name in data.hashed_columns for name in ids) else None
    return output_schema(ids, data, spec), key


def score_chunk(
    model: LoadedModel,
    chunk: Any,
    schema: pa.Schema,
    threshold: float | None,
    source: Path,
    first_row: int,
    key: bytes | None = None,
) -> pa.Table:
    """One chunk of raw rows validated and scored: the output columns of `schema`, in order.

    An error names `source` and the chunk's rows (`first_row` is the 1-based number of its
    first). Carried `pii: hash` columns are hashed with `key`.
    """
    data = DataConfig.model_validate(model.metadata["params"]["data"])
    try:
        checked = validate(chunk, data, labels=False)
    except PipelineError as exc:
        last_row = first_row + len(chunk) - 1
        raise PipelineError(f"{source}, rows {first_row}-{last_row}: {exc}") from None
    answer = answer_columns(model.spec, predictions(model, checked), threshold)
    carried = {
        name: _arrow_values(
            hash_values(checked[name], key)
            if key is not None and name in data.hashed_columns
            else checked[name],
            schema.field(name).type,
        )
        for name in schema.names
        if name not in answer
    }
    return pa.table({**carried, **answer}, schema=schema)


def _arrow_values(values: Any, kind: pa.DataType) -> pa.Array:
    if kind == pa.string():
        values = values.astype("string")
    return pa.Array.from_pandas(values, type=kind)
