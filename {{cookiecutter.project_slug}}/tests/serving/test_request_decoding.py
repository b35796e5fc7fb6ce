"""The service's fast request decoding (msgspec) against the pydantic schema it stands in for.

`RowDecoder` may only accept bodies that the schema accepts, with the same values; everything
else must go to the schema. Checked on fixed cases and on bodies that hypothesis builds from
valid, respelled, out-of-range, mistyped, missing and extra values.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

import records
from helpers import committed_params, module

config = module("settings.params")
features = module("model.features")
request_schema = module("serving.http.request_schema")
fast_decoding = module("serving.http.fast_decoding")

PARAMS = config.parse_params(committed_params())
SPEC = features.FeatureSpec.from_data_config(PARAMS.data)
MAX_RECORDS = 5
DECODER = fast_decoding.RowDecoder(PARAMS.data, SPEC, MAX_RECORDS)
RECORD = request_schema.record_model(PARAMS.data, SPEC)


class Body(BaseModel):
    """The body as the service's pydantic input model reads it (BentoML builds it the same way)."""

    records: Annotated[list[RECORD], Field(min_length=1, max_length=MAX_RECORDS)]  # type: ignore[valid-type]


def schema_rows(body: bytes) -> list[tuple] | None:
    try:
        return DECODER.rows(Body.model_validate_json(body).records)
    except ValidationError:
        return None


def encode(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"records": records}).encode()


def assert_same(fast: list[tuple], slow: list[tuple]) -> None:
    assert fast == slow
    matrices = [
        features.preprocess(request_schema.records_columns(rows, SPEC), SPEC)
        for rows in (fast, slow)
    ]
    np.testing.assert_array_equal(*matrices)


def test_canonical_records_take_the_fast_path_with_the_schemas_values() -> None:
    valid = records.valid_records(2)
    body = encode(valid)
    rows = DECODER.decode(body)
    assert rows is not None
    no_ids = (None,) * len(PARAMS.data.id_columns)  # rows end with the id values, if any
    assert rows == [tuple(record[name] for name in SPEC.names) + no_ids for record in valid]
    assert_same(rows, schema_rows(body))


def _int_with_marker() -> str:
    columns = PARAMS.data.columns
    found = [n for n in records.numeric_features() if columns[n].dtype == "int"]
    found = [n for n in found if any(type(m) is int for m in columns[n].missing_values)]
    if not found:
        pytest.skip(f"{records.described()} declares no integer missing-value marker")
    return found[0]


def _with_minimum() -> str:
    found = [n for n in records.numeric_features() if PARAMS.data.columns[n].min is not None]
    if not found:
        pytest.skip(f"{records.described()} declares no minimum on a numeric feature")
    return found[0]


def _below_minimum(name: str) -> int | float:
    low = PARAMS.data.columns[name].min
    return math.ceil(low) - 1 if PARAMS.data.columns[name].dtype == "int" else low - 1


def _level(name: str) -> str:
    return str(PARAMS.data.columns[name].categories[0])


def _marker(name: str) -> int:
    return next(m for m in PARAMS.data.columns[name].missing_values if type(m) is int)


# case: the changed values; each goes to the schema
LEFT_TO_THE_SCHEMA = {
    # accepted by the schema after normalising: not by the fast path
    "respelled level": lambda: {(n := records.category_feature()): f" {_level(n).upper()} "},
    "unseen level": lambda: {records.category_feature(): "astronaut"},
    "integer as a float": lambda: {records.numeric_feature("int"): 41.0},
    "below the minimum": lambda: {(n := _with_minimum()): _below_minimum(n)},
    "fraction for an integer": lambda: {records.numeric_feature("int"): 998.5},
    # the schema's Literal[marker] takes the float spelling: the schema decides
    "marker as a float": lambda: {(n := _int_with_marker()): float(_marker(n))},
    "past int64": lambda: {records.numeric_feature("int"): 2**63},  # msgspec's bounds
    "past float32": lambda: {records.numeric_feature("float"): 1e39},
    "extra key": lambda: {"colour": "red"},
    "null where not allowed": lambda: {records.required_feature(): None},
}


@pytest.mark.parametrize("case", list(LEFT_TO_THE_SCHEMA))
def test_anything_else_is_left_to_the_schema(case: str) -> None:
    body = encode([records.valid_record(**LEFT_TO_THE_SCHEMA[case]())])
    assert DECODER.decode(body) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"[]",
        b'{"records": []}',
        b'{"records": {}}',
        b'{"records": [1]}',
        encode([records.valid_record()] * (MAX_RECORDS + 1)),
        b'{"records": [], "extra": 1}',
        b'{"records": [{"age": NaN}]}',
        encode([records.valid_record()])[:-5],
    ],
)
def test_malformed_bodies_are_left_to_the_schema(body: bytes) -> None:
    assert DECODER.decode(body) is None
    assert schema_rows(body) is None


def test_a_repeated_key_keeps_its_last_value_as_in_the_schema() -> None:
    record = records.valid_record()
    name = SPEC.names[0]
    last = json.dumps({name: record[name]})[1:-1]
    earlier = json.dumps({name: records.other_value(name, record)})[1:-1]
    text = encode([record]).decode().replace(last, f"{earlier}, {last}", 1)
    rows = DECODER.decode(text.encode())
    assert rows is not None
    assert rows[0][0] == record[name]
    assert_same(rows, schema_rows(text.encode()))


def _valid_value(name: str) -> st.SearchStrategy[Any]:
    """Values of one column that the schema accepts unchanged."""
    column = PARAMS.data.columns[name]
    found: st.SearchStrategy[Any]
    if column.dtype == "category":
        found = st.sampled_from(list(column.categories or []))
    elif column.dtype == "int":
        low = math.ceil(column.min if column.min is not None else -(2**40))
        high = math.floor(column.max if column.max is not None else 2**40)
        found = st.one_of(st.integers(low, high), st.sampled_from(column.missing_values or [low]))
    else:
        limit = request_schema.FLOAT32_LIMIT
        low = -limit if column.min is None else column.min
        high = limit if column.max is None else column.max
        found = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(found, st.none()) if column.nullable else found


def _other_value(name: str) -> st.SearchStrategy[Any]:
    """Nearly valid and invalid values of one column: respelled, at and past the edges, mistyped."""
    column = PARAMS.data.columns[name]
    if column.dtype == "category":
        level = st.sampled_from(list(column.categories or []))
        return st.one_of(
            level.map(str.upper),
            level.map(lambda v: f" {v}"),
            st.text(max_size=6),
            st.integers(-3, 3),
            st.none(),
        )
    limit = request_schema.FLOAT32_LIMIT
    low = -limit if column.min is None else column.min
    high = limit if column.max is None else column.max
    edges = [low, high, math.ceil(low) - 1, math.floor(high) + 1, low - 0.5, high + 0.5]
    return st.one_of(
        st.sampled_from([*edges, 2**63, -(2**63) - 1, 999.0, 1e39, -1e39, math.nan]),
        st.sampled_from(list(column.missing_values) or [0]),
        st.floats(),
        st.integers(),
        _valid_value(name).map(str),
        st.booleans(),
        st.none(),
    )


def _edge_values(name: str) -> list[Any]:
    """The values next to one column's limits, its markers, and the same mistyped."""
    column = PARAMS.data.columns[name]
    if column.dtype == "category":
        levels = list(column.categories or [])
        return [*levels, *(v.upper() for v in levels), f" {levels[0]}", "", None, 0]
    limit = request_schema.FLOAT32_LIMIT
    low = -limit if column.min is None else column.min
    high = limit if column.max is None else column.max
    near = [low, high, math.ceil(low) - 1, math.floor(high) + 1, low - 0.5, high + 0.5]
    near += [-1, 0, 1, 998, 999, 999.0, 1000, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1]
    near += [1e38, 1e39, -1e39, math.nan, math.inf, *column.missing_values, None, True, "1"]
    return near


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name in SPEC.names for value in _edge_values(name)]
)
def test_each_edge_value_is_decoded_as_the_schema_reads_it_or_left_to_it(
    name: str, value: Any
) -> None:
    body = json.dumps({"records": [records.valid_record(**{name: value})]}).encode()
    fast, slow = DECODER.decode(body), schema_rows(body)
    if fast is not None:
        assert slow is not None
        assert_same(fast, slow)
    elif slow is not None:
        # Left to the schema although it accepts the value: only respellings and markers that
        # msgspec cannot express (a float marker, `999.0`), or integers past int64.
        column = PARAMS.data.columns[name]
        assert (
            (isinstance(value, str) and value != config.normalise_category(value))
            or value in column.missing_values
            or (isinstance(value, int) and abs(value) >= 2**63)
        ), (name, value)


VALID_RECORD = st.fixed_dictionaries({name: _valid_value(name) for name in SPEC.names})


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """A body of valid records, some changed in one to three places."""
    records = draw(st.lists(VALID_RECORD, max_size=MAX_RECORDS + 1))
    for record in records:
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(SPEC.names))
            change = draw(st.sampled_from(["value", "value", "value", "drop", "extra"]))
            if change == "value":
                record[name] = draw(_other_value(name))
            elif change == "drop":
                record.pop(name, None)
            else:
                record[draw(st.sampled_from(["colour", name.upper()]))] = 1
    return json.dumps({"records": records}).encode()  # NaN and Infinity included


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(_bodies())
def test_the_fast_path_accepts_only_what_the_schema_accepts_with_the_same_values(
    body: bytes,
) -> None:
    fast = DECODER.decode(body)
    if fast is not None:
        slow = schema_rows(body)
        assert slow is not None, body
        assert_same(fast, slow)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(VALID_RECORD, min_size=1, max_size=MAX_RECORDS))
def test_valid_canonical_records_always_take_the_fast_path(records: list[dict[str, Any]]) -> None:
    body = encode(records)
    fast = DECODER.decode(body)
    assert fast is not None, body
    assert_same(fast, schema_rows(body))
