"""Compose `conf/` into `params.yaml` exactly as `dvc exp run` does (DVC's own function)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from ..errors import PipelineError
from .params import PARAMS_FILE, parse_params

CONFIG_DIR = Path("conf")


def compose(output: Path, overrides: Sequence[str] = (), config_dir: Path = CONFIG_DIR) -> None:
    """Write the composition of `config_dir` (with Hydra overrides) to `output`, validated."""
    from dvc.utils.hydra import compose_and_dump
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / "params.yaml"
        try:
            compose_and_dump(
                candidate,
                str(config_dir.resolve()),
                None,
                "config",
                str(Path.cwd()),
                list(overrides),
            )
        except (HydraException, OmegaConfBaseException) as exc:
            raise PipelineError(f"conf/ could not be composed: {exc}") from None
        # errors name conf/ (what the user edits), not the scratch file
        parse_params(yaml.safe_load(candidate.read_text(encoding="utf-8")), source="conf/")
        output.write_text(candidate.read_text(encoding="utf-8"), encoding="utf-8")


def check(params_file: Path = PARAMS_FILE) -> None:
    """Raise `PipelineError` unless `params_file` is exactly the composition of conf/."""
    with tempfile.TemporaryDirectory() as scratch:
        expected = Path(scratch) / "params.yaml"
        compose(expected)
        if not params_file.is_file() or params_file.read_text(
            encoding="utf-8"
        ) != expected.read_text(encoding="utf-8"):
            raise PipelineError(
                f"{params_file} is not the composition of conf/: run `make params` and commit it"
            )


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from ..errors import guarded

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check params.yaml is current")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model.max_depth=8")
    args = parser.parse_args(argv)
    if args.check:
        return guarded(check, "compose")
    return guarded(lambda: compose(PARAMS_FILE, args.overrides), "compose")


if __name__ == "__main__":
    sys.exit(main())
