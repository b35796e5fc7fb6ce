"""Validation and cleaning of raw data against the schema declared in `conf/data/`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..errors import PipelineError
from ..settings.params import ColumnSpec, DataConfig, normalise_category
from . import dates

MAX_EXAMPLES = 3


@dataclass
class CleaningReport:
    """What cleaning did to the rows."""

    rows_in: int
    rows_out: int = 0
    duplicates_dropped: int = 0
    rows_dropped_missing: int = 0
    values_filled: dict[str, int] = field(default_factory=dict)


def clean(
    raw: pd.DataFrame, data: DataConfig, *, labels: bool = True
) -> tuple[pd.DataFrame, CleaningReport]:
    """Validate `raw` against the schema and return the cleaned frame.

    Steps: structure (columns present, none unexpected, none all-null), spelling of categories,
    missing-value markers, types/ranges/levels/nullability (pandera, all problems at once),
    the missing-value policy per column, exact duplicates, and the minimum row count.
    Raises `PipelineError` listing every problem with its column and example rows.
    With `labels=False` (new data to monitor), the target and non-feature columns may be absent.
    """
    report = CleaningReport(rows_in=len(raw))
    frame = validate(raw, data, labels=labels)
    frame = _apply_missing_policy(frame, data, report)
    if data.drop_duplicates:
        duplicated = frame.duplicated(keep="first")
        report.duplicates_dropped = int(duplicated.sum())
        frame = frame.loc[~duplicated]
    if len(frame) < data.min_rows:
        raise PipelineError(
            f"only {len(frame)} rows left after cleaning ({report.rows_in} read); "
            f"data.min_rows requires at least {data.min_rows}"
        )
    for name in frame.columns:
        spec = data.columns[name]
        if spec.dtype == "category":
            frame[name] = pd.Categorical(frame[name], categories=spec.categories)
    report.rows_out = len(frame)
    return frame.reset_index(drop=True), report


def validate(raw: pd.DataFrame, data: DataConfig, *, labels: bool = True) -> pd.DataFrame:
    """Check structure, normalise spelling and markers, validate types/ranges/levels.

    With `labels=False` (batch scoring) the target and the non-feature columns may be absent,
    and a column may be entirely missing in a batch. No row is dropped or reordered.
    Raises `PipelineError` listing every problem with its column and example rows.
    """
    check_columns([str(c) for c in raw.columns], data, labels=labels)
    if len(raw) == 0:
        raise PipelineError(
            f"the input has no rows: expected at least data.min_rows ({data.min_rows}) rows"
            if labels
            else "the input has no rows"
        )
    present = [c for c in data.columns if c in raw.columns]
    frame = raw[present].copy()
    if labels:
        # Before markers become nulls: a batch where every pdays is 999 ("never contacted")
        # is fine; a column with no value at all in training data is not.
        _check_all_null(frame, data)
    for name in present:
        frame[name] = _normalise(frame[name], data.columns[name])
    return _validate(frame, data)


def check_columns(columns: list[str], data: DataConfig, *, labels: bool = True) -> None:
    """Raise `PipelineError` unless `columns` are those the schema expects (see `validate`)."""
    if not columns:
        raise PipelineError(
            "the input has no columns: expected a header with the columns of data.columns"
        )
    if labels and data.target not in columns:
        raise PipelineError(
            f"the target column '{data.target}' (data.target) is missing from the input; "
            f"found columns: {columns}"
        )
    required = list(data.columns) if labels else data.feature_columns
    missing = [c for c in required if c not in columns]
    if missing:
        raise PipelineError(
            f"the input is missing {'declared' if labels else 'feature'} column(s) {missing} "
            f"(data.columns); found columns: {columns}"
        )
    extra = [c for c in columns if c not in data.columns]
    if extra:
        raise PipelineError(
            f"the input has column(s) {extra} that data.columns does not declare; "
            "declare them (and list them in data.drop_columns if they are not features)"
        )


def _normalise(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.dtype == "category":
        # Normalise each distinct value once: fast on millions of rows.
        # The result is categorical (levels as found, checked against the declared ones by
        # the schema): later steps (`preprocess`) then work on codes, not on strings.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        markers = {normalise_category(str(m)) for m in spec.missing_values}
        spelled = [normalise_category(str(u)) for u in uniques]
        levels = list(dict.fromkeys(s for s in spelled if s not in markers))
        position = {level: index for index, level in enumerate(levels)}
        lookup = np.array([position.get(s, -1) for s in spelled] + [-1], dtype=np.int64)
        found = pd.Categorical.from_codes(lookup[codes], categories=levels)
        return pd.Series(found, index=values.index, name=values.name)
    if spec.missing_values:
        values = values.mask(values.isin(spec.missing_values))
    if spec.dtype == "datetime":
        return _times(values, spec)
    return values


def _times(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """A datetime column read by its declared format; the first value that is not one is an
    error naming the column, the row, the value and the format expected."""
    parsed = dates.parse(values, spec.format)
    failed = parsed.isna() & values.notna()
    if failed.any():
        row = failed.idxmax()
        expected = spec.format or "a date or time pandas can read (no format declared)"
        raise PipelineError(
            f"column '{values.name}': {int(failed.sum())} of {len(values)} values are not dates "
            f"or times in the format {expected!r}; the first is {_shown(values[row])} "
            f"(row {int(row) + 1}, counting from 1 after the header). Fix the value, or set "
            f"data.columns.{values.name}.format to how the values are written"
        )
    return parsed


def _check_all_null(frame: pd.DataFrame, data: DataConfig) -> None:
    used = {*data.feature_columns, data.target}  # an empty dropped or id column is harmless
    empty = [name for name in frame.columns if name in used and frame[name].isna().all()]
    if empty:
        raise PipelineError(
            f"column(s) {empty} hold no value at all (every row is missing); "
            "fix the input or remove the column from data.columns"
        )


def _validate(frame: pd.DataFrame, data: DataConfig) -> pd.DataFrame:
    schema = pa.DataFrameSchema(
        {name: _column_schema(name, data.columns[name]) for name in frame.columns},
        strict=True,
        coerce=True,
    )
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise PipelineError(_format_failures(exc.failure_cases, len(frame))) from None


def _column_schema(name: str, spec: ColumnSpec) -> pa.Column:
    checks: list[pa.Check] = []
    if spec.dtype == "category":
        checks.append(pa.Check.isin(spec.categories or [], error="level not in categories"))
        dtype: object = "category"
    elif spec.dtype in ("string", "datetime"):
        dtype = "string" if spec.dtype == "string" else "datetime64[ns]"
    else:
        dtype = "Int64" if spec.dtype == "int" else "float64"
        if spec.min is not None:
            checks.append(pa.Check.ge(spec.min, error=f">= {spec.min}"))
        if spec.max is not None:
            checks.append(pa.Check.le(spec.max, error=f"<= {spec.max}"))
    return pa.Column(dtype, checks=checks, nullable=spec.nullable, name=name)


def _format_failures(cases: pd.DataFrame, n_rows: int) -> str:
    lines = []
    # A value that cannot take the column's type fails the type check; pandera then also
    # reports the column's dtype and, as Python exceptions without a row, every range rule it
    # could not apply: those say nothing more about the input, so only the type check is shown.
    uncoerced = {
        column
        for column, check in zip(cases["column"], cases["check"], strict=True)
        if str(check).startswith("coerce_dtype")
    }
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        check = str(check)
        consequence = check.startswith("dtype(") or bool(group["index"].isna().all())
        if column in uncoerced and not check.startswith("coerce_dtype") and consequence:
            continue
        rowed = group[group["index"].notna()]
        if rowed.empty:  # the check could not run at all (an exception): no row to name
            lines.append(f"column '{column}': {_explain(check)} could not be checked")
            continue
        examples = rowed.head(MAX_EXAMPLES)
        shown = ", ".join(
            f"{_shown(value)} (row {int(index) + 1})"
            for value, index in zip(examples["failure_case"], examples["index"], strict=True)
        )
        lines.append(
            f"column '{column}': {len(rowed)} of {n_rows} rows fail {_explain(check)}; e.g. {shown}"
        )
    return (
        "the input does not match the schema in conf/data/ (rows count from 1 after the "
        "header):\n  - " + "\n  - ".join(lines)
    )


# What a value must be, by the pandas dtype the schema coerces a column to.
EXPECTED_TYPES = {
    "Int64": "a whole number (dtype int)",
    "float64": "a number (dtype float)",
    "datetime64[ns]": "a date or time (dtype datetime)",
    "category": "one of the column's categories",
    "string": "text (dtype string)",
}
SHOWN_CHARS = 40


def _shown(value: object) -> str:
    """A failing value as the input had it: quoted text, a number, or `missing`."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return "missing"
    text = str(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "..."
    return f"'{text}'" if isinstance(value, str) else text


def _explain(check: str) -> str:
    if check.startswith("coerce_dtype"):
        dtype = check.removeprefix("coerce_dtype(").rstrip(")").strip("'")
        return "the type check: expected " + EXPECTED_TYPES.get(dtype, dtype)
    if check == "not_nullable":
        return "the no-missing-values rule (nullable: false)"
    if check.startswith(("level", ">=", "<=")):
        return f"the rule '{check}'"
    return f"the check '{check}'"


def _apply_missing_policy(
    frame: pd.DataFrame, data: DataConfig, report: CleaningReport
) -> pd.DataFrame:
    drop = pd.Series(False, index=frame.index)
    for name in frame.columns:
        spec = data.columns[name]
        nulls = frame[name].isna()
        if spec.on_missing == "drop_row":
            drop |= nulls
        elif spec.on_missing == "fill" and bool(nulls.any()):
            report.values_filled[name] = int(nulls.sum())
            column = frame[name]
            categorical = isinstance(column.dtype, pd.CategoricalDtype)
            if categorical and spec.fill_value not in column.cat.categories:
                column = column.cat.add_categories([spec.fill_value])
            frame[name] = column.fillna(spec.fill_value)
    report.rows_dropped_missing = int(drop.sum())
    return frame.loc[~drop]
