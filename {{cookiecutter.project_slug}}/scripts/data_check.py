"""CI: is the raw data that prepare read the data git records (not bytes planted on the remote)?

    uv run --frozen python scripts/data_check.py [--ref REF]

Compares `raw_md5` in reports/data.json (the md5 of what prepare read) with the md5 that git
records at REF (default HEAD) for params.yaml's `data.path`: the `md5` of the `.dvc` file that
tracks it (a file, or a directory whose `.dir` listing in the local DVC cache names it), or the
file's own bytes when git tracks it directly. Prints one line; exits 0 when they agree, 1
otherwise. main.yml runs it after rebuilding the pipeline, monitor.yml after its pull.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import yaml

DATA_REPORT = Path("reports/data.json")
CACHE = Path(".dvc/cache/files/md5")
MD5 = re.compile(r"[0-9a-f]{32}")
PREFIX = "data-check:"


class DataCheckError(Exception):
    """The recorded md5 cannot be found or read; the message says which file and key."""


def git_show(ref: str, path: str) -> bytes | None:
    shown = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


def raw_path(ref: str) -> str:
    params = yaml.safe_load(git_show(ref, "params.yaml") or b"") or {}
    path = (params.get("data") or {}).get("path")
    if not isinstance(path, str) or not path:
        raise DataCheckError(f"params.yaml ({ref}) has no data.path")
    return str(PurePosixPath(path))


def dir_entry_md5(dir_md5: str, relpath: str) -> str | None:
    """The md5 that a DVC directory listing (`<md5>.dir` in the local cache) gives `relpath`."""
    listing = CACHE / dir_md5[:2] / f"{dir_md5[2:]}.dir"
    if not listing.is_file():
        raise DataCheckError(f"{listing}: the directory listing {dir_md5} is not in the DVC cache")
    for entry in json.loads(listing.read_text(encoding="utf-8")):
        if entry.get("relpath") == relpath:
            return str(entry.get("md5", ""))
    return None


def recorded_md5(ref: str, path: str) -> tuple[str, str]:
    """(the md5 git records for `path` at `ref`, where it comes from)."""
    candidate = PurePosixPath(path)
    for tracked in (candidate, *candidate.parents):
        dvc_file = f"{tracked}.dvc"
        text = git_show(ref, dvc_file)
        if text is None or str(tracked) == ".":
            continue
        outs = (yaml.safe_load(text) or {}).get("outs") or []
        if len(outs) != 1 or not isinstance(outs[0], dict):
            raise DataCheckError(f"{dvc_file} ({ref}): expected one entry under outs")
        md5 = str(outs[0].get("md5", ""))
        if tracked == candidate:
            return md5, dvc_file
        found = dir_entry_md5(md5.removesuffix(".dir"), str(candidate.relative_to(tracked)))
        if found is None:
            raise DataCheckError(f"{dvc_file} ({ref}): its directory does not list {path}")
        return found, f"{dvc_file} (directory listing)"
    blob = git_show(ref, path)
    if blob is None:
        raise DataCheckError(f"{path} is neither in git nor tracked by a .dvc file at {ref}")
    return hashlib.md5(blob, usedforsecurity=False).hexdigest(), f"git ({ref})"


def check(ref: str) -> tuple[bool, str]:
    """(whether prepare read the recorded bytes, the line that says so)."""
    try:
        path = raw_path(ref)
        expected, source = recorded_md5(ref, path)
        if not DATA_REPORT.is_file():
            raise DataCheckError(f"{DATA_REPORT} not found: run the pipeline first")
        actual = json.loads(DATA_REPORT.read_text(encoding="utf-8")).get("raw_md5")
    except DataCheckError as error:
        return False, f"{PREFIX} {error}"
    if not MD5.fullmatch(str(actual or "")):
        return False, f"{PREFIX} {DATA_REPORT} has no raw_md5 (32 hex digits)"
    if actual != expected:
        return False, (
            f"{PREFIX} prepare read {path} with md5 '{actual}' but {source} records "
            f"'{expected}': the data is not the committed data (the remote served other bytes)"
        )
    return True, f"{PREFIX} {path} md5 {actual} is the one {source} records"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit whose records to trust")
    args = parser.parse_args(argv)
    same, line = check(args.ref)
    print(line)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
