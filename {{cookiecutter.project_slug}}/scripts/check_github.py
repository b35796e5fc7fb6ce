"""Check the GitHub settings the workflows' guarantees rely on (`make check-github`).

    uv run --frozen python scripts/check_github.py [--repo OWNER/REPO]

Reads the repository's settings with `gh api` (REST API version 2022-11-28; a token that can
read the repository's administration settings) and prints one line per missing setting,
exit 1 if any (docs/security.md says how to set each):
- the environments `registry`, `publish`, `retrain`, `dev`, `staging` and `prod` exist and
  deploy only from `main` (deployment branch policy: selected branches, exactly `main`); `prod`
  has required reviewers;
- an active tag ruleset covers `<model>@v*` and `<model>#*` (registry.model in params.yaml),
  restricts creation, update and deletion, and lets only GitHub Actions bypass it;
- `main` is protected: pull requests required (branch protection or an active branch ruleset),
  and no workflow token can give the approval: reviews from code owners required, or
  "Allow GitHub Actions to create and approve pull requests" off.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

MAIN_ONLY = ("registry", "publish", "retrain", "dev", "staging", "prod")
REVIEWED = ("prod",)
GITHUB_ACTIONS_APP = 15368  # the GitHub Actions app's id, the bypass actor of the tag ruleset
GITHUB_ACTIONS = ("Integration", GITHUB_ACTIONS_APP)
TAG_RULES = {"creation", "update", "deletion"}

Api = Callable[[str], Any]


class NotFoundError(Exception):
    """The API answered 404 for an endpoint."""


def gh_api(endpoint: str) -> Any:
    found = subprocess.run(["gh", "api", endpoint], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        if "HTTP 404" in found.stderr:
            raise NotFoundError(endpoint)
        raise SystemExit(f"check-github: gh api {endpoint} failed: {found.stderr.strip()}")
    return json.loads(found.stdout)


def environments(api: Api, repo: str) -> list[str]:
    """What is missing in the environments' deployment rules."""
    listed = api(f"repos/{repo}/environments?per_page=100").get("environments", [])
    by_name = {env["name"]: env for env in listed}
    missing = []
    for name in MAIN_ONLY:
        env = by_name.get(name)
        if env is None:
            missing.append(f"environment {name!r} does not exist (create it, main only)")
            continue
        policy = env.get("deployment_branch_policy") or {}
        branches: list[dict[str, Any]] = []
        if policy.get("custom_branch_policies"):
            branches = api(
                f"repos/{repo}/environments/{name}/deployment-branch-policies?per_page=100"
            ).get("branch_policies", [])
        allowed = sorted((b.get("type", "branch"), b["name"]) for b in branches)
        if allowed != [("branch", "main")]:
            every = "protected branches" if policy.get("protected_branches") else "any branch"
            shown = ", ".join(n for _, n in allowed) or every
            missing.append(
                f"environment {name!r} deploys from {shown}: restrict it to the branch main "
                "(Deployment branches and tags: Selected, main)"
            )
        rules = {rule.get("type") for rule in env.get("protection_rules", [])}
        if name in REVIEWED and "required_reviewers" not in rules:
            missing.append(f"environment {name!r} has no required reviewers")
    return missing


def tag_ruleset(api: Api, repo: str, model: str) -> list[str]:
    """What is missing in the tag ruleset that keeps registry tags to GitHub Actions."""
    wanted = {f"refs/tags/{model}@v*", f"refs/tags/{model}#*"}
    for summary in api(f"repos/{repo}/rulesets?per_page=100&includes_parents=true"):
        if summary.get("target") != "tag" or summary.get("enforcement") != "active":
            continue
        ruleset = api(f"repos/{repo}/rulesets/{summary['id']}")
        ref_name = (ruleset.get("conditions") or {}).get("ref_name") or {}
        included, excluded = set(ref_name.get("include", [])), set(ref_name.get("exclude", []))
        if not wanted <= included or wanted & excluded:
            continue
        found = []
        rules = {rule.get("type") for rule in ruleset.get("rules", [])}
        if not rules >= TAG_RULES:
            found.append(
                f"tag ruleset {ruleset.get('name')!r} does not restrict "
                f"{', '.join(sorted(TAG_RULES - rules))}"
            )
        others = [
            actor for actor in ruleset.get("bypass_actors", [])
            if (actor.get("actor_type"), actor.get("actor_id")) != GITHUB_ACTIONS
        ]  # fmt: skip
        if others:
            found.append(
                f"tag ruleset {ruleset.get('name')!r} lets others than GitHub Actions bypass it: "
                + ", ".join(f"{a.get('actor_type')} {a.get('actor_id')}" for a in others)
            )
        return found
    return [
        f"no active tag ruleset covers {' and '.join(sorted(wanted))} "
        "(restrict creations, updates and deletions; bypass: GitHub Actions only)"
    ]


def main_protected(api: Api, repo: str) -> list[str]:
    """What is missing for main's pull requests: required (branch protection or a ruleset), and
    approved by someone no workflow can act as (code owners required, or GitHub Actions not
    allowed to approve pull requests)."""
    required = code_owners = False
    try:
        reviews = api(f"repos/{repo}/branches/main/protection").get("required_pull_request_reviews")
        if reviews:
            required, code_owners = True, bool(reviews.get("require_code_owner_reviews"))
    except NotFoundError:
        pass
    for rule in api(f"repos/{repo}/rules/branches/main"):
        if rule.get("type") == "pull_request":
            required = True
            code_owners |= bool((rule.get("parameters") or {}).get("require_code_owner_review"))
    missing = []
    if not required:
        missing.append(
            "branch main does not require pull requests (branch protection or a ruleset)"
        )
    actions = api(f"repos/{repo}/actions/permissions/workflow")
    if not code_owners and actions.get("can_approve_pull_request_reviews") is not False:
        missing.append(
            "a workflow's token can approve pull requests to main: require review from Code "
            "Owners (and a CODEOWNERS file), or turn off Settings > Actions > General > "
            "'Allow GitHub Actions to create and approve pull requests'"
        )
    return missing


def check(api: Api, repo: str, model: str) -> list[str]:
    return environments(api, repo) + tag_ruleset(api, repo, model) + main_protected(api, repo)


def current_repo() -> str:
    found = subprocess.run(
        ["gh", "repo", "view", "--json", "nameWithOwner", "--jq", ".nameWithOwner"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        raise SystemExit(f"check-github: give --repo OWNER/REPO ({found.stderr.strip()})")
    return found.stdout.strip()


def main(argv: Sequence[str] | None = None, api: Api = gh_api) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", help="OWNER/REPO (default: this checkout's GitHub repository)")
    args = parser.parse_args(argv)
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8")) or {}
    model = (params.get("registry") or {}).get("model")
    if not model:
        print("check-github: params.yaml has no registry.model", file=sys.stderr)
        return 1
    repo = args.repo or current_repo()
    missing = check(api, repo, model)
    for line in missing:
        print(f"check-github: missing: {line}")
    if not missing:
        print(f"check-github: {repo}: environments, tag ruleset and main's protection are set")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
