"""The service's request schema, generated from the model's metadata (pydantic).

One typed key per model feature, named as in the data (`emp.var.rate` included); extra keys
are forbidden. Category values are normalised like `preprocess`
does (stripped, lower-cased), then must be one of the training levels: an unseen category is
rejected (HTTP 400 naming the field and the allowed values), never silently scored as missing.
Numbers must be finite; integer columns take JSON integers; ranges and nullability come from
`conf/data/` as the model was trained with it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BeforeValidator, ConfigDict, Field
from typing_extensions import TypedDict

from .config import ColumnSpec, DataConfig, normalise_category
from .features import FeatureSpec

FLOAT32_LIMIT = 1e38


def _normalise(value: Any) -> Any:
    return normalise_category(value) if isinstance(value, str) else value


def field_type(column: ColumnSpec) -> Any:
    """The pydantic type of one feature column."""
    kind: Any
    if column.dtype == "category":
        markers = [normalise_category(str(m)) for m in column.missing_values]
        levels = tuple(dict.fromkeys([*(column.categories or []), *markers]))
        kind = Annotated[Literal[levels], BeforeValidator(_normalise)]  # type: ignore[valid-type]
    else:
        # The model computes in float32: larger magnitudes would overflow to infinity.
        low = -FLOAT32_LIMIT if column.min is None else column.min
        high = FLOAT32_LIMIT if column.max is None else column.max
        if column.dtype == "int":
            low, high = math.ceil(low), math.floor(high)
        bounds: dict[str, Any] = {"strict": True, "ge": low, "le": high}
        # The declared missing-value markers (e.g. 999) are valid values outside the range.
        numeric = int if column.dtype == "int" else float
        if column.dtype == "float":
            bounds["allow_inf_nan"] = False
        kind = Annotated[numeric, Field(**bounds)]  # type: ignore[valid-type]
        markers = [m for m in column.missing_values if isinstance(m, (int, float))]
        if markers:
            kind = Union[kind, Literal[tuple(markers)]]  # type: ignore[valid-type]  # noqa: UP007
    return Optional[kind] if column.nullable else kind  # noqa: UP045 (runtime union)


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


def records_columns(records: list[dict[str, Any]], spec: FeatureSpec) -> dict[str, list[Any]]:
    """Validated records as columns, keyed by the data's column names (for `preprocess`)."""
    return {name: [record[name] for record in records] for name in spec.names}


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
