"""`keep`: a failed DVC stage leaves the previous outputs in place (real DVC, tiny pipeline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import PACKAGE, module

keep = module("artifacts.keep")

# Stage `first` writes a.txt; stage `second` copies it to b.txt and c/ when `fail` is 0,
# and fails when `fail` is 1. Both read `fail` from params.yaml.
PIPELINE = {
    "stages": {
        "first": {
            "cmd": "python -c \"open('a.txt', 'w').write(open('params.yaml').read())\"",
            "deps": ["params.yaml"],
            "outs": ["a.txt"],
        },
        "second": {
            "cmd": (
                "python -c \"import os, sys, yaml; f = yaml.safe_load(open('params.yaml'))['fail'];"
                " f and sys.exit('second failed');"
                " os.makedirs('c', exist_ok=True);"
                " open('c/x.txt', 'w').write(open('a.txt').read());"
                " open('b.json', 'w').write('{}')\""
            ),
            "deps": ["a.txt"],
            "params": ["fail"],
            "outs": ["c"],
            "metrics": [{"b.json": {"cache": False}}],
        },
    }
}


@pytest.fixture
def dvc_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], check=True)
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE), encoding="utf-8")
    (tmp_path / "params.yaml").write_text("fail: 0\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q"], check=True)
    (tmp_path / "params.yaml").write_text("fail: 1\n", encoding="utf-8")  # second now fails
    return tmp_path


def repro(*prefix: str) -> subprocess.CompletedProcess[str]:
    command = [*prefix, sys.executable, "-m", "dvc", "repro"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_dvc_alone_removes_a_failed_stages_outputs(dvc_project: Path) -> None:
    """The problem `keep` solves: without it, the previous outputs are gone."""
    assert repro().returncode != 0
    assert not (dvc_project / "c").exists()
    assert not (dvc_project / "b.json").exists()


def test_keep_puts_back_the_failed_stages_outputs(dvc_project: Path) -> None:
    result = repro(sys.executable, "-m", PACKAGE, "keep")
    assert result.returncode != 0
    assert "second failed" in result.stderr
    assert "put back the previous outputs" in result.stderr
    assert (dvc_project / "c" / "x.txt").read_text() == "fail: 0\n"  # the previous run's
    assert (dvc_project / "b.json").read_text() == "{}"
    # The stage that ran before the failure keeps its new output.
    assert (dvc_project / "a.txt").read_text() == "fail: 1\n"
    assert not keep.KEPT.exists()


def test_keep_on_success_changes_nothing_and_cleans_up(dvc_project: Path) -> None:
    (dvc_project / "params.yaml").write_text("fail: 0\n", encoding="utf-8")
    assert repro(sys.executable, "-m", PACKAGE, "keep").returncode == 0
    assert (dvc_project / "c" / "x.txt").read_text() == "fail: 0\n"
    assert not keep.KEPT.exists()


def test_declared_outputs_reads_outs_metrics_and_plots(tmp_path: Path) -> None:
    path = tmp_path / "dvc.yaml"
    path.write_text(yaml.safe_dump(PIPELINE), encoding="utf-8")
    assert keep.declared_outputs(path) == [Path("a.txt"), Path("c"), Path("b.json")]


def test_missing_dvc_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(module("errors").PipelineError, match=r"dvc\.yaml not found"):
        keep.declared_outputs(tmp_path / "dvc.yaml")
