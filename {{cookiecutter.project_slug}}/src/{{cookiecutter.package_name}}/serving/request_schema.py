"""The service's request schema, generated from the model's metadata (pydantic).

One typed key per model feature, named as in the data (`emp.var.rate` included); extra keys
are forbidden. Category values are normalised like `preprocess`
does (stripped, lower-cased), then must be one of the training levels: an unseen category is
rejected (HTTP 400 naming the field and the allowed values), never silently scored as missing.
Numbers must be finite; integer columns take JSON integers; ranges and nullability come from
`conf/data/` as the model was trained with it.

`RowDecoder` is the fast path of the same contract (msgspec, about 9x faster than pydantic
on a 1,000-record body): it takes bodies whose values the pydantic schema accepts unchanged
and hands anything else to the schema, which decides and names the offending field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Annotated, Any, Literal, Optional, Union

import msgspec
from pydantic import BeforeValidator, ConfigDict, Field
from typing_extensions import TypedDict

from ..model.features import FeatureSpec
from ..settings.params import ColumnSpec, DataConfig, normalise_category

FLOAT32_LIMIT = 1e38
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Row = tuple[Any, ...]


def _normalise(value: Any) -> Any:
    return normalise_category(value) if isinstance(value, str) else value


def field_type(column: ColumnSpec) -> Any:
    """The pydantic type of one feature column."""
    kind: Any
    if column.dtype == "category":
        kind = Annotated[Literal[_levels(column)], BeforeValidator(_normalise)]  # type: ignore[valid-type]
    else:
        low, high = _bounds(column)
        bounds: dict[str, Any] = {"strict": True, "ge": low, "le": high}
        # The declared missing-value markers (e.g. 999) are valid values outside the range.
        numeric = int if column.dtype == "int" else float
        if column.dtype == "float":
            bounds["allow_inf_nan"] = False
        kind = Annotated[numeric, Field(**bounds)]  # type: ignore[valid-type]
        markers = _numeric_markers(column)
        if markers:
            kind = Union[kind, Literal[markers]]  # type: ignore[valid-type]  # noqa: UP007
    return Optional[kind] if column.nullable else kind  # noqa: UP045 (runtime union)


def _levels(column: ColumnSpec) -> tuple[str, ...]:
    """A category column's accepted values: its levels, then its missing-value markers."""
    markers = [normalise_category(str(m)) for m in column.missing_values]
    return tuple(dict.fromkeys([*(column.categories or []), *markers]))


def _bounds(column: ColumnSpec) -> tuple[Any, Any]:
    """A numeric column's range; the model computes in float32, so at most +-1e38."""
    low = -FLOAT32_LIMIT if column.min is None else column.min
    high = FLOAT32_LIMIT if column.max is None else column.max
    if column.dtype == "int":
        return math.ceil(low), math.floor(high)
    return low, high


def _numeric_markers(column: ColumnSpec) -> tuple[Any, ...]:
    return tuple(m for m in column.missing_values if isinstance(m, (int, float)))


def record_model(data: DataConfig, spec: FeatureSpec) -> Any:
    """The type of one raw record: the model's features, typed, nothing else.

    A `TypedDict` (keys are the data's column names, e.g. `emp.var.rate`): pydantic
    validates it into a plain dict, which is cheaper than model instances.
    """
    fields: dict[str, Any] = {}
    for feature in spec.features:
        column = data.columns[feature.name]
        fields[feature.name] = Annotated[
            field_type(column), Field(description=_describe(feature.name, column))
        ]
    record = TypedDict("Record", fields)  # type: ignore[misc]
    record.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return record


def records_columns(records: Sequence[Any], spec: FeatureSpec) -> dict[str, list[Any]]:
    """Validated records as columns, keyed by the data's column names (for `preprocess`).

    A record is a row (a tuple in `spec.names` order, as `RowDecoder` gives) or a dict.
    """
    names = spec.names
    rows = [r if type(r) is tuple else _row_of(r, names) for r in records]
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


def _row_of(record: dict[str, Any], names: list[str]) -> Row:
    return tuple(record[name] for name in names)


class RowDecoder:
    """Decodes a request body straight into rows with msgspec: the fast path of the schema.

    It accepts only bodies that `record_model` accepts unchanged (the same values): category
    levels spelled canonically, numbers inside their range or an integer missing-value
    marker, `{"records": [...]}` with 1 to `max_records` records and nothing else. For
    anything else `decode` answers `None` and the caller validates the body with the pydantic
    schema, which normalises spellings and names the offending field in its error.
    Rows are tuples in `spec.names` order.
    """

    def __init__(self, data: DataConfig, spec: FeatureSpec, max_records: int) -> None:
        fields: list[tuple[str, Any, Any]] = []
        self._checks: list[tuple[int, Any, Any, frozenset[Any]]] = []
        for index, feature in enumerate(spec.features):
            column = data.columns[feature.name]
            kind = self._field_type(index, column)
            if column.nullable:
                kind = Optional[kind]  # noqa: UP045 (runtime union)
            fields.append((f"f{index}", kind, msgspec.field(name=feature.name)))
        record = msgspec.defstruct(
            "Record", fields, forbid_unknown_fields=True, gc=False, omit_defaults=False
        )
        records = Annotated[list[record], msgspec.Meta(min_length=1, max_length=max_records)]  # type: ignore[valid-type]
        body = msgspec.defstruct("Body", [("records", records)], forbid_unknown_fields=True)
        self._decoder = msgspec.json.Decoder(body)
        self._names = spec.names

    def _field_type(self, index: int, column: ColumnSpec) -> Any:
        if column.dtype == "category":
            # Only canonical spellings: others are normalised by the pydantic schema.
            canonical = [v for v in _levels(column) if normalise_category(v) == v]
            return Literal[tuple(canonical)] if canonical else Literal[None]
        low, high = _bounds(column)
        markers = _numeric_markers(column)
        if column.dtype == "float":
            # A marker outside the range goes to the pydantic schema (its int/float rules).
            return Annotated[float, msgspec.Meta(ge=float(low), le=float(high))]
        if markers:
            # A marker (e.g. 999) lies outside the range: checked after decoding.
            whole = frozenset(m for m in markers if type(m) is int)
            self._checks.append((index, low, high, whole))
            return int
        # msgspec's bounds are int64: a larger integer goes to the pydantic schema.
        return Annotated[int, msgspec.Meta(ge=max(low, INT64_MIN), le=min(high, INT64_MAX))]

    def decode(self, body: bytes) -> list[Row] | None:
        """The body's records as rows, or `None` when the pydantic schema must decide."""
        try:
            records = self._decoder.decode(body).records
        except msgspec.DecodeError:
            return None
        rows = list(map(msgspec.structs.astuple, records))
        for index, low, high, markers in self._checks:
            for value in map(itemgetter(index), rows):
                if value is not None and not low <= value <= high and value not in markers:
                    return None
        return rows

    def rows(self, records: Sequence[dict[str, Any]]) -> list[Row]:
        """Records validated by the pydantic schema, as rows."""
        return [_row_of(record, self._names) for record in records]


def _describe(name: str, column: ColumnSpec) -> str:
    if column.dtype == "category":
        text = f"{name}: one of {column.categories}"
    else:
        rng = []
        if column.min is not None:
            rng.append(f">= {column.min}")
        if column.max is not None:
            rng.append(f"<= {column.max}")
        text = f"{name}: {'integer' if column.dtype == 'int' else 'number'} {' '.join(rng)}"
    if column.missing_values:
        text += f"; {column.missing_values} mean missing"
    return text + ("; null allowed" if column.nullable else "; required, not null")
