"""What a baseline git ref recorded, and its model: git for files in git, DVC for the rest.

Parameters and metrics differences come from DVC's own JSON (`dvc params diff --json`,
`dvc metrics diff --json`). The baseline's model is read through `dvc.api` (local cache, then
the DVC remote); when neither has it, it can be reproduced in a temporary `git worktree` of the
baseline commit that shares this repository's DVC cache, so DVC's run cache restores every
stage that ran before instead of re-running it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..artifacts import paths
from ..errors import PipelineError
from ..model.files import LoadedModel, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineModel:
    """The baseline's model, or why there is none; `source` says where it came from."""

    model: LoadedModel | None
    source: str


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=check)


def resolve_ref(ref: str) -> str:
    """The commit of `ref`, or of `origin/<ref>` (CI checkouts have only remote branches)."""
    for candidate in (ref, f"origin/{ref}"):
        found = git("rev-parse", "--verify", "--quiet", candidate + "^{commit}", check=False)
        if found.returncode == 0:
            return found.stdout.strip()
    raise PipelineError(
        f"baseline '{ref}' is neither a commit nor a branch here (nor 'origin/{ref}'): "
        "fetch it (in CI: checkout with fetch-depth: 0) or pass --baseline <ref>"
    )


def show(commit: str, path: str | Path) -> str | None:
    """A file's content at `commit`, or None if it is not in git there."""
    found = git("show", f"{commit}:{Path(path).as_posix()}", check=False)
    return found.stdout if found.returncode == 0 else None


def show_json(commit: str, path: str | Path) -> Any:
    text = show(commit, path)
    return None if text is None else json.loads(text)


def dvc_json(commands: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """Run `dvc <command> --json` for each command (concurrently); the parsed outputs."""

    def one(command: Sequence[str]) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "dvc", *command, "--json"],
            capture_output=True, text=True, check=False, env=_dvc_env(),
        )  # fmt: skip
        if done.returncode != 0:
            raise PipelineError(f"`dvc {' '.join(command)} --json` failed:\n{done.stderr.strip()}")
        return json.loads(done.stdout or "{}")

    with ThreadPoolExecutor(max_workers=len(commands) or 1) as pool:
        return list(pool.map(one, commands))


def lock_hashes(lock_text: str | None) -> dict[str, str]:
    """{path: md5} of every dependency and output recorded in a dvc.lock text."""
    if not lock_text:
        return {}
    lock = yaml.safe_load(lock_text) or {}
    hashes = {}
    for stage in (lock.get("stages") or {}).values():
        for entry in [*(stage.get("deps") or []), *(stage.get("outs") or [])]:
            if "md5" in entry:
                hashes[entry["path"]] = entry["md5"]
    return hashes


def changed_files(commit: str) -> list[tuple[str, str]]:
    """(status, path) of files that differ between `commit` and the working tree."""
    done = git("diff", "--name-status", "--no-renames", commit, "--", ".")
    changes = []
    for line in done.stdout.splitlines():
        status, _, path = line.partition("\t")
        changes.append((status, path))
    untracked = git("ls-files", "--others", "--exclude-standard").stdout.splitlines()
    return sorted([*changes, *(("A", path) for path in untracked)], key=lambda c: c[1])


def same_stage(lock_a: str | None, lock_b: str | None, stage: str) -> bool:
    """Whether `stage` ran with the same command, dependencies and parameters in both locks."""

    def inputs(text: str | None) -> Any:
        entry = ((yaml.safe_load(text) if text else None) or {}).get("stages", {}).get(stage)
        if not entry:
            return None
        deps = sorted((d["path"], d.get("md5")) for d in entry.get("deps") or [])
        return entry.get("cmd"), deps, entry.get("params")

    found = inputs(lock_a)
    return found is not None and found == inputs(lock_b)


def baseline_model(
    commit: str, reproduce: bool, use_dvc: bool = True, same_training: bool = False
) -> BaselineModel:
    """The baseline's model: this tree's when training is the same, from the DVC cache or
    remote, else reproduced, else None.

    `same_training`: the `train` stage had the same inputs on both sides (dvc.lock), so the
    deterministic pipeline made the same model: the one in this working tree is used.
    `use_dvc=False` skips DVC's cache and remote (no credentials: a fork's pull request).
    """
    if same_training:
        return BaselineModel(
            load_model(), "this tree's (its `train` stage had the same inputs in dvc.lock)"
        )
    reason = "no access to the DVC remote in this run"
    if use_dvc:
        try:
            return BaselineModel(_read_model(commit), "restored from the DVC cache / remote")
        except Exception as exc:  # dvc.api raises many types: missing file, no remote, no access
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.info("baseline model not in the DVC cache or remote (%s)", reason)
    if not reproduce:
        return BaselineModel(None, f"not available ({reason}); reproduce_baseline is off")
    try:
        return BaselineModel(_reproduce(commit), "reproduced from its commit (dvc repro train)")
    except PipelineError as exc:
        return BaselineModel(None, f"not available: reproducing it failed: {exc}")


def _read_model(commit: str) -> LoadedModel:
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(".", rev=commit)  # one repository view for both files
    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for path in (paths.MODEL_FILE, paths.METADATA_FILE):
            target = Path(scratch) / path.name
            target.write_bytes(fs.read_bytes(path.as_posix()))
            files[path.name] = target
        return load_model(files[paths.MODEL_FILE.name], files[paths.METADATA_FILE.name])


def _reproduce(commit: str) -> LoadedModel:
    """`dvc repro train` of `commit` in a temporary worktree sharing this DVC cache."""
    cache = Path(".dvc/cache").resolve()
    with tempfile.TemporaryDirectory(prefix="baseline-") as scratch:
        tree = Path(scratch) / "tree"
        added = git("worktree", "add", "--detach", "--quiet", str(tree), commit, check=False)
        if added.returncode != 0:
            raise PipelineError(f"git worktree add failed: {added.stderr.strip()}")
        try:
            env = _dvc_env()
            # The baseline's own code, run by this environment's interpreter.
            env["PYTHONPATH"] = str(tree / "src")
            env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
            for command in (["config", "--local", "cache.dir", str(cache)], ["repro", "train"]):
                done = subprocess.run(
                    [sys.executable, "-m", "dvc", *command],
                    cwd=tree, env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                for line in done.stdout.splitlines():
                    if "stage" in line.lower():
                        log.info("baseline %s: %s", commit[:12], line.strip())
                if done.returncode != 0:
                    tail = (done.stderr or done.stdout).strip()[-1500:]
                    raise PipelineError(
                        f"`dvc {' '.join(command)}` exited {done.returncode}: {tail}"
                    )
            return load_model(tree / paths.MODEL_FILE, tree / paths.METADATA_FILE)
        finally:
            git("worktree", "remove", "--force", str(tree), check=False)
            git("worktree", "prune", check=False)


def _dvc_env() -> dict[str, str]:
    return {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_PAGER": "cat"}
