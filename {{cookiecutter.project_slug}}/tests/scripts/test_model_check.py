"""scripts/model_check.py, run as CI runs it, in a real git repository."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "model_check.py"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
MODEL_BYTES = b"a model file's bytes"


def lock_text(md5: str | None) -> str:
    outs = [{"path": "models/metadata.json", "md5": "0" * 32}]
    if md5 is not None:
        outs.append({"path": "models/model.ubj", "md5": md5, "size": len(MODEL_BYTES)})
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": {"cmd": "x", "outs": outs}}})


def commit(repo: Path, lock: str, message: str) -> None:
    (repo / "dvc.lock").write_text(lock, encoding="utf-8")
    subprocess.run(["git", "add", "dvc.lock"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", message], cwd=repo, check=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.ubj").write_bytes(MODEL_BYTES)
    return tmp_path


def model_check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_the_model_that_the_committed_lock_records_passes(repo: Path) -> None:
    md5 = hashlib.md5(MODEL_BYTES).hexdigest()
    commit(repo, lock_text(md5), "reviewed")
    done = model_check(repo)
    assert done.returncode == 0
    assert done.stdout == (
        f"model-check: models/model.ubj md5 {md5} is the one the committed dvc.lock records\n"
    )


def test_another_model_fails_naming_both_md5(repo: Path) -> None:
    md5 = hashlib.md5(MODEL_BYTES).hexdigest()
    commit(repo, lock_text("deadbeef" * 4), "a lock that is not the model's")
    done = model_check(repo)
    assert done.returncode == 1
    assert (
        f"models/model.ubj has md5 '{md5}' but the committed dvc.lock (HEAD) records "
        f"'{'deadbeef' * 4}': the model is not the one reviewed" in done.stdout
    )


def test_the_ref_chooses_which_commit_is_trusted(repo: Path) -> None:
    md5 = hashlib.md5(MODEL_BYTES).hexdigest()
    commit(repo, lock_text(md5), "reviewed")
    commit(repo, lock_text("deadbeef" * 4), "later")
    assert model_check(repo).returncode == 1
    assert model_check(repo, "--ref", "HEAD~1").returncode == 0
    # The working tree's dvc.lock is not what is trusted: only the committed one.
    (repo / "dvc.lock").write_text(lock_text(md5), encoding="utf-8")
    assert model_check(repo).returncode == 1


@pytest.mark.parametrize("recorded", [None, "not-an-md5"])
def test_a_lock_without_the_models_md5_fails(repo: Path, recorded: str | None) -> None:
    commit(repo, lock_text(recorded), "no md5")
    done = model_check(repo)
    assert done.returncode == 1
    assert (
        "model-check: the committed dvc.lock (HEAD) records no md5 (32 hex digits) for "
        "models/model.ubj: run the pipeline (make run) and commit dvc.lock"
    ) in done.stdout


def test_no_committed_lock_or_no_model_fails(repo: Path) -> None:
    (repo / "README").write_text("x", encoding="utf-8")
    subprocess.run(["git", "add", "README"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "no lock"], cwd=repo, check=True)
    assert "records no md5" in model_check(repo).stdout
    commit(repo, lock_text(hashlib.md5(MODEL_BYTES).hexdigest()), "reviewed")
    (repo / "models" / "model.ubj").unlink()
    done = model_check(repo)
    assert done.returncode == 1
    assert "models/model.ubj has md5 '' but" in done.stdout
