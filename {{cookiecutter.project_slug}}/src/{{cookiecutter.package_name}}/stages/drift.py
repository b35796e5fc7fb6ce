"""Stage `drift`: the test split against the training split (the check the monitor reuses).

Writes the headline figures (`metrics/drift.json`, what `dvc metrics diff` compares), the whole
summary per column (`reports/drift.json`), its Markdown section and Evidently's HTML report.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..drift.check import run_check
from ..drift.summary import headline, markdown
from ..errors import PipelineError
from ..model.files import load_model
from ..settings.command import run_stage
from ..settings.params import Params

log = logging.getLogger(__name__)


def drift(params: Params) -> dict[str, Any]:
    """Run the stage: the test split against the training split; write JSON, Markdown, HTML."""
    model = load_model()
    frames = []
    for path in (paths.TRAIN_DATA, paths.TEST_DATA):
        if not path.is_file():
            raise PipelineError(f"{path} not found: run the prepare stage first")
        frames.append(pd.read_parquet(path))
    check = run_check(
        frames[0],
        frames[1],
        model,
        params.drift,
        params.seed,
        ("training split", "test split"),
        with_report=True,
    )
    with staged_outputs() as staged:
        staged.write_json(paths.DRIFT_METRICS, headline(check.summary))
        staged.write_json(paths.DRIFT_REPORT, check.summary)
        staged.write_text(paths.DRIFT_MARKDOWN, markdown(check.summary, "Verdict", level=0))
        check.save_html(staged.path(paths.DRIFT_HTML))
    summary = check.summary
    log.info(
        "drift: %d of %d columns drifted (dataset drift: %s); prediction drift: %s",
        summary["drifted_columns"],
        summary["columns"],
        summary["dataset_drift"],
        summary["prediction_drift"]["drifted"],
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("drift", __doc__ or "", drift, argv)


if __name__ == "__main__":
    sys.exit(main())
