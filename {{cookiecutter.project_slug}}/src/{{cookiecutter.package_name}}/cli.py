"""Command line: `python -m <package> <command>`; each command is a module's `main`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "prepare": "prepare: validate, clean and split the raw data",
    "train": "train: cross-validate and fit the model",
    "evaluate": "evaluate: test metrics with intervals, plots data, quality gate",
    "gate": "gate: print the quality-gate verdict; exit 1 if it failed",
    "compose": "compose: compose conf/ into params.yaml (--check to verify it)",
    "report": "report: compare with a baseline git ref in reports/pr_report.md (--baseline REF)",
    "drift": "drift: the drift stage (test split against the training split)",
    "monitor": "monitor: check new batches for drift and performance (--all, --fail-on-alarm)",
    "incorporate": "incorporate: add a new batch to the training data (retraining pull request)",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args[0] not in COMMANDS:
        print(f"usage: python -m {__package__} <command> [options]\n\ncommands:")
        for text in COMMANDS.values():
            print(f"  {text}")
        return 0 if args and args[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f".{args[0]}", __package__)
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
