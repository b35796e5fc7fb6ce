"""Saving and loading the model file and its metadata (what batch scoring and serving use).

XGBoost (and the scikit-learn it imports) and pandas (`features`) are imported by `load_model`
only: a reader of the metadata alone (the `package` stage) starts without them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..artifacts import paths
from ..artifacts.hashing import md5_file
from ..errors import PipelineError

if TYPE_CHECKING:
    import xgboost as xgb

    from .features import FeatureSpec


@dataclass(frozen=True)
class LoadedModel:
    """A booster with the metadata it was trained with."""

    booster: xgb.Booster
    spec: FeatureSpec
    metadata: dict[str, Any]

    @property
    def threshold(self) -> float | None:
        """The decision threshold saved with a binary model (positive when score >= it)."""
        return decision_threshold(self.metadata)


def decision_threshold(metadata: dict[str, Any]) -> float | None:
    """The decision threshold recorded in model metadata by the train stage (binary only)."""
    if metadata.get("feature_spec", {}).get("task", "binary") != "binary":
        return None
    try:
        return float(metadata["decision_threshold"]["value"])
    except (KeyError, TypeError, ValueError):
        raise PipelineError(
            "the model metadata has no decision threshold: re-run the train stage (`dvc repro`)"
        ) from None


def load_model(
    model_file: str | Path = paths.MODEL_FILE, metadata_file: str | Path = paths.METADATA_FILE
) -> LoadedModel:
    """Load the booster and metadata, checking that they belong together (md5)."""
    import xgboost as xgb

    from .features import FeatureSpec

    metadata = load_metadata(model_file, metadata_file)
    booster = xgb.Booster()
    booster.load_model(str(model_file))
    return LoadedModel(booster, FeatureSpec.from_dict(metadata["feature_spec"]), metadata)


def load_metadata(
    model_file: str | Path = paths.MODEL_FILE, metadata_file: str | Path = paths.METADATA_FILE
) -> dict[str, Any]:
    """The model's metadata, checked against the model file's md5 (the booster is not read)."""
    model_file, metadata_file = Path(model_file), Path(metadata_file)
    for path in (model_file, metadata_file):
        if not path.is_file():
            raise PipelineError(f"{path} not found: run the pipeline (`dvc exp run`) first")
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    actual = md5_file(model_file)
    if metadata.get("model_md5") != actual:
        raise PipelineError(
            f"{model_file} (md5 {actual}) is not the model described by {metadata_file} "
            f"(md5 {metadata.get('model_md5')}); re-run `dvc repro` or `dvc checkout`"
        )
    return metadata
