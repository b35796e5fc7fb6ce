"""Run a DVC command so that a failed stage leaves its previous outputs in place.

DVC deletes a stage's outputs before it runs the stage's command, so a stage that fails leaves
nothing behind, even though each stage writes its outputs atomically (`artifacts/atomic.py`).
`python -m <package> keep <command ...>` (what `make run` and `make repro` use) first links
every output that `dvc.yaml` declares into `kept-outputs` in DVC's scratch folder `.dvc/tmp`
(hard links: no copy of the data, and a stage replaces a file by renaming a new one into place,
never by writing into it), runs the command, and then:
- on success, drops the links;
- on failure, puts back each declared output that is missing now (those of the failed stage,
  and of any stage that did not run), says which, and exits with the command's status. Outputs
  that stages before the failure wrote are newer than the kept ones and stay.
The put-back outputs are those recorded in `dvc.lock` for the failed stage, so `dvc status`
shows that stage as changed (its dependencies moved on), not as missing outputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import PipelineError

DVC_YAML = Path("dvc.yaml")
KEPT = Path(".dvc", "tmp", "kept-outputs")  # DVC ignores and git-ignores .dvc/tmp


def declared_outputs(dvc_yaml: Path = DVC_YAML) -> list[Path]:
    """Every path a stage of `dvc_yaml` writes (`outs`, `metrics`, `plots`), in file order."""
    if not dvc_yaml.is_file():
        raise PipelineError(f"{dvc_yaml} not found: run this in the project's root")
    pipeline = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}
    found: list[Path] = []
    for stage in (pipeline.get("stages") or {}).values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key) or []:
                path = Path(next(iter(entry)) if isinstance(entry, dict) else str(entry))
                if path not in found:
                    found.append(path)
    return found


def keep(outputs: Sequence[Path], folder: Path = KEPT) -> list[Path]:
    """Link each existing output (file or folder) under `folder`; return those kept."""
    if folder.exists():
        shutil.rmtree(folder)
    kept = []
    for output in outputs:
        if not output.exists():
            continue
        target = folder / output
        target.parent.mkdir(parents=True, exist_ok=True)
        if output.is_dir():
            shutil.copytree(output, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(output), str(target))
        kept.append(output)
    return kept


def put_back(kept: Sequence[Path], folder: Path = KEPT) -> list[Path]:
    """Move each kept output whose path is missing now back into place; return those moved."""
    moved = []
    for output in kept:
        if output.exists():
            continue
        output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / output, output)
        moved.append(output)
    return moved


def run_keeping_outputs(command: Sequence[str], folder: Path = KEPT) -> int:
    """Run `command`; on failure put missing declared outputs back. Return its exit status."""
    kept = keep(declared_outputs(), folder)
    status = subprocess.run(list(command), check=False).returncode
    if status != 0:
        moved = put_back(kept, folder)
        if moved:
            listed = "\n  ".join(str(p) for p in moved)
            print(
                f"keep: `{' '.join(command)}` failed (exit {status}); put back the previous "
                f"outputs DVC had removed:\n  {listed}",
                file=sys.stderr,
            )
    shutil.rmtree(folder, ignore_errors=True)
    return status


def _link_or_copy(source: str, target: str) -> Any:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: copy
        shutil.copy2(source, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if args else 2
    try:
        return run_keeping_outputs(args)
    except PipelineError as exc:
        print(f"error in keep: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
