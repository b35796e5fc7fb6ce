"""Model files: saved and loaded together, and refused when they do not belong together."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import module

files = module("model.files")
errors = module("errors")


def test_loads_the_pipelines_model_with_its_spec(pipeline_repo: Path) -> None:
    loaded = files.load_model(
        pipeline_repo / "models" / "model.ubj", pipeline_repo / "models" / "metadata.json"
    )
    metadata = json.loads((pipeline_repo / "models" / "metadata.json").read_text())
    assert loaded.spec.names == [f["name"] for f in metadata["feature_spec"]["features"]]
    assert loaded.booster.num_features() == len(loaded.spec.names)


def test_a_model_file_that_is_not_the_described_one_is_refused(
    pipeline_repo: Path, tmp_path: Path
) -> None:
    shutil.copy(pipeline_repo / "models" / "metadata.json", tmp_path / "metadata.json")
    (tmp_path / "model.ubj").write_bytes(
        (pipeline_repo / "models" / "model.ubj").read_bytes() + b" "
    )
    with pytest.raises(errors.PipelineError, match="is not the model described by"):
        files.load_model(tmp_path / "model.ubj", tmp_path / "metadata.json")


def test_missing_files_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(errors.PipelineError, match="run the pipeline"):
        files.load_model(tmp_path / "model.ubj", tmp_path / "metadata.json")
