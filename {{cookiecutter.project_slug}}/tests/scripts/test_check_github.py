"""scripts/check_github.py against a stand-in of GitHub's REST API answers (version 2022-11-28:
environments with `deployment_branch_policy` and `protection_rules`, deployment branch
policies, rulesets with `conditions.ref_name`, `rules` and `bypass_actors`, branch protection
(404 when none) and the rules that apply to a branch, the Actions workflow permissions with
`can_approve_pull_request_reviews`)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT

spec = importlib.util.spec_from_file_location("check_github", ROOT / "scripts/check_github.py")
assert spec is not None
assert spec.loader is not None
check_github = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_github)

REPO = "example-owner/example-model"
MODEL = "example-model"
BASE = f"repos/{REPO}"


def environment(name: str, main_only: bool = True, reviewers: bool = False) -> dict[str, Any]:
    policy = {"protected_branches": False, "custom_branch_policies": True} if main_only else None
    rules = [{"id": 1, "type": "required_reviewers", "reviewers": []}] if reviewers else []
    return {"id": hash(name) % 1000, "name": name, "deployment_branch_policy": policy,
            "protection_rules": rules}  # fmt: skip


def configured() -> dict[str, Any]:
    """Every setting docs/security.md asks for."""
    answers: dict[str, Any] = {
        f"{BASE}/environments?per_page=100": {"total_count": 6, "environments": [
            environment(n, reviewers=n == "prod") for n in check_github.MAIN_ONLY
        ] + [environment("dvc-remote", main_only=False)]},
        f"{BASE}/rulesets?per_page=100&includes_parents=true": [
            {"id": 7, "name": "registry tags", "target": "tag", "enforcement": "active"},
        ],
        f"{BASE}/rulesets/7": {
            "id": 7, "name": "registry tags", "target": "tag", "enforcement": "active",
            "conditions": {"ref_name": {"include": [f"refs/tags/{MODEL}@v*",
                                                    f"refs/tags/{MODEL}#*"], "exclude": []}},
            "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
            "bypass_actors": [{"actor_id": 15368, "actor_type": "Integration",
                               "bypass_mode": "always"}],
        },
        f"{BASE}/branches/main/protection": {"required_pull_request_reviews": {
            "required_approving_review_count": 1, "require_code_owner_reviews": False}},
        f"{BASE}/rules/branches/main": [],
        f"{BASE}/actions/permissions/workflow": {"default_workflow_permissions": "read",
                                                 "can_approve_pull_request_reviews": False},
    }  # fmt: skip
    for name in check_github.MAIN_ONLY:
        answers[f"{BASE}/environments/{name}/deployment-branch-policies?per_page=100"] = {
            "total_count": 1,
            "branch_policies": [{"id": 1, "name": "main", "type": "branch"}],
        }
    return answers


class Api:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def __call__(self, endpoint: str) -> Any:
        if endpoint not in self.answers:
            raise check_github.NotFoundError(endpoint)  # what `gh api` reports as HTTP 404
        return copy.deepcopy(self.answers[endpoint])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(f"registry:\n  model: {MODEL}\n", encoding="utf-8")
    return tmp_path


def test_a_repository_with_every_setting_passes(project: Path, capsys) -> None:
    assert check_github.main(["--repo", REPO], api=Api(configured())) == 0
    assert "environments, tag ruleset and main's protection are set" in capsys.readouterr().out


def test_githubs_defaults_are_each_named(project: Path, capsys) -> None:
    """New environments deploy from any branch; no ruleset; main unprotected."""
    answers = {
        f"{BASE}/environments?per_page=100": {"total_count": 4, "environments": [
            environment(n, main_only=False) for n in ("registry", "retrain", "dev", "prod")
        ]},
        f"{BASE}/rulesets?per_page=100&includes_parents=true": [],
        f"{BASE}/rules/branches/main": [],
        f"{BASE}/actions/permissions/workflow": {"default_workflow_permissions": "write",
                                                 "can_approve_pull_request_reviews": True},
    }  # fmt: skip
    assert check_github.main(["--repo", REPO], api=Api(answers)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "check-github: missing: environment 'registry' deploys from any branch: restrict it to "
        "the branch main (Deployment branches and tags: Selected, main)",
        "check-github: missing: environment 'publish' does not exist (create it, main only)",
        "check-github: missing: environment 'retrain' deploys from any branch: restrict it to "
        "the branch main (Deployment branches and tags: Selected, main)",
        "check-github: missing: environment 'dev' deploys from any branch: restrict it to "
        "the branch main (Deployment branches and tags: Selected, main)",
        "check-github: missing: environment 'staging' does not exist (create it, main only)",
        "check-github: missing: environment 'prod' deploys from any branch: restrict it to "
        "the branch main (Deployment branches and tags: Selected, main)",
        "check-github: missing: environment 'prod' has no required reviewers",
        f"check-github: missing: no active tag ruleset covers refs/tags/{MODEL}#* and "
        f"refs/tags/{MODEL}@v* (restrict creations, updates and deletions; bypass: GitHub "
        "Actions only)",
        "check-github: missing: branch main does not require pull requests (branch protection "
        "or a ruleset)",
        "check-github: missing: a workflow's token can approve pull requests to main: require "
        "review from Code Owners (and a CODEOWNERS file), or turn off Settings > Actions > "
        "General > 'Allow GitHub Actions to create and approve pull requests'",
    ]


def test_a_wildcard_branch_policy_and_a_loose_ruleset_are_named(project: Path, capsys) -> None:
    answers = configured()
    answers[f"{BASE}/environments/retrain/deployment-branch-policies?per_page=100"] = {
        "total_count": 2, "branch_policies": [{"id": 1, "name": "main", "type": "branch"},
                                              {"id": 2, "name": "*", "type": "branch"}]
    }  # fmt: skip
    ruleset = answers[f"{BASE}/rulesets/7"]
    ruleset["rules"] = [{"type": "deletion"}]
    ruleset["bypass_actors"].append({"actor_id": 5, "actor_type": "RepositoryRole"})
    del answers[f"{BASE}/branches/main/protection"]
    answers[f"{BASE}/rules/branches/main"] = [{"type": "pull_request", "ruleset_id": 9}]
    assert check_github.main(["--repo", REPO], api=Api(answers)) == 1
    out = capsys.readouterr().out
    assert "environment 'retrain' deploys from *, main: restrict it" in out
    assert "tag ruleset 'registry tags' does not restrict creation, update" in out
    assert "lets others than GitHub Actions bypass it: RepositoryRole 5" in out
    assert "does not require pull requests" not in out  # a branch ruleset requiring PRs counts


def test_the_model_name_is_required(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("registry: {}\n", encoding="utf-8")
    assert check_github.main(["--repo", REPO], api=Api({})) == 1
    assert "params.yaml has no registry.model" in capsys.readouterr().err


def test_approvals_a_workflow_could_give_are_named(project: Path, capsys) -> None:
    """The attack: with "Allow GitHub Actions to create and approve pull requests" on, a
    workflow pushed on any branch approves its author's pull request as github-actions[bot]."""
    answers = configured()
    answers[f"{BASE}/actions/permissions/workflow"]["can_approve_pull_request_reviews"] = True
    assert check_github.main(["--repo", REPO], api=Api(answers)) == 1
    assert "a workflow's token can approve pull requests to main" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["branch protection", "ruleset"])
def test_code_owner_reviews_make_a_workflow_s_approval_insufficient(
    project: Path, capsys, where: str
) -> None:
    answers = configured()
    answers[f"{BASE}/actions/permissions/workflow"]["can_approve_pull_request_reviews"] = True
    if where == "branch protection":
        reviews = answers[f"{BASE}/branches/main/protection"]["required_pull_request_reviews"]
        reviews["require_code_owner_reviews"] = True
    else:
        del answers[f"{BASE}/branches/main/protection"]
        answers[f"{BASE}/rules/branches/main"] = [{"type": "pull_request", "ruleset_id": 9,
            "parameters": {"require_code_owner_review": True,
                           "required_approving_review_count": 1}}]  # fmt: skip
    assert check_github.main(["--repo", REPO], api=Api(answers)) == 0, capsys.readouterr().out
