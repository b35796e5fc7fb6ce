"""Units of the service that need no trained model: request schema, rejections, inference log."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from helpers import committed_params, module, sample_record

config = module("settings.params")
features = module("model.features")
request_schema = module("serving.request_schema")
inference_log = module("serving.inference_log")
monitoring = module("serving.prometheus")


@pytest.fixture(scope="module")
def records() -> TypeAdapter:
    params = config.parse_params(committed_params())
    spec = features.FeatureSpec.from_data_config(params.data)
    return TypeAdapter(list[request_schema.record_model(params.data, spec)])


def valid_record() -> dict:
    return sample_record(job="technician", education="university.degree")


def errors(records: TypeAdapter, payload: list) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        records.validate_python(payload)
    return caught.value.errors()


def test_a_valid_record_passes_with_categories_normalised(records: TypeAdapter) -> None:
    parsed = records.validate_python([{**valid_record(), "job": " Technician "}])
    assert parsed[0]["job"] == "technician"
    assert parsed[0]["emp.var.rate"] == 1.1


@pytest.mark.parametrize(
    ("change", "field", "error_type"),
    [
        ({"job": "astronaut"}, "job", "literal_error"),
        ({"age": "41"}, "age", "int_type"),
        ({"age": 41.5}, "age", "int_type"),
        ({"age": None}, "age", "int_type"),
        ({"age": 12}, "age", "greater_than_equal"),
        ({"euribor3m": math.nan}, "euribor3m", "finite_number"),
        ({"cons.conf.idx": 1e300}, "cons.conf.idx", "less_than_equal"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
    ],
)
def test_bad_values_name_the_field(
    records: TypeAdapter, change: dict, field: str, error_type: str
) -> None:
    found = errors(records, [{**valid_record(), **change}])
    assert any(e["loc"][1] == field and e["type"] == error_type for e in found), found
    body = json.dumps({"detail": [{"type": error_type}]}).encode()
    reason = monitoring.rejection_reason(400, body)
    assert reason != "invalid"


def test_a_missing_field_is_named(records: TypeAdapter) -> None:
    record = valid_record()
    del record["pdays"]
    assert [(e["loc"][1], e["type"]) for e in errors(records, [record])] == [("pdays", "missing")]


def test_nullable_columns_accept_null(records: TypeAdapter) -> None:
    parsed = records.validate_python([{**valid_record(), "job": None, "pdays": None}])
    assert parsed[0]["job"] is None


def test_records_columns_keep_the_data_column_names(records: TypeAdapter) -> None:
    params = config.parse_params(committed_params())
    spec = features.FeatureSpec.from_data_config(params.data)
    columns = request_schema.records_columns(records.validate_python([valid_record()]), spec)
    assert list(columns) == spec.names
    pdays = features.preprocess(columns, spec)[:, spec.names.index("pdays")]
    assert np.isnan(pdays).all()  # 999 means missing


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


def test_each_service_instance_gets_its_own_prometheus_folder(tmp_path) -> None:
    """Two services of one BENTOML_HOME never share (or wipe) each other's metric files."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from helpers import PACKAGE

    code = (
        f"from {PACKAGE}.serving import prometheus\n"
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
