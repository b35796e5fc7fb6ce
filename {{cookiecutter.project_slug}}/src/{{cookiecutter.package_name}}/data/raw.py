"""Reading raw tabular files (CSV, gzipped CSV, Parquet) with clear errors."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..errors import PipelineError
from ..settings.params import DataConfig

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
SHOWN_HEADER_CHARS = 100
# Bytes that are not UTF-8, as Python's `surrogateescape` error handler decodes them.
UNDECODED = re.compile("[\udc80-\udcff]")


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
            frame = frame.rename(columns=stripped_names(frame.columns))
        elif name.endswith(CSV_SUFFIXES):
            written = header_spellings(path, data.separator)
            frame = pd.read_csv(
                path,
                sep=data.separator,
                thousands=data.thousands,
                dtype=as_written(text_columns(data), written),
                na_values=as_written(marker_values(data), written),
                skipinitialspace=True,
                low_memory=False,
            )
            frame = frame.rename(columns=stripped_names(frame.columns))
        else:
            raise PipelineError(
                f"input file {path}: unsupported format; expected .csv, .csv.gz or .parquet"
            )
    except pd.errors.EmptyDataError:
        raise PipelineError(f"input file {path} has no header and no rows") from None
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None
    if name.endswith(CSV_SUFFIXES):
        check_separator(path, [str(c) for c in frame.columns], data)
    return frame


def table_columns(path: str | Path, data: DataConfig) -> tuple[list[str], int | None]:
    """The column names of a raw file and its row count when known (Parquet), read cheaply."""
    path = _existing(path)
    try:
        if path.name.lower().endswith(".parquet"):
            metadata = pq.ParquetFile(path).metadata
            names = metadata.schema.to_arrow_schema().names
            return [str(n).strip() for n in names], metadata.num_rows
        if path.name.lower().endswith(CSV_SUFFIXES):
            header = pd.read_csv(path, sep=data.separator, nrows=0, skipinitialspace=True)
            columns = [str(c).strip() for c in header.columns]
            check_separator(path, columns, data)
            return columns, None
    except pd.errors.EmptyDataError:
        raise PipelineError(f"input file {path} has no header and no rows") from None
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None
    raise PipelineError(
        f"input file {path}: unsupported format; expected .csv, .csv.gz or .parquet"
    )


def iter_table(path: str | Path, data: DataConfig, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Read a raw file in chunks of at most `chunk_rows` rows (memory bounded by the chunk)."""
    path = _existing(path)
    try:
        if path.name.lower().endswith(".parquet"):
            start = 0
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                chunk = batch.to_pandas()
                chunk = chunk.rename(columns=stripped_names(chunk.columns))
                # Row labels count through the file, as the CSV reader's do: messages name rows.
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield chunk
            return
        written = header_spellings(path, data.separator)
        with pd.read_csv(
            path,
            sep=data.separator,
            thousands=data.thousands,
            dtype=as_written(text_columns(data), written),
            na_values=as_written(marker_values(data), written),
            skipinitialspace=True,
            chunksize=chunk_rows,
            low_memory=False,
        ) as reader:
            for chunk in reader:
                yield chunk.rename(columns=stripped_names(chunk.columns))
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise PipelineError(f"input file {path} could not be parsed: {exc}") from None


def check_separator(path: Path, columns: list[str], data: DataConfig) -> None:
    """Raise `PipelineError` if a CSV header is one column where the schema declares more.

    Names the separator that splits the header into the declared columns, if one does.
    """
    if len(columns) != 1 or len(data.columns) <= 1:
        return
    header = columns[0]
    shown = header if len(header) <= SHOWN_HEADER_CHARS else header[:SHOWN_HEADER_CHARS] + "..."
    declared = set(data.columns)
    fits = {sep: len(declared.intersection(header.split(sep))) for sep in SEPARATORS}
    best = max(fits, key=lambda sep: fits[sep])
    hint = (
        f"the header looks separated by {SEPARATORS[best]} ({best!r}): set data.separator to "
        f"{best!r} in conf/data/, or save the file with {data.separator!r}"
        if best != data.separator and fits[best] > 1
        else "is the separator right?"
    )
    raise PipelineError(
        f"input file {path}: found one column '{shown}' with data.separator "
        f"{data.separator!r}; {hint}"
    )


def _not_utf8(path: Path, data: DataConfig) -> PipelineError:
    """The error for a CSV file that is not UTF-8, naming the first row and column it fails at."""
    where = _first_undecodable(path, data.separator)
    return PipelineError(
        f"input file {path}: {where or 'it holds bytes that are not valid UTF-8'}; save the "
        "file as UTF-8 (it may be Latin-1 or Windows-1252)"
    )


def _first_undecodable(path: Path, separator: str) -> str | None:
    """Where the first byte that is not UTF-8 is: 'row N, column 'C': byte 0x.. is not ...'."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
        header: list[str] = []
        for number, fields in enumerate(csv.reader(text, delimiter=separator)):
            if UNDECODED.search(separator.join(fields)):
                position, found = next(
                    (i, match)
                    for i, field in enumerate(fields)
                    if (match := UNDECODED.search(field)) is not None
                )
                byte = f"byte 0x{ord(found.group()) - 0xDC00:02x} is not valid UTF-8"
                if number == 0:
                    return f"the header, column {position + 1}: {byte}"
                column = header[position] if position < len(header) else f"{position + 1}"
                return f"row {number}, column '{column}': {byte}"
            if number == 0:
                header = fields
    return None


def header_spellings(path: Path, separator: str) -> dict[str, str]:
    """A CSV header's names as configured (stripped of surrounding spaces) -> as written.

    Headers such as `age, workclass` (a space after each separator) or `name ` are read under
    their stripped names: the config, the service and the reports never see the spaces.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle, delimiter=separator), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}  # the reader itself reports what is wrong with the file
    return {name.strip(): name.lstrip() for name in header}


def as_written(by_name: dict[str, Any], written: dict[str, str]) -> dict[str, Any]:
    """`by_name` (keyed by configured names) keyed by the header's spelling of each name."""
    return {written.get(name, name): value for name, value in by_name.items()}


def stripped_names(columns: Iterable[object]) -> dict[object, str]:
    """Renames of header names with surrounding spaces to their stripped spelling."""
    return {c: str(c).strip() for c in columns if isinstance(c, str) and c != c.strip()}


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
