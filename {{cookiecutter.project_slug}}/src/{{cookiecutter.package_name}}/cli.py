"""Command line: `python -m <package> <command>` dispatches to the `main` of one module.

Nothing in the package imports this module: each command's `main` runs through the shared
shell (`errors.guarded`, `settings.command.run_stage`), which prints a `PipelineError` as one
paragraph with exit status 1 instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from . import PACKAGE

# command -> (module relative to the package, one line of help)
COMMANDS = {
    "prepare": ("stages.prepare", "validate, clean and split the raw data"),
    "train": ("stages.train", "cross-validate and fit the model"),
    "evaluate": ("stages.evaluate", "test metrics with intervals, plots data, quality gate"),
    "drift": ("stages.drift", "the drift stage (test split against the training split)"),
    "card": ("stages.card", "write the model card (reports/model_card.md and .json)"),
    "package": ("stages.package", "write models/service.bentomodel (the model for the service)"),
    "tune": (
        "tuning.study",
        "hyper-parameter search: conf/experiment/tuned.yaml (--trials N --sampler tpe|random|grid)",
    ),
    "gate": ("model.gate", "print the quality-gate verdict; exit 1 if it failed"),
    "report": (
        "review.report",
        "compare with a baseline git ref in reports/pr_report.md (--baseline REF)",
    ),
    "compose": ("settings.compose", "compose conf/ into params.yaml (--check to verify it)"),
    "bento": ("serving.bento.build", "import the packaged model and build the service bento"),
    "image": ("serving.bento.image", "build the service image from the bento (--tag NAME:TAG)"),
    "predict": (
        "serving.batch",
        "batch scoring, --input FILE(.csv|.parquet) --output FILE.parquet",
    ),
    "monitor": ("drift.monitor", "check new batches for drift and performance (--all)"),
    "incorporate": ("data.incorporate", "add a new batch to the training data"),
    "data": ("data.init", "data init FILE --target COL: describe a data file and use it"),
    "example": ("data.example", "print a /predict request body from the data (--rows N)"),
    "registry": ("registry.command", "the model's versions and stages (git tags, GTO format)"),
    "deploy": ("registry.overlay", "deploy show|pin: the image digest each stage's overlay names"),
    "audit": ("registry.record", "write the pipeline run's audit record (reports/audit.json)"),
    "template": (
        "template_updates",
        "template update|check: take newer template commits (three-way merge) or check",
    ),
    "keep": (
        "artifacts.keep",
        "keep DVC-COMMAND...: run it; outputs DVC removed for a failed stage are put back",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args[0] not in COMMANDS:
        print(f"usage: python -m {PACKAGE} <command> [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name}: {text}")
        return 0 if args and args[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f".{COMMANDS[args[0]][0]}", PACKAGE)
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
