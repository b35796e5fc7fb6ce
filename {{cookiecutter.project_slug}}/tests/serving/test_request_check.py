"""The strict check of request bodies and its bounded answers (no trained model needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import records
from helpers import committed_params, module

config = module("settings.params")
features = module("model.features")
fast_decoding = module("serving.http.fast_decoding")
request_check = module("serving.http.request_check")
RejectionError = module("serving.http.request_body").RejectionError

PARAMS = config.parse_params(committed_params())
SPEC = features.FeatureSpec.from_data_config(PARAMS.data)
SETTINGS = PARAMS.serve.model_copy(update={"max_records": 100, "max_error_details": 20})


def checker(fast: bool, data: Any = PARAMS.data) -> Any:
    settings = SETTINGS.model_copy(update={"fast_decoding": fast})
    spec = features.FeatureSpec.from_data_config(data)
    decoder = fast_decoding.RowDecoder(data, spec, settings.max_records)
    return request_check.RequestCheck(data, spec, settings, decoder)


CHECKS = {"fast": checker(True), "schema only": checker(False)}


def refused(body: bytes | str, fast: bool = True) -> Any:
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(RejectionError) as caught:
        CHECKS["fast" if fast else "schema only"].rows(raw)
    assert caught.value.status == 400
    return caught.value


def record_text(**overrides: Any) -> str:
    return json.dumps(records.valid_record(**overrides))


def body_of(*records: str, extra: str = "") -> str:
    """A body holding the given record texts (no braces in this file: it is a Jinja template)."""
    return json.dumps({"records": []}).replace("[]", "[" + ", ".join(records) + "]" + extra)


@pytest.mark.parametrize("fast", [True, False])
def test_a_valid_body_gives_rows_in_feature_order(fast: bool) -> None:
    rows = CHECKS["fast" if fast else "schema only"].rows(body_of(record_text()).encode())
    no_ids = (None,) * len(PARAMS.data.id_columns)  # rows end with the id values, if any
    assert rows == [tuple(records.valid_record()[name] for name in SPEC.names) + no_ids]


@pytest.mark.parametrize("fast", [True, False])
def test_an_unknown_top_level_key_is_refused(fast: bool) -> None:
    rejection = refused(body_of(record_text(), extra=', "extra": 1'), fast)
    assert rejection.reason == "extra_field"
    assert rejection.details[0]["loc"] == ["extra"]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("where", ["top level", "in a record"])
def test_a_repeated_key_is_refused(fast: bool, where: str) -> None:
    record = record_text()
    if where == "top level":
        body = body_of(record, extra=', "records": [' + record + "]")
    else:
        name = json.dumps(SPEC.names[0])
        other = json.dumps(records.valid_record()[SPEC.names[0]])
        body = body_of(record.replace(name, f"{name}: {other}, {name}", 1))
    rejection = refused(body, fast)
    assert rejection.reason == "duplicate_key"
    assert "appears twice" in rejection.message


def test_null_where_null_is_not_allowed_says_so() -> None:
    """On a feature declared `nullable: false` (declared so here)."""
    name = SPEC.names[0]
    raw = committed_params()
    raw["data"]["columns"][name]["nullable"] = False
    strict = checker(True, config.parse_params(raw).data)
    with pytest.raises(RejectionError) as caught:
        strict.rows(body_of(record_text(**{name: None})).encode())
    detail = caught.value.details[0]
    assert detail["msg"] == "null is not allowed here"
    assert "null not allowed" in detail["expected"]
    assert detail["loc"] == ["records", 0, name]


def test_a_number_past_the_float32_limit_names_the_limit() -> None:
    unbounded = [n for n in SPEC.names if PARAMS.data.columns[n].dtype == "float"]
    unbounded = [n for n in unbounded if PARAMS.data.columns[n].max is None]
    if not unbounded:
        pytest.skip(f"{records.described()} has no float feature without a max")
    name = unbounded[0]
    detail = refused(body_of(record_text(**{name: 1e308}))).details[0]
    assert detail["loc"][2] == name
    assert "float32" in detail["expected"]
    assert "1e+38" in detail["expected"]


def test_an_answer_lists_at_most_max_error_details_problems_and_shortens_inputs() -> None:
    extra = {f"k{i}{'x' * 500}": "v" * 1000 for i in range(5000)}
    body = json.dumps({"records": [{**records.valid_record(), **extra}]})
    rejection = refused(body)
    assert len(rejection.details) == 20
    assert rejection.left_out == 5000 - 20
    assert rejection.message.startswith("5000 problems")
    answer = json.dumps(rejection.details)
    assert len(answer) < 20 * 400
    assert all(len(str(d["input"])) <= 103 and len(d["loc"][2]) <= 103 for d in rejection.details)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"records": [NaN]}', "records.0"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"records": [' + b"9" * 5000 + b"]}", "not valid JSON"),
    ],
)
def test_malformed_bodies_get_a_short_message(body: bytes, says: str) -> None:
    rejection = refused(body)
    assert says in rejection.message
    assert len(rejection.message) < 300
