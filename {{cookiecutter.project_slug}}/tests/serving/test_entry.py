"""`serving.entry`: `bentoml serve`'s main process gets a shell, without the model's libraries;
`serving.store`: which packaged model it serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PACKAGE, module
from served import import_model

store = module("serving.store")
MODEL_NAME = module("artifacts.paths").MODEL_NAME


@pytest.mark.integration  # starts a fresh interpreter
def test_the_main_process_gets_a_shell_with_the_options_and_no_model_libraries(
    pipeline_repo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    tag = import_model(pipeline_repo, home)
    code = (
        "import json, sys\n"
        f"from {PACKAGE}.serving import entry\n"
        "shell = entry.Service\n"
        "heavy = [m for m in ('xgboost', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print(json.dumps({'name': shell.name, 'apis': sorted(shell.apis), "
        "'workers': shell.config.get('workers'), 'traffic': shell.config.get('traffic'), "
        "'heavy': heavy}))\n"
    )
    env = {**os.environ, "BENTOML_HOME": str(home), "MODEL_TAG": tag}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shell = json.loads(done.stdout.splitlines()[-1])
    info = json.loads((pipeline_repo / "models" / "metadata.json").read_text())
    assert info["model_md5"] in tag
    settings = module("settings.params").load_params(pipeline_repo / "params.yaml").serve
    assert shell["heavy"] == [], "the main process imports the model's libraries"
    assert shell["apis"] == []
    assert shell["name"] == MODEL_NAME.replace("_", "-")
    assert shell["workers"] == settings.workers
    assert shell["traffic"]["timeout"] == settings.timeout_s


@pytest.mark.integration  # starts a fresh interpreter
def test_a_model_missing_from_the_store_is_explained(tmp_path: Path) -> None:
    code = f"from {PACKAGE}.serving import entry\nentry.Service\n"
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "empty")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "make bento" in done.stderr


def test_the_build_contexts_model_is_served_not_the_stores_latest(
    tmp_path: Path, monkeypatch
) -> None:
    """One BentoML store holds the models of every clone and branch with this package name:
    `make serve` must serve the one `make bento` assembled the context for, even when another
    was packaged after it (before: `<package>:latest`, the other one)."""
    context = tmp_path / "build" / "bento"
    context.mkdir(parents=True)
    ours = f"{MODEL_NAME}:{'a' * 32}"
    (context / "build_info.json").write_text(json.dumps({"model_tag": ours}))
    monkeypatch.delenv("MODEL_TAG", raising=False)
    monkeypatch.chdir(context)  # `bentoml serve --working-dir build/bento`
    assert store.model_tag() == ours
    monkeypatch.setenv("MODEL_TAG", f"{MODEL_NAME}:chosen")  # an explicit choice wins
    assert store.model_tag() == f"{MODEL_NAME}:chosen"


def test_without_a_build_context_the_latest_model_is_served(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MODEL_TAG", raising=False)
    monkeypatch.chdir(tmp_path)  # no build_info.json here, nor beside the package in src/
    assert store.model_tag() == f"{MODEL_NAME}:latest"
