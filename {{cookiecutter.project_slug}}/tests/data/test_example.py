"""`example`: request bodies built from the configured data fit the service's schema."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter

from helpers import ROOT, committed_params, module

params_module = module("settings.params")
example = module("data.example")
features = module("model.features")
request_schema = module("serving.http.request_schema")
errors = module("errors")


def test_records_have_exactly_the_features_and_pass_the_request_schema(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # data.path is relative to the project
    data = params_module.parse_params(committed_params()).data
    records = example.example_records(data, rows=3)
    assert len(records) == 3
    assert all(list(r) == data.feature_columns for r in records)
    assert all(v is not None for r in records for v in r.values())
    spec = features.FeatureSpec.from_data_config(data)
    adapter = TypeAdapter(list[request_schema.record_model(data, spec)])
    validated = adapter.validate_python(records)
    matrix = features.preprocess(request_schema.records_columns(validated, spec), spec)
    assert matrix.shape == (3, len(spec.features))


def test_the_command_prints_a_request_body(monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    assert module("cli").main(["example", "--rows", "2"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert list(body) == ["records"]
    assert len(body["records"]) == 2


def test_a_missing_feature_column_is_named(tmp_path) -> None:
    data = params_module.parse_params(committed_params()).data
    source = tmp_path / "short.csv"
    source.write_text("a,b\n1,2\n")
    short = data.model_copy(update={"path": str(source), "separator": ","})
    with pytest.raises(errors.PipelineError, match="lacks feature column"):
        example.example_records(short)
