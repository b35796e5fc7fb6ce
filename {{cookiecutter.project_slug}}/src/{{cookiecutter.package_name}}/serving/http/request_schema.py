"""The service's request schema, generated from the model's metadata (pydantic).

One typed key per model feature, named as in the data (`emp.var.rate` included), and an
optional key per `id` column of the data (not scored: carried to the inference log so results
join back); other keys are forbidden. Category values are normalised like `preprocess`
does (stripped, lower-cased), then must be one of the training levels: an unseen category is
rejected (HTTP 400 naming the field and the allowed values), never silently scored as missing.
Numbers must be finite; integer columns take JSON integers; ranges and nullability come from
`conf/data/` as the model was trained with it.

`fast_decoding.RowDecoder` is the fast path of the same contract (msgspec, about 9x faster
than pydantic on a 1,000-record body): it takes bodies whose values this schema accepts
unchanged and hands anything else to it, which decides and names the offending field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, StrictStr
from typing_extensions import NotRequired, TypedDict

from ...model.features import FeatureSpec
from ...settings.params import ColumnSpec, DataConfig, normalise_category

FLOAT32_LIMIT = 1e38
Row = tuple[Any, ...]


def _normalise(value: Any) -> Any:
    return normalise_category(value) if isinstance(value, str) else value


def field_type(column: ColumnSpec) -> Any:
    """The pydantic type of one feature column."""
    kind: Any
    if column.dtype == "category":
        kind = Annotated[Literal[accepted_levels(column)], BeforeValidator(_normalise)]  # type: ignore[valid-type]
    else:
        low, high = numeric_bounds(column)
        bounds: dict[str, Any] = {"strict": True, "ge": low, "le": high}
        # The declared missing-value markers (e.g. 999) are valid values outside the range.
        numeric = int if column.dtype == "int" else float
        if column.dtype == "float":
            bounds["allow_inf_nan"] = False
        kind = Annotated[numeric, Field(**bounds)]  # type: ignore[valid-type]
        markers = numeric_markers(column)
        if markers:
            kind = Union[kind, Literal[markers]]  # type: ignore[valid-type]  # noqa: UP007
    return Optional[kind] if column.nullable else kind  # noqa: UP045 (runtime union)


def accepted_levels(column: ColumnSpec) -> tuple[str, ...]:
    """A category column's accepted values: its levels, then its missing-value markers."""
    markers = [normalise_category(str(m)) for m in column.missing_values]
    return tuple(dict.fromkeys([*(column.categories or []), *markers]))


def numeric_bounds(column: ColumnSpec) -> tuple[Any, Any]:
    """A numeric column's range; the model computes in float32, so at most +-1e38."""
    low = -FLOAT32_LIMIT if column.min is None else column.min
    high = FLOAT32_LIMIT if column.max is None else column.max
    if column.dtype == "int":
        return math.ceil(low), math.floor(high)
    return low, high


def numeric_markers(column: ColumnSpec) -> tuple[Any, ...]:
    return tuple(m for m in column.missing_values if isinstance(m, (int, float)))


def id_type(column: ColumnSpec) -> Any:
    """An id column's type in a request: optional, a JSON number for numeric ids."""
    kinds = {"int": StrictInt, "float": Union[StrictFloat, StrictInt]}  # noqa: UP007
    return NotRequired[Optional[kinds.get(column.dtype, Union[StrictStr, StrictInt])]]  # noqa: UP007, UP045


def record_model(data: DataConfig, spec: FeatureSpec) -> Any:
    """The type of one raw record: the model's features, typed, and the optional id columns.

    A `TypedDict` (keys are the data's column names, e.g. `emp.var.rate`): pydantic
    validates it into a plain dict, which is cheaper than model instances.
    """
    fields: dict[str, Any] = {}
    for feature in spec.features:
        column = data.columns[feature.name]
        fields[feature.name] = Annotated[
            field_type(column), Field(description=describe_column(feature.name, column))
        ]
    for name in data.id_columns:
        fields[name] = id_type(data.columns[name])
    record = TypedDict("Record", fields)  # type: ignore[misc]
    record.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return record


def records_columns(records: Sequence[Any], spec: FeatureSpec) -> dict[str, list[Any]]:
    """Validated records as columns, keyed by the data's column names (for `preprocess`).

    A record is a row (a tuple in `spec.names` order, as `RowDecoder` gives, then the id
    values when the data has id columns) or a dict.
    """
    names = spec.names
    rows = [r if type(r) is tuple else row_of(r, names) for r in records]
    if not rows:
        return {name: [] for name in names}
    # Rows may end with id values: the features are the first len(names) columns.
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=False))


def records_ids(records: Sequence[Any], spec: FeatureSpec, ids: list[str]) -> dict[str, list[Any]]:
    """The id columns' values of each record (None where a record has none)."""
    start = len(spec.names)
    rows = [r[start:] if type(r) is tuple else tuple(r.get(name) for name in ids) for r in records]
    return {
        name: [row[index] if len(row) > index else None for row in rows]
        for index, name in enumerate(ids)
    }


def row_with_ids(record: dict[str, Any], names: list[str], ids: list[str]) -> Row:
    """A validated record as a row: its features in `names` order, then its id values."""
    return (*(record[name] for name in names), *(record.get(name) for name in ids))


def row_of(record: dict[str, Any], names: list[str]) -> Row:
    return tuple(record[name] for name in names)


def describe_column(name: str, column: ColumnSpec) -> str:
    """What a column takes: its type, its range (the float32 limit when none is set) or levels."""
    if column.dtype == "category":
        text = f"{name}: one of {column.categories}"
    else:
        low, high = numeric_bounds(column)
        kind = "integer" if column.dtype == "int" else "number"
        text = f"{name}: {kind} >= {low:g} and <= {high:g}"
        if column.min is None or column.max is None:
            text += f" (the model computes in float32: at most {FLOAT32_LIMIT:g} in size)"
    if column.missing_values:
        text += f"; {column.missing_values} mean missing"
    return text + ("; null allowed" if column.nullable else "; required, null not allowed")
