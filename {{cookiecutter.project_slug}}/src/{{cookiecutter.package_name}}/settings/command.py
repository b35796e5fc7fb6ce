"""The shell every stage shares: parse `--params`, load and validate them, run the stage body."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import PACKAGE
from ..errors import guarded
from .params import PARAMS_FILE, load_params


def run_stage(
    name: str,
    description: str,
    body: Callable[..., None],
    argv: Sequence[str] | None = None,
) -> int:
    """Run a stage body on validated params; return the process exit status."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} {name}", description=description)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file")
    args = parser.parse_args(argv)
    return guarded(lambda: body(load_params(args.params)), name)
