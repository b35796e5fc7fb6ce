"""Promotion: merging a pull request puts exactly the model evaluated in it into the image.

A real git repository with a real local DVC remote (a directory): pr.yml runs under act on a
branch that changes a hyper-parameter (pushing its run cache), `main` is fast-forwarded to the
branch, and main.yml runs under act for the push. Docker is a strict stand-in that checks the
build arguments and that the Dockerfile exists.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from serving_support import DEFAULT_PACKAGE, clone_project, run, uv_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from harness import pull_request_event, run_workflow

OWNER_REPO = "example-owner/term-deposit-model"
pytestmark = pytest.mark.e2e  # two workflow runs under act, with training in both (minutes)


def push_event(sha: str) -> dict:
    return {
        "ref": "refs/heads/main",
        "after": sha,
        "repository": {"full_name": OWNER_REPO, "default_branch": "main"},
        "pusher": {"name": "maintainer"},
    }


@pytest.fixture(scope="module")
def promoted(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("promotion")
    project = clone_project(pipeline_project, root / "project")
    uv_run(project, "dvc", "remote", "add", "-d", "storage", str(root / "dvc-remote"))
    uv_run(project, "dvc", "push", "--run-cache", "--quiet")
    run(["git", "commit", "-qam", "Store data, models and the run cache in a DVC remote"], project)
    run(["git", "checkout", "-q", "-b", "tune"], project)
    model = project / "conf" / "model" / "xgboost.yaml"
    model.write_text(model.read_text().replace("max_depth: 5", "max_depth: 4", 1))
    train = project / "conf" / "train" / "default.yaml"
    train.write_text(train.read_text().replace("cv_folds: 5", "cv_folds: 0", 1))
    uv_run(project, "python", "-m", DEFAULT_PACKAGE, "compose")  # as `make params` does
    run(["git", "commit", "-qam", "Shallower trees"], project)

    env = {"BENTOML_HOME": str(root / "bentoml-home"), "BENTOML_DO_NOT_TRACK": "True"}
    pr = run_workflow(
        project,
        "pr.yml",
        "pull_request",
        pull_request_event(3, "tune"),
        work_dir=root / "act-pr",
        env=env,
        repository=OWNER_REPO,
    )
    assert pr.jobs == {"experiment": "success"}, pr.summary()

    run(["git", "checkout", "-q", "main"], project)
    run(["git", "merge", "-q", "--ff-only", "tune"], project)
    sha = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    docker_log = root / "docker-calls.jsonl"
    main = run_workflow(
        project,
        "main.yml",
        "push",
        push_event(sha),
        work_dir=root / "act-main",
        repository=OWNER_REPO,
        env={**env, "STANDIN_DOCKER_LOG": str(docker_log)},
    )
    calls = (
        [json.loads(line) for line in docker_log.read_text().splitlines()]
        if (docker_log.exists())
        else []
    )
    return {"pr": pr, "main": main, "sha": sha, "docker": calls, "project": project}


def packaged_md5(log: str) -> list[str]:
    return re.findall(r"package: \w+:([0-9a-f]{32}) -> models/service\.bentomodel", log)


def test_main_publishes_the_model_evaluated_in_the_pull_request(promoted: dict) -> None:
    pr, main = promoted["pr"], promoted["main"]
    assert main.jobs == {"publish": "success"}, main.summary()
    pr_md5 = packaged_md5(pr.log("experiment"))
    assert len(pr_md5) == 1, pr.log("experiment")[-3000:]
    main_log = main.log("publish")
    # The package stage is restored from the run cache the pull request pushed, not re-run.
    assert "Stage 'package' is cached - skipping run" in main_log, main_log[-5000:]
    assert packaged_md5(main_log) == [], "the package stage was re-run on main"
    builds = [c for c in promoted["docker"] if c["command"] == "buildx build"]
    assert len(builds) == 1, promoted["docker"]
    assert builds[0]["labels"]["io.github.model.md5"] == pr_md5[0]
    assert re.search(rf"model \w+:{pr_md5[0]}; build context", main_log)


def test_main_restores_the_train_stage_instead_of_retraining(promoted: dict) -> None:
    main_log = promoted["main"].log("publish")
    assert "Running stage 'train'" not in main_log
    assert re.search(r"Stage 'train' is cached - skipping run", main_log)


def test_the_image_is_tagged_labelled_pushed_and_non_root(promoted: dict) -> None:
    build = next(c for c in promoted["docker"] if c["command"] == "buildx build")
    settings = dict(
        line.split("=", 1)
        for line in (promoted["project"] / ".github" / "image.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    image = f"{settings['REGISTRY']}/{settings['IMAGE_NAME']}"
    assert build["tags"] == [f"{image}:{promoted['sha']}", f"{image}:latest"]
    assert build["push"] is True
    labels = build["labels"]
    assert labels["org.opencontainers.image.revision"] == promoted["sha"]
    assert labels["org.opencontainers.image.source"].endswith(OWNER_REPO)
    assert 0.5 < float(labels["io.github.model.roc_auc"]) < 1
    assert build["dockerfile_users"][-1] not in {"root", "0"}
    logins = [c for c in promoted["docker"] if c["command"] == "login"]
    assert [(c["registry"], bool(c["username"])) for c in logins] == [("ghcr.io", True)]
    push = promoted["main"].step(
        "publish", "Build and push the image (tags - the commit SHA and latest)"
    )
    assert push.result == "success"


def test_main_workflow_is_least_privilege_and_pinned(promoted: dict) -> None:
    workflow = yaml.safe_load(
        (promoted["project"] / ".github" / "workflows" / "main.yml").read_text()
    )
    assert workflow["permissions"] == {}
    assert workflow[True]["push"]["branches"] == ["main"]  # `on:` parses as True
    job = workflow["jobs"]["publish"]
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    for step in job["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        assert "${{ github.event" not in step.get("run", "")
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False
