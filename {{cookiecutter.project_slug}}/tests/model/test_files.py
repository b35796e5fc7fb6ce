"""Model files: saved and loaded together, and refused when they do not belong together."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PACKAGE, ROOT, module

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
    with pytest.raises(errors.PipelineError, match="is not the model described by"):
        files.load_metadata(tmp_path / "model.ubj", tmp_path / "metadata.json")


def test_missing_files_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(errors.PipelineError, match="run the pipeline"):
        files.load_model(tmp_path / "model.ubj", tmp_path / "metadata.json")


def test_the_metadata_alone_is_read_without_xgboost(tmp_path: Path) -> None:
    """The `package` stage checks the model file's md5 against its metadata, never parses it."""
    model = tmp_path / "model.ubj"
    model.write_bytes(b"model bytes")
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"model_md5": hashlib.md5(b"model bytes").hexdigest()}))
    code = (
        "import sys\n"
        f"from {PACKAGE}.model import files\n"
        f"import {PACKAGE}.stages.package\n"
        f"metadata = files.load_metadata({str(model)!r}, {str(metadata)!r})\n"
        "print(metadata['model_md5'], [m for m in ('xgboost', 'sklearn', 'pandas') "
        "if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split(maxsplit=1) == [hashlib.md5(b"model bytes").hexdigest(), "[]\n"]
