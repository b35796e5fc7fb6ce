"""Reading raw tabular files (CSV, gzipped CSV, Parquet) with clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from ..errors import PipelineError
from ..settings.params import DataConfig

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")


def read_table(path: str | Path, data: DataConfig) -> pd.DataFrame:
    """Read a raw file; category columns are read as text, the rest is inferred."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(
            f"input file {path} not found (data.path). Check the path, or `dvc pull` it."
        )
    if path.stat().st_size == 0:
        raise PipelineError(f"input file {path} is empty (0 bytes): expected a header and rows")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
        elif name.endswith(CSV_SUFFIXES):
            frame = pd.read_csv(
                path,
                sep=data.separator,
                thousands=data.thousands,
                dtype=text_columns(data),
                na_values=marker_values(data),
                low_memory=False,
            )
        else:
            raise PipelineError(
                f"input file {path}: unsupported format; expected .csv, .csv.gz or .parquet"
            )
    except pd.errors.EmptyDataError:
        raise PipelineError(f"input file {path} has no header and no rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None
    if frame.shape[1] <= 1 and len(data.columns) > 1 and name.endswith(CSV_SUFFIXES):
        raise PipelineError(
            f"input file {path}: found one column {list(frame.columns)[:1]}; is the "
            f"separator right? (data.separator is {data.separator!r})"
        )
    return frame


def table_columns(path: str | Path, data: DataConfig) -> tuple[list[str], int | None]:
    """The column names of a raw file and its row count when known (Parquet), read cheaply."""
    path = _existing(path)
    try:
        if path.name.lower().endswith(".parquet"):
            metadata = pq.ParquetFile(path).metadata
            return list(metadata.schema.to_arrow_schema().names), metadata.num_rows
        if path.name.lower().endswith(CSV_SUFFIXES):
            header = pd.read_csv(path, sep=data.separator, nrows=0)
            return [str(c) for c in header.columns], None
    except pd.errors.EmptyDataError:
        raise PipelineError(f"input file {path} has no header and no rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None
    raise PipelineError(
        f"input file {path}: unsupported format; expected .csv, .csv.gz or .parquet"
    )


def iter_table(path: str | Path, data: DataConfig, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Read a raw file in chunks of at most `chunk_rows` rows (memory bounded by the chunk)."""
    path = _existing(path)
    try:
        if path.name.lower().endswith(".parquet"):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        with pd.read_csv(
            path,
            sep=data.separator,
            thousands=data.thousands,
            dtype=text_columns(data),
            na_values=marker_values(data),
            chunksize=chunk_rows,
            low_memory=False,
        ) as reader:
            yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None


def text_columns(data: DataConfig) -> dict[str, str]:
    """Columns read as text whatever they look like: category levels, identifiers."""
    return {c: "string" for c, s in data.columns.items() if s.dtype in ("category", "string")}


def marker_values(data: DataConfig) -> dict[str, list[str]]:
    """Per column, the text missing-value markers: read as missing (as are pandas' defaults)."""
    return {
        name: [m for m in spec.missing_values if isinstance(m, str)]
        for name, spec in data.columns.items()
        if any(isinstance(m, str) for m in spec.missing_values)
    }


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"input file {path} not found")
    if path.stat().st_size == 0:
        raise PipelineError(f"input file {path} is empty (0 bytes): expected a header and rows")
    return path
