"""CI: is models/model.ubj the model the committed dvc.lock records (the one the review saw)?

    uv run --frozen python scripts/model_check.py [--ref REF]

Compares the md5 of models/model.ubj with the md5 that `dvc.lock` at REF (default HEAD) records
for it under the `train` stage. Prints one line and exits 0 when they agree, 1 otherwise.
pr.yml, main.yml and monitor.yml run it after training; run it yourself after `make run` and
committing dvc.lock.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

MODEL = "models/model.ubj"
MD5 = re.compile(r"[0-9a-f]{32}")


def locked_md5(lock_text: str) -> str:
    """The md5 that a dvc.lock's `train` stage records for the model, or "" when none."""
    stages = (yaml.safe_load(lock_text) or {}).get("stages") or {}
    outs = (stages.get("train") or {}).get("outs") or []
    return next((str(out.get("md5", "")) for out in outs if out.get("path") == MODEL), "")


def committed_lock(ref: str) -> str:
    """dvc.lock as committed at `ref` ("" when git has no such file there)."""
    shown = subprocess.run(
        ["git", "show", f"{ref}:dvc.lock"], capture_output=True, text=True, check=False
    )
    return shown.stdout if shown.returncode == 0 else ""


def file_md5(path: Path) -> str:
    """The md5 of a file's bytes, or "" when it does not exist."""
    if not path.is_file():
        return ""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(ref: str) -> tuple[bool, str]:
    """(whether the model on disk is the committed one, the line that says so)."""
    expected = locked_md5(committed_lock(ref))
    actual = file_md5(Path(MODEL))
    if not MD5.fullmatch(expected):
        return False, (
            f"model-check: the committed dvc.lock ({ref}) records no md5 (32 hex digits) for "
            f"{MODEL}: run the pipeline (make run) and commit dvc.lock"
        )
    if expected != actual:
        return False, (
            f"model-check: {MODEL} has md5 '{actual}' but the committed dvc.lock ({ref}) "
            f"records '{expected}': the model is not the one reviewed (run make run and commit "
            "dvc.lock)"
        )
    return True, f"model-check: {MODEL} md5 {actual} is the one the committed dvc.lock records"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit whose dvc.lock to trust")
    args = parser.parse_args(argv)
    same, line = check(args.ref)
    print(line)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
