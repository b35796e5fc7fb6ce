"""Fixtures: a small workspace (a slice of the data and fast params) to run stages in, and one
real pipeline run (`pipeline_repo`) that the integration and serving tests share.

Everything is built from the configured data (`params.yaml`'s `data`); tests marked
`@pytest.mark.sample` check facts of the bundled sample and are skipped on other data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from helpers import ROOT, committed_params, module

SLICE_ROWS = 4000
# The suite's own key for `pii: hash` columns: tests never need (or see) the real secret.
TEST_PII_KEY = "generated-tests-pii-key-not-a-secret"


@pytest.fixture(scope="session", autouse=True)
def test_pii_key() -> Iterator[str]:
    """`<PACKAGE>_PII_KEY` set to `TEST_PII_KEY` for the session (stages and subprocesses)."""
    name, file_name = module("data.pii").key_variables()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name, TEST_PII_KEY)
        patch.delenv(file_name, raising=False)
        yield TEST_PII_KEY


# Fixtures that run the pipeline or DVC (here and in test modules): a test that uses one belongs
# to the integration lane.
INTEGRATION_FIXTURES = frozenset({"pipeline_repo", "dvc_project"})


@pytest.hookimpl(tryfirst=True)  # before `-m` selects, so `make test` deselects them
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use a pipeline run `integration`; skip the bundled sample's own
    tests, saying why, when the project uses other data."""
    import records

    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    if records.is_bundled_sample():
        return
    skip = pytest.mark.skip(
        reason=f"checks the bundled bank sample; {records.described()} is another data set"
    )
    for item in items:
        if item.get_closest_marker("sample") is not None:
            item.add_marker(skip)


def configured_data() -> tuple[Path, str]:
    """The data file the project is configured for (`data.path`) and its separator."""
    data = committed_params()["data"]
    return ROOT / data["path"], data.get("separator", ",")


@pytest.fixture(scope="session")
def sample_slice() -> pd.DataFrame:
    """About SLICE_ROWS rows of the configured data, evenly spaced (keeps the classes and the
    time spread; every row of a smaller file), as text."""
    path, separator = configured_data()
    if path.name.lower().endswith(".parquet"):
        frame = pd.read_parquet(path).astype("string").fillna("")
    else:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    step = max(1, len(frame) // SLICE_ROWS)
    return frame.iloc[::step].head(SLICE_ROWS).drop_duplicates().reset_index(drop=True)


def fast_params() -> dict[str, Any]:
    """The committed params, made quick: small data, few trees, 2 folds, 200 resamples."""
    params = committed_params()
    params["data"]["path"] = "data/raw/sample.csv"  # written with data.separator
    params["model"]["n_estimators"] = 60
    params["train"]["cv_folds"] = 2
    params["train"]["early_stopping_rounds"] = 10
    params["evaluate"]["bootstrap_resamples"] = 200
    return params


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_slice: pd.DataFrame
) -> Callable[..., Path]:
    """A directory with `data/raw/sample.csv` and a `params.yaml`; the test runs inside it.

    Call it with a frame to write instead of the slice, and/or a function editing the params.
    """
    monkeypatch.chdir(tmp_path)

    def make(
        frame: pd.DataFrame | None = None,
        edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> Path:
        params = fast_params()
        if edit:
            edit(params)
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        raw = tmp_path / "data" / "raw" / "sample.csv"
        raw.parent.mkdir(parents=True, exist_ok=True)
        (sample_slice if frame is None else frame).to_csv(
            raw, sep=params["data"].get("separator", ","), index=False
        )
        return tmp_path

    return make


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run DVC in `cwd`; fail the test with its output when it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory: pytest.TempPathFactory, sample_slice: pd.DataFrame) -> Path:
    """A scratch git repository where `dvc repro` ran the whole pipeline on the slice.

    Tests that change it (params, outputs) must say so; readers copy what they need first.
    """
    repo = tmp_path_factory.mktemp("pipeline")
    for name in ("dvc.yaml", ".dvcignore", "bentofile.yaml", "pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "deploy" / "image", repo / "deploy" / "image")  # the bento's Dockerfile
    (repo / ".dvc").mkdir()
    (repo / ".dvc" / "config").write_text(
        "[core]\n    analytics = false\n    check_update = false\n"
    )
    (repo / "params.yaml").write_text(yaml.safe_dump(fast_params(), sort_keys=False))
    (repo / "data" / "raw").mkdir(parents=True)
    separator = committed_params()["data"].get("separator", ",")
    sample_slice.to_csv(repo / "data" / "raw" / "sample.csv", sep=separator, index=False)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=repo, check=True)
    dvc(repo, "repro")
    return repo
