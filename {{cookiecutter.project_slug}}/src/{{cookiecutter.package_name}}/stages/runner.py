"""The thin command-line shell shared by every stage: parse, run, report errors cleanly."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import PARAMS_FILE, Params, load_params
from .errors import PipelineError

log = logging.getLogger(__package__)


def run_stage(
    name: str,
    description: str,
    body: Callable[[Params], None],
    argv: Sequence[str] | None = None,
) -> int:
    """Run a stage body on validated params; return the process exit status."""
    parser = argparse.ArgumentParser(prog=f"{__package__}.{name}", description=description)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file")
    args = parser.parse_args(argv)
    return guarded(lambda: body(load_params(args.params)), name)


def guarded(action: Callable[[], object], name: str) -> int:
    """Call `action`; print a `PipelineError` as one paragraph and return 1 instead of raising."""
    configure_logging()
    try:
        action()
    except PipelineError as exc:
        print(f"error in {name}: {exc}", file=sys.stderr)
        return 1
    return 0


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
