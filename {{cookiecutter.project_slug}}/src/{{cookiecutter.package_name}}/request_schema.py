"""The service's request schema, generated from the model's metadata (pydantic).

One typed field per model feature, named as in the data (aliases keep names such as
`emp.var.rate`); extra fields are forbidden. Category values are normalised like `preprocess`
does (stripped, lower-cased), then must be one of the training levels: an unseen category is
rejected (HTTP 400 naming the field and the allowed values), never silently scored as missing.
Numbers must be finite; integer columns take JSON integers; ranges and nullability come from
`conf/data/` as the model was trained with it.
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Any, Literal, Optional, Union

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from .config import ColumnSpec, DataConfig, normalise_category
from .features import FeatureSpec


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
        bounds: dict[str, Any] = {"strict": True}
        if column.min is not None:
            bounds["ge"] = column.min
        if column.max is not None:
            bounds["le"] = column.max
        # The declared missing-value markers (e.g. 999) are valid values outside the range.
        numeric = int if column.dtype == "int" else float
        if column.dtype == "float":
            bounds["allow_inf_nan"] = False
        kind = Annotated[numeric, Field(**bounds)]  # type: ignore[valid-type]
        markers = [m for m in column.missing_values if isinstance(m, (int, float))]
        if markers and (column.min is not None or column.max is not None):
            kind = Union[kind, Literal[tuple(markers)]]  # type: ignore[valid-type]  # noqa: UP007
    return Optional[kind] if column.nullable else kind  # noqa: UP045 (runtime union)


def record_model(data: DataConfig, spec: FeatureSpec) -> type[BaseModel]:
    """A pydantic model of one raw record: the model's features, typed, nothing else."""
    fields: dict[str, Any] = {}
    for feature in spec.features:
        column = data.columns[feature.name]
        fields[python_name(feature.name)] = (
            field_type(column),
            Field(..., alias=feature.name, description=_describe(feature.name, column)),
        )
    return create_model(  # type: ignore[call-overload, no-any-return]
        "Record",
        __config__=ConfigDict(extra="forbid", populate_by_name=False, frozen=True),
        **fields,
    )


def python_name(name: str) -> str:
    """A Python identifier for a column name (the alias keeps the real name)."""
    cleaned = re.sub(r"\W", "_", name)
    if not cleaned or cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = f"f_{cleaned}"
    return cleaned


def records_frame(records: list[BaseModel], spec: FeatureSpec) -> pd.DataFrame:
    """Validated records as a raw DataFrame with the data's column names (for `preprocess`)."""
    columns = {
        feature.name: [getattr(r, python_name(feature.name)) for r in records]
        for feature in spec.features
    }
    return pd.DataFrame(columns)


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
