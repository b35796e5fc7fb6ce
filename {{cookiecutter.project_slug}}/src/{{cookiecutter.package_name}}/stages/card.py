"""Stage `card`: the model card (`reports/model_card.md` and `.json`) from the pipeline's outputs.

Reads the model's metadata, the data report, the test metrics, the gate verdict, fairness,
attributions and drift, and `card` in params (conf/card/: what only you can say: intended and
out-of-scope use, known limitations). The lineage names the git commit the stage ran at
(and whether tracked files other than the pipeline's own outputs had uncommitted changes),
the data, params and model md5. `card.enabled: false` writes a one-line placeholder instead.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import PACKAGE
from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..artifacts.hashing import md5_file
from ..errors import PipelineError
from ..governance.card import CardInputs, build_card, render
from ..settings.command import run_stage
from ..settings.params import PARAMS_FILE, Params

log = logging.getLogger(__name__)
# The pipeline's own outputs: changed by running it, so not "uncommitted changes" of the code.
PIPELINE_OUTPUTS = ("dvc.lock", "metrics", "reports", "plots", "dvclive")


def card(params: Params) -> dict[str, Any]:
    """Run the stage: write the card as Markdown and JSON."""
    if not params.card.enabled:
        note = {"enabled": False, "note": "card.enabled is off: no model card was written"}
        with staged_outputs() as staged:
            staged.write_json(paths.MODEL_CARD_JSON, note)
            staged.write_text(paths.MODEL_CARD, f"# Model card\n\n_{note['note']}._\n")
        return note
    metadata = _read(paths.METADATA_FILE)
    evaluation = _read(paths.EVALUATE_METRICS)
    if evaluation.get("model_md5") != metadata.get("model_md5"):
        raise PipelineError(
            f"{paths.EVALUATE_METRICS} describes model {evaluation.get('model_md5')}, not "
            f"{metadata.get('model_md5')}: run the evaluate stage first (`dvc repro`)"
        )
    data_report = _read(paths.DATA_REPORT)
    inputs = CardInputs(
        params=params,
        metadata=metadata,
        objective=metadata.get("objective") or objective(),
        data_report=data_report,
        evaluation=evaluation,
        gate=_read(paths.GATE_FILE),
        fairness=_read(paths.FAIRNESS_REPORT, optional=True),
        attributions=_read(paths.ATTRIBUTIONS_REPORT, optional=True),
        drift=_read(paths.DRIFT_REPORT, optional=True),
        lineage={
            "model_name": PACKAGE,
            **git_state(),
            "data_md5": data_report.get("raw_md5"),
            "training_data_md5": metadata.get("training_data_md5"),
            "params_md5": md5_file(PARAMS_FILE) if PARAMS_FILE.is_file() else None,
            "model_md5": metadata["model_md5"],
            "image_digest": None,
        },
    )
    found = build_card(inputs)
    for key in ("intended_use", "out_of_scope_use"):
        if not found[key]:
            log.warning("card: card.%s is not filled in (conf/card/default.yaml)", key)
    with staged_outputs() as staged:
        staged.write_json(paths.MODEL_CARD_JSON, found)
        staged.write_text(paths.MODEL_CARD, render(found))
    log.info("card: %s and %s", paths.MODEL_CARD, paths.MODEL_CARD_JSON)
    return found


def objective() -> str:
    """The model's training objective, as XGBoost saved it in the model file.

    For models whose metadata does not record it (the train stage does, sparing this stage
    the import of XGBoost).
    """
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(paths.MODEL_FILE))
    return str(json.loads(booster.save_config())["learner"]["objective"]["name"])


def git_state() -> dict[str, Any]:
    """The commit the stage ran at, and whether code or configuration differed from it."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    excluded = [f":(exclude){p}" for p in PIPELINE_OUTPUTS]
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", *excluded)
    return {
        "git_commit": head.stdout.strip(),
        "git_dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }


def _read(path: Path, optional: bool = False) -> Any:
    if not path.is_file():
        if optional:
            return None
        raise PipelineError(f"{path} not found: run the pipeline before the card (`dvc repro`)")
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("card", __doc__ or "", card, argv)


if __name__ == "__main__":
    sys.exit(main())
