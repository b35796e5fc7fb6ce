"""Stage `package`: the evaluated model as a BentoML model file (`models/service.bentomodel`).

The file holds the model, its metadata, the test metrics, the gate verdict, the model card
(`model_card.md` / `.json`, served at `GET /card`) and the `serve` settings, so the service
image carries exactly what the pull request evaluated. Its BentoML tag is
`<package>:<model md5>`. The stage writes through a private, temporary model store:
your own BentoML store is only touched by `make bento` / `make serve` (they import the file).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..artifacts.hashing import md5_file
from ..compat import temporary_bentoml_model_store
from ..errors import PipelineError
from ..model.files import decision_threshold, load_metadata
from ..model.metrics import HEADLINE_METRIC
from ..settings.command import run_stage
from ..settings.params import Params

log = logging.getLogger(__name__)


def model_tag(model_md5: str) -> str:
    """The BentoML tag of a packaged model."""
    return f"{paths.MODEL_NAME}:{model_md5}"


def service_info(params: Params, metadata: dict[str, Any]) -> dict[str, Any]:
    """What the service reports at /metadata and needs besides the model (limits, threshold)."""
    evaluation = _read_json(paths.EVALUATE_METRICS)
    gate = _read_json(paths.GATE_FILE)
    if evaluation.get("model_md5") != metadata["model_md5"]:
        raise PipelineError(
            f"{paths.EVALUATE_METRICS} describes model {evaluation.get('model_md5')}, not "
            f"{metadata['model_md5']}: run the evaluate stage first (`dvc repro`)"
        )
    return {
        "model_name": paths.MODEL_NAME,
        "model_version": metadata["model_md5"],
        "model_md5": metadata["model_md5"],
        "package_version": metadata.get("package_version"),
        "training_data_md5": metadata.get("training_data_md5"),
        "task": metadata["feature_spec"].get("task", "binary"),
        "threshold": decision_threshold(metadata),
        "test_metrics": {
            "confidence_level": evaluation.get("confidence_level"),
            "test_rows": evaluation.get("test_rows"),
            "metrics": evaluation["metrics"],
        },
        "gate": gate,
        "serve": params.serve.model_dump(mode="json"),
    }


def package(params: Params) -> dict[str, Any]:
    """Run the stage: write `models/service.bentomodel`."""
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")  # no usage statistics
    import bentoml

    info = service_info(params, load_metadata())
    tag = model_tag(info["model_md5"])
    for card in (paths.MODEL_CARD, paths.MODEL_CARD_JSON):
        if not card.is_file():
            raise PipelineError(f"{card} not found: run the card stage first (`dvc repro`)")
    labels = {
        "model_md5": info["model_md5"],
        "card_md5": md5_file(paths.MODEL_CARD),
        "gate": "passed" if info["gate"]["passed"] else "failed",
    }
    with tempfile.TemporaryDirectory() as scratch, staged_outputs() as staged:
        store = temporary_bentoml_model_store(scratch)
        with bentoml.models.create(
            tag, labels=labels, metadata=_headline(info), _model_store=store
        ) as saved:
            shutil.copyfile(paths.MODEL_FILE, Path(saved.path) / paths.MODEL_FILE.name)
            shutil.copyfile(paths.METADATA_FILE, Path(saved.path) / paths.METADATA_FILE.name)
            (Path(saved.path) / paths.SERVICE_INFO).write_text(
                json.dumps(info, indent=2), encoding="utf-8"
            )
            for card in (paths.MODEL_CARD, paths.MODEL_CARD_JSON):  # served at GET /card
                shutil.copyfile(card, Path(saved.path) / card.name)
        target = staged.path(paths.BENTO_MODEL)
        target.unlink()
        bentoml.models.export_model(tag, str(target), _model_store=store)
    log.info("package: %s -> %s", tag, paths.BENTO_MODEL)
    return info


def _headline(info: dict[str, Any]) -> dict[str, float]:
    """The task's headline test metric, for the BentoML model's metadata."""
    name = HEADLINE_METRIC[info.get("task", "binary")]
    return {name: float(info["test_metrics"]["metrics"][name]["value"])}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PipelineError(f"{path} not found: run the evaluate stage first (`dvc repro`)")
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("package", __doc__ or "", package, argv)


if __name__ == "__main__":
    sys.exit(main())
