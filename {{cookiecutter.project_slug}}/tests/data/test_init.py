"""Command `data init`: a described file becomes the project's data, ready for `prepare`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import records
from helpers import ROOT, module

config = module("settings.params")
compose = module("settings.compose")
errors = module("errors")
init = module("data.init")
prepare = module("stages.prepare")

ROWS = 300


NAME = "churn_like"  # a name no project's own data config has


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """conf/, params.yaml and an incoming batch of the configured data, in a scratch directory."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    rows = records.data_table().head(20)
    records.write_table(rows, tmp_path / "data" / "incoming" / "2030-01.csv")
    (tmp_path / "data" / "incoming" / "README.md").write_text("batches\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def configured_name() -> str:
    """The data default in conf/config.yaml (the configured data's name)."""
    defaults = yaml.safe_load((ROOT / "conf" / "config.yaml").read_text())["defaults"]
    return next(item["data"] for item in defaults if isinstance(item, dict) and "data" in item)


def churn(tmp_path: Path) -> Path:
    """A churn-like table: an id, blanks in a number, a Yes/No target, odd names, a date."""
    rng = np.random.default_rng(1)
    tenure = rng.integers(0, 72, ROWS)
    frame = pd.DataFrame(
        {
            "customerID": [f"{i:04d}-AB" for i in range(ROWS)],
            "signup day": pd.date_range("2023-01-01", periods=ROWS, freq="D").strftime("%Y-%m-%d"),
            "Contract": rng.choice(["Month-to-month", "One year", "Two year"], ROWS),
            "tenure": tenure,
            "TotalCharges": [" " if t == 0 else f"{t * 20.5:.2f}" for t in tenure],
            "Größe.cm": rng.normal(170, 10, ROWS).round(1),
            "Churn": np.where(rng.random(ROWS) < 0.25, "Yes", "No"),
        }
    )
    path = tmp_path.parent / f"{tmp_path.name}-elsewhere" / "churn.csv"  # outside the project
    path.parent.mkdir(exist_ok=True)
    frame.to_csv(path, sep=";", index=False)
    return path


def test_init_writes_the_config_switches_to_it_and_prepare_accepts_the_data(project) -> None:
    source = churn(project)
    shutil.copy(source, project / "data/incoming/2031-01.csv")  # a batch of the new data
    lines = init.init(source, "Churn", name=NAME)
    text = (project / f"conf/data/{NAME}.yaml").read_text()
    assert text.count("  # ") >= 7  # a comment per column
    written = yaml.safe_load(text)
    assert written["positive_class"] == "Yes"
    assert written["columns"]["customerID"]["role"] == "id"
    assert written["columns"]["signup day"]["role"] == "timestamp"
    assert f"- data: {NAME}" in (project / "conf/config.yaml").read_text()
    params = config.load_params()
    assert params.data.path == "data/raw/churn.csv"
    assert Path("data/raw/churn.csv").read_bytes() == source.read_bytes()
    compose.check()  # params.yaml is the composition of conf/
    assert any("small enough for git" in line for line in lines)
    # The previous data's batch is moved aside, named; the new data's batch and README stay.
    previous = configured_name()
    assert [p.name for p in (project / "data/incoming" / previous).iterdir()] == ["2030-01.csv"]
    left = sorted(p.name for p in (project / "data/incoming").iterdir())
    assert left == sorted(["2031-01.csv", "README.md", previous])
    (said,) = [line for line in lines if line.startswith("moved 1 incoming batch")]
    assert f"belong to '{previous}'" in said
    assert f"data/incoming/{previous}/: 2030-01.csv" in said
    report = prepare.prepare(params)
    assert report["rows_out"] == ROWS
    train = pd.read_parquet("data/prepared/train.parquet")
    assert "customerID" not in train.columns
    assert set(params.data.feature_columns) == {"Contract", "tenure", "TotalCharges", "Größe.cm"}


def test_an_existing_config_is_kept_unless_forced(project) -> None:
    source = churn(project)
    init.init(source, "Churn", name=NAME)
    with pytest.raises(errors.PipelineError, match="exists"):
        init.init(source, "Churn", name=NAME)
    init.init(source, "Churn", name=NAME, force=True, positive_class="No")
    assert config.load_params().data.positive_class == "no"


@pytest.mark.integration  # runs `dvc init` and `dvc add`
def test_a_large_file_is_tracked_with_dvc(project) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], check=True)
    lines = init.init(churn(project), "Churn", name=NAME, dvc_above=1000)
    assert any("tracked data/raw/churn.csv with DVC" in line for line in lines)
    assert Path("data/raw/churn.csv.dvc").is_file()


def test_the_command_fails_with_a_message(project, capsys) -> None:
    status = init.main(["init", str(churn(project)), "--target", "nope", "--name", NAME])
    assert status == 1
    assert "--target 'nope' is not a column" in capsys.readouterr().err


def census(tmp_path: Path) -> Path:
    """A census-like table written with `, ` separators: names and values start with a space,
    the classes are capitalised (` <=50K`, ` >50K`)."""
    rng = np.random.default_rng(2)
    hours = rng.integers(10, 80, ROWS)
    work = rng.choice(["Private", "Self-emp", "Gov"], ROWS)
    income = np.where(hours + rng.normal(0, 15, ROWS) > 50, ">50K", "<=50K")
    rows = zip(range(ROWS), work, hours, income, strict=True)
    lines = ["age, workclass, hours per week, income"]
    lines += [f"{20 + i % 50}, {w}, {h}, {c}" for i, w, h, c in rows]
    path = tmp_path.parent / f"{tmp_path.name}-census" / "census.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_spaced_headers_are_read_stripped_and_classes_keep_their_spelling(project) -> None:
    source = census(project)
    init.init(source, " income", name=NAME)  # as the header spells it, or stripped: the same
    text = (project / f"conf/data/{NAME}.yaml").read_text()
    written = yaml.safe_load(text)
    assert list(written["columns"]) == ["age", "workclass", "hours per week", "income"]
    assert (written["separator"], written["target"]) == (",", "income")
    assert written["classes"] == ["<=50K", ">50K"]
    assert "written ' workclass' in the file" in text
    assert "written 'age'" not in text  # the spelling is recorded only where it differs
    params = config.load_params()
    assert params.data.class_labels == ("<=50K", ">50K")
    prepare.prepare(params)
    train = pd.read_parquet("data/prepared/train.parquet")
    assert list(train.columns) == ["age", "workclass", "hours per week", "income"]
    assert set(train["workclass"].astype(str)) == {"private", "self-emp", "gov"}
    assert pd.api.types.is_integer_dtype(train["hours per week"])  # read as numbers


def test_a_mistyped_target_gets_close_names(project, capsys) -> None:
    status = init.main(["init", str(census(project)), "--target", "incme", "--name", NAME])
    assert status == 1
    assert "did you mean 'income'?" in capsys.readouterr().err


def test_running_init_again_does_not_claim_a_switch(project) -> None:
    source = churn(project)
    init.init(source, "Churn", name=NAME)
    again = init.init(source, "Churn", name=NAME, force=True)
    assert f"conf/config.yaml's data default is {NAME} already" in again
    assert not [line for line in again if line.startswith("switched")]
