"""Units of the service that need no trained model: request schema, rejections, inference log."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

import records as data
from helpers import committed_params, module

config = module("settings.params")
features = module("model.features")
request_schema = module("serving.http.request_schema")
inference_log = module("serving.inference_log")
monitoring = module("serving.http.prometheus")


def adapter(edit: Callable[[dict[str, Any]], None] | None = None) -> TypeAdapter:
    """The request records' validator for the committed data config after `edit(raw data)`."""
    raw = committed_params()
    if edit is not None:
        edit(raw["data"])
    data = config.parse_params(raw).data
    spec = features.FeatureSpec.from_data_config(data)
    return TypeAdapter(list[request_schema.record_model(data, spec)])


@pytest.fixture(scope="module")
def records() -> TypeAdapter:
    return adapter()


def errors(records: TypeAdapter, payload: list) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        records.validate_python(payload)
    return caught.value.errors()


def test_a_valid_record_passes_unchanged(records: TypeAdapter) -> None:
    record = data.valid_record()
    assert records.validate_python([record]) == [record]


def test_category_spellings_are_normalised(records: TypeAdapter) -> None:
    name = data.category_feature()
    level = data.data_config().columns[name].categories[0]
    parsed = records.validate_python([data.valid_record(**{name: f" {level.upper()} "})])
    assert parsed[0][name] == level


def _dtype(name: str) -> str:
    return str(data.data_config().columns[name].dtype)


def _not_nullable(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["columns"][name].update(nullable=False)


def _with_minimum(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        if raw["columns"][name].get("min") is None:
            raw["columns"][name]["min"] = 0

    return edit


def _minimum(name: str) -> float:
    low = data.data_config().columns[name].min
    return 0 if low is None else low


# case: the schema's edit (or None), the changed values, the field and pydantic's error type
BAD_VALUES: dict[str, Callable[[], tuple[Any, dict[str, Any], str, str]]] = {
    "unseen level": lambda: (
        None,
        {(n := data.category_feature()): "astronaut"},
        n,
        "literal_error",
    ),
    "number as text": lambda: (
        None,
        {(n := data.numeric_feature()): "41"},
        n,
        f"{_dtype(n)}_type",
    ),
    "fraction for an integer": lambda: (
        None,
        {(n := data.numeric_feature("int")): 41.5},
        n,
        "int_type",
    ),
    "null where not allowed": lambda: (
        _not_nullable(n := data.numeric_feature()),
        {n: None},
        n,
        f"{_dtype(n)}_type",
    ),
    "below the minimum": lambda: (
        _with_minimum(n := data.numeric_feature()),
        {n: math.ceil(_minimum(n)) - 1 if _dtype(n) == "int" else _minimum(n) - 0.5},
        n,
        "greater_than_equal",
    ),
    "not finite": lambda: (
        None,
        {(n := data.numeric_feature("float")): math.nan},
        n,
        "finite_number",
    ),
    "beyond float32": lambda: (
        None,
        {(n := data.numeric_feature("float")): 1e300},
        n,
        "less_than_equal",
    ),
    "extra field": lambda: (None, {"colour": "red"}, "colour", "extra_forbidden"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_values_name_the_field(case: str) -> None:
    edit, change, field, error_type = BAD_VALUES[case]()
    found = errors(adapter(edit), [{**data.valid_record(), **change}])
    assert any(e["loc"][1] == field and e["type"] == error_type for e in found), found
    body = json.dumps({"detail": [{"type": error_type}]}).encode()
    reason = monitoring.rejection_reason(400, body)
    assert reason != "invalid"


def test_a_missing_field_is_named(records: TypeAdapter) -> None:
    record = data.valid_record()
    name = data.features()[-1]
    del record[name]
    assert [(e["loc"][1], e["type"]) for e in errors(records, [record])] == [(name, "missing")]


def test_nullable_columns_accept_null(records: TypeAdapter) -> None:
    nullable = [n for n in data.features() if data.data_config().columns[n].nullable]
    if not nullable:
        pytest.skip(f"{data.described()} has no nullable feature")
    parsed = records.validate_python([data.valid_record(**dict.fromkeys(nullable))])
    assert [parsed[0][name] for name in nullable] == [None] * len(nullable)


def test_records_columns_keep_the_data_column_names() -> None:
    name = data.numeric_feature()
    marker = 987654

    def declare(raw: dict[str, Any]) -> None:
        raw["columns"][name].update(missing_values=[marker])
        raw["columns"][name].pop("max", None)

    raw = committed_params()
    declare(raw["data"])
    spec = features.FeatureSpec.from_data_config(config.parse_params(raw).data)
    parsed = adapter(declare).validate_python([data.valid_record(**{name: marker})])
    columns = request_schema.records_columns(parsed, spec)
    assert list(columns) == spec.names
    values = features.preprocess(columns, spec)[:, spec.names.index(name)]
    assert np.isnan(values).all()  # the marker means missing


def _with_id(raw: dict[str, Any]) -> None:
    """Declare an id column `record no` (a string; never a feature)."""
    raw["columns"]["record no"] = {"dtype": "string", "role": "id"}


def test_id_columns_are_optional_keys_carried_beside_the_features() -> None:
    raw = committed_params()
    _with_id(raw["data"])
    data_config = config.parse_params(raw).data
    spec = features.FeatureSpec.from_data_config(data_config)
    with_id, without = data.valid_record(**{"record no": "A-1"}), data.valid_record()
    parsed = adapter(_with_id).validate_python([with_id, without])
    assert parsed == [with_id, without]
    found = errors(adapter(_with_id), [data.valid_record(**{"record no": [1]})])
    assert [e["loc"][1] for e in found] == ["record no"] * len(found)
    # As the service reads them: schema rows and fast rows end with the id values.
    settings = config.parse_params(raw).serve
    decoder = module("serving.http.fast_decoding").RowDecoder(data_config, spec, 10)
    check = module("serving.http.request_check").RequestCheck(data_config, spec, settings, decoder)
    body = json.dumps({"records": [with_id, without]}).encode()
    rows = check.rows(body)
    ids = data_config.id_columns  # the configured data's, if any, and `record no`
    assert rows == [(*(r[n] for n in spec.names), *(r.get(i) for i in ids)) for r in parsed]
    fast = decoder.decode(json.dumps({"records": [without]}).encode())
    assert fast == [(*(without[n] for n in spec.names), *(None for _ in ids))]
    for given in (rows, parsed):
        columns = request_schema.records_columns(given, spec)
        assert list(columns) == spec.names
        assert columns[spec.names[0]] == [with_id[spec.names[0]], without[spec.names[0]]]
        found = request_schema.records_ids(given, spec, ids)
        assert found["record no"] == ["A-1", None]


def test_inference_log_carries_the_id_columns(tmp_path) -> None:
    settings = config.InferenceLogConfig(
        enabled=True, directory=str(tmp_path), rotate_rows=10, keep_files=2
    )
    log = inference_log.InferenceLog(settings)
    inputs = pd.DataFrame({"age": [30, 40, 50]})
    log.append(inputs, np.array([0.1, 0.9, 0.4]), ["no", "yes", "no"], {"id": ["a", None, "c"]})
    log.flush()
    (path,) = tmp_path.glob("*.parquet")
    logged, outputs = pd.read_parquet(path), pd.read_parquet(tmp_path / "outputs" / path.name)
    assert logged.to_dict("list") == {"age": [30, 40, 50], "id": ["a", None, "c"]}
    assert list(outputs.columns) == ["id", "time", "score", "label"]
    assert outputs["id"].tolist() == ["a", None, "c"]
    assert outputs["label"].tolist() == ["no", "yes", "no"]


def test_serve_config_requires_batches_to_hold_a_request() -> None:
    raw = committed_params()
    raw["serve"]["max_batch_size"] = raw["serve"]["max_records"] - 1
    with pytest.raises(module("errors").PipelineError, match="max_batch_size"):
        config.parse_params(raw)


def test_serve_config_requires_the_batching_wait_below_the_timeout() -> None:
    raw = committed_params()
    raw["serve"]["max_latency_ms"] = raw["serve"]["timeout_s"] * 1000
    with pytest.raises(module("errors").PipelineError, match=r"max_latency_ms.*timeout_s"):
        config.parse_params(raw)


def test_inference_log_rotates_and_keeps_the_newest(tmp_path) -> None:
    settings = config.InferenceLogConfig(
        enabled=True, directory=str(tmp_path), rotate_rows=2, keep_files=2
    )
    log = inference_log.InferenceLog(settings)
    for batch in range(4):
        inputs = pd.DataFrame({"age": [30 + batch, 40 + batch], "job": ["technician", None]})
        log.append(inputs, pd.Series([0.1, 0.9]).to_numpy(), ["no", "yes"])
    log.flush()
    files = sorted(tmp_path.glob("*.parquet"))
    assert len(files) == 2  # four files of 2 rows written, the newest 2 kept
    assert len(list((tmp_path / "outputs").glob("*.parquet"))) == 2
    for path in files:
        inputs = pd.read_parquet(path)
        outputs = pd.read_parquet(tmp_path / "outputs" / path.name)
        assert list(inputs.columns) == ["age", "job"]
        assert list(outputs.columns) == ["time", "score", "label"]
        assert len(inputs) == len(outputs)
    assert pd.read_parquet(files[-1])["age"].tolist() == [33, 43]


@pytest.mark.integration  # starts a fresh interpreter
def test_each_service_instance_gets_its_own_prometheus_folder(tmp_path) -> None:
    """Two services of one BENTOML_HOME never share (or wipe) each other's metric files."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from helpers import PACKAGE

    code = (
        f"from {PACKAGE}.serving.http import prometheus\n"
        "from bentoml.serving import ensure_prometheus_dir\n"
        "print(prometheus.own_multiprocess_folder('model'), ensure_prometheus_dir())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["BENTOML_HOME"] = str(tmp_path)
    folders = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        own, used = done.stdout.split()
        assert own == used
        assert not own.startswith(str(tmp_path))
        assert not Path(own).exists()  # removed when the instance exits
        folders.append(own)
    assert folders[0] != folders[1]
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)  # a worker's, or the user's choice
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path), str(tmp_path)]
