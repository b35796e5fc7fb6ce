"""The registry's promote workflow under act: promote a version to prod, roll back, refuse a
forged version, then promote to dev.

A default bake (no pipeline run: promotion runs none) in a real git repository with a bare
`origin`; two versions are published with the project's registry command (what main.yml's
`register` job pushes: `<model>@v<semver>` with the audit record as message), then
promote.yml runs twice for `prod`: v0.2.0, then v0.1.0 (the roll back). Docker is the strict
stand-in; `buildx imagetools create` must move `<image>:prod` to the version's digest. Each
promotion also writes the digest into deploy/overlays/<stage>/: prod as a branch and a pull
request (the strict `gh` stand-in, which refuses a head branch that is not on `origin`), dev as
a commit on `origin`'s main (v0.2.0, after the forged version was refused). The
strict `gh` stand-in answers `gh attestation verify` for the two versions' digests (attested by
main.yml from refs/heads/main at their commits).

The insider attack (issue 22): a writer builds and attests an image from a branch (same
workflow file, same owner), tags the branch commit `<model>@v9.9.9` naming that digest (even
with the bot as tagger) and promotes it to `dev`. promote.yml must refuse it, name what did not
verify, and write no tag; the promote.yml before issue 22 tagged it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from serving_support import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from harness import attested, github_api_env, run_workflow

pytestmark = pytest.mark.e2e  # a bake and two act runs (each `make setup`)
OWNER_REPO = "example-owner/term-deposit-model"
MODEL = "term-deposit-model"  # conf/registry/default.yaml of the default bake
PEEL = "^" + "{commit}"
DIGESTS = {"v0.1.0": "sha256:" + "1" * 64, "v0.2.0": "sha256:" + "2" * 64}
FORGED = "sha256:" + "f" * 64
BOT = {"GIT_COMMITTER_NAME": "github-actions[bot]",
       "GIT_COMMITTER_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com"}  # fmt: skip


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def tag_record(repository: Path, tag: str) -> dict:
    message = run(["git", "tag", "--list", "--format=%(contents)", tag], repository).stdout
    return json.loads(message)


def dispatch(version: str, stage: str) -> dict:
    return {
        "ref": "refs/heads/main",
        "inputs": {"version": version, "stage": stage},
        "repository": {"full_name": OWNER_REPO, "default_branch": "main"},
    }


@pytest.fixture(scope="module")
def promotions(default_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("registry")
    project = root / "project"
    run(["git", "clone", "-q", str(default_project), str(project)], root)
    run(["uv", "sync", "--frozen", "--extra", "cpu"], project)
    origin = root / "origin.git"  # GitHub's copy: where the registry's tags are pushed
    run(["git", "init", "-q", "--bare", str(origin)], root)
    run(["git", "remote", "set-url", "origin", str(origin)], project)
    image = "ghcr.io/your-github-user/term-deposit-model"  # .github/image.env of the bake
    commits = {}
    for version in ("v0.1.0", "v0.2.0"):
        run(["git", "commit", "-q", "--allow-empty", "-m", f"Release {version}"], project)
        commits[version] = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
        run(
            ["make", "-s", "registry", f"ARGS=publish --version {version} --image {image} "
             f"--image-digest {DIGESTS[version]}"],
            project, env=BOT,  # main.yml's register job tags as the bot
        )  # fmt: skip
    run(["git", "push", "-q", "origin", "main", "--tags"], project)
    # The insider's branch, its image attested by main.yml run from that branch, a forged tag.
    run(["git", "checkout", "-q", "-b", "attack"], project)
    run(["git", "commit", "-q", "--allow-empty", "-m", "My own model"], project)
    commits["v9.9.9"] = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    run(["make", "-s", "registry", f"ARGS=publish --version v9.9.9 --image {image} "
         f"--image-digest {FORGED}"], project, env=BOT)  # fmt: skip
    run(["git", "push", "-q", "origin", f"refs/tags/{MODEL}@v9.9.9"], project)
    run(["git", "checkout", "-q", "main"], project)
    attestations = [attested(f"{image}@{DIGESTS[v]}", commits[v]) for v in DIGESTS]
    attestations.append(attested(f"{image}@{FORGED}", commits["v9.9.9"], "refs/heads/attack"))
    main_before = run(["git", "rev-parse", "main"], origin).stdout.strip()
    runs, docker, gh, mains, pulls = {}, {}, {}, {}, []
    promotions = (("v0.2.0", "prod"), ("v0.1.0", "prod"), ("v9.9.9", "dev"), ("v0.2.0", "dev"))
    for version, stage in promotions:
        key = version if stage == "prod" or version == "v9.9.9" else f"{version}-{stage}"
        log = root / f"docker-promote-{key}.jsonl"
        api = github_api_env(root / f"gh-{key}", [], OWNER_REPO, attestations)
        runs[key] = run_workflow(
            project, "promote.yml", "workflow_dispatch", dispatch(version, stage),
            work_dir=root / f"act-promote-{key}", repository=OWNER_REPO,
            inputs={"version": version, "stage": stage},
            env={"STANDIN_DOCKER_LOG": str(log), **api},
        )  # fmt: skip
        docker[key] = read_jsonl(log)
        gh[key] = read_jsonl(root / f"gh-{key}" / "gh-calls.jsonl")
        state = json.loads((root / f"gh-{key}" / "gh-state.json").read_text())
        pulls += state["repositories"][OWNER_REPO].get("pulls", [])
        mains[key] = run(["git", "rev-parse", "main"], origin).stdout.strip()
        run(["git", "fetch", "-q", "origin", "--tags"], project)
    listed = json.loads(run(["make", "-s", "registry", "ARGS=list --json"], project).stdout)
    table = run(["make", "-s", "registry"], project).stdout
    return {"runs": runs, "docker": docker, "commits": commits, "image": image, "gh": gh,
            "origin": origin, "listed": listed, "table": table, "main_before": main_before,
            "mains": mains, "pulls": pulls}  # fmt: skip


def test_promoting_and_rolling_back_moves_the_stage_tags_and_the_image(promotions: dict) -> None:
    origin, image = promotions["origin"], promotions["image"]
    for version in ("v0.2.0", "v0.1.0"):
        result = promotions["runs"][version]
        assert result.jobs == {"promote": "success"}, result.summary()
        calls = promotions["docker"][version]
        retags = [c for c in calls if c["command"] == "buildx imagetools create"]
        assert retags == [
            {
                "command": "buildx imagetools create",
                "tags": [f"{image}:prod"],
                "source": f"{image}@{DIGESTS[version]}",
            }
        ]
    assert sorted(run(["git", "tag", "--list"], origin).stdout.split()) == sorted(
        [f"{MODEL}@v0.1.0", f"{MODEL}@v0.2.0", f"{MODEL}@v9.9.9", f"{MODEL}#prod#1",
         f"{MODEL}#prod#2", f"{MODEL}#dev#1"]
    )  # fmt: skip
    prod_1 = run(["git", "rev-parse", f"{MODEL}#prod#1" + PEEL], origin).stdout.strip()
    prod_2 = run(["git", "rev-parse", f"{MODEL}#prod#2" + PEEL], origin).stdout.strip()
    assert (prod_1, prod_2) == (promotions["commits"]["v0.2.0"], promotions["commits"]["v0.1.0"])
    rollback = tag_record(origin, f"{MODEL}#prod#2")
    assert (rollback["event"], rollback["version"], rollback["stage"]) == (
        "promote", "v0.1.0", "prod",
    )  # fmt: skip
    assert rollback["image_digest"] == DIGESTS["v0.1.0"]
    uploaded = promotions["runs"]["v0.1.0"].artifacts / "audit-promote"
    assert json.loads(next(uploaded.rglob("promote.json")).read_text()) == rollback


def test_make_registry_lists_versions_and_the_stage_after_the_roll_back(promotions: dict) -> None:
    listed = promotions["listed"]
    assert listed["stages"] == {"dev": "v0.2.0", "staging": None, "prod": "v0.1.0"}
    assert [(v["version"], v["image_digest"], v["stages"]) for v in listed["versions"]] == [
        ("v9.9.9", FORGED, []),  # the insider's tag is listed, and holds no stage
        ("v0.2.0", DIGESTS["v0.2.0"], ["dev"]),
        ("v0.1.0", DIGESTS["v0.1.0"], ["prod"]),
    ]
    assert "  prod: v0.1.0" in promotions["table"]


def test_each_promotion_verified_main_s_attestation_of_the_digest(promotions: dict) -> None:
    for version in ("v0.2.0", "v0.1.0"):
        (call,) = [c for c in promotions["gh"][version] if c["argv"][0] == "attestation"]
        assert call["argv"] == [
            "attestation", "verify", f"oci://{promotions['image']}@{DIGESTS[version]}",
            "--repo", OWNER_REPO,
            "--signer-workflow", f"{OWNER_REPO}/.github/workflows/main.yml",
            "--source-ref", "refs/heads/main",
            "--source-digest", promotions["commits"][version],
            "--deny-self-hosted-runners",
        ]  # fmt: skip


def test_a_forged_version_tag_is_not_promoted(promotions: dict) -> None:
    """The branch's attested image, tagged v9.9.9 by the insider, reaches no stage."""
    result = promotions["runs"]["v9.9.9"]
    assert result.jobs == {"promote": "failure"}, result.summary()
    step = "Verify the version and tag the stage assignment (audit record as its message)"
    assert result.step("promote", step).result == "failure"
    log = result.log("promote")
    assert f"{MODEL}@v9.9.9 cannot be promoted, it is not main's attested image" in log
    assert f"commit {promotions['commits']['v9.9.9']} is not on main (origin/main)" in log
    assert f"the attestation of {promotions['image']}@{FORGED} did not verify" in log
    assert "--source-ref did not match" in log  # what gh said
    commands = [c["command"] for c in promotions["docker"]["v9.9.9"]]
    assert "buildx imagetools create" not in commands  # the image's stage tag did not move
    origin = promotions["origin"]
    dev_tags = [t for t in run(["git", "tag", "--list"], origin).stdout.split() if "#dev#" in t]
    assert dev_tags == [f"{MODEL}#dev#1"]  # the genuine v0.2.0's, promoted after the refusal
    tagged = run(["git", "rev-parse", f"{MODEL}#dev#1" + PEEL], origin).stdout.strip()
    assert tagged == promotions["commits"]["v0.2.0"]
    assert promotions["mains"]["v9.9.9"] == promotions["main_before"]  # no overlay commit
    assert not [c for c in promotions["gh"]["v9.9.9"] if c["argv"][:2] == ["pr", "create"]]


def overlay_digest(repository: Path, ref: str, stage: str) -> str:
    text = run(["git", "show", f"{ref}:deploy/overlays/{stage}/kustomization.yaml"], repository)
    (entry,) = yaml.safe_load(text.stdout)["images"]
    return entry["digest"]


def changed_files(repository: Path, ref: str) -> list[str]:
    return run(["git", "diff", "--name-only", f"{ref}~1", ref], repository).stdout.split()


def test_prod_promotions_open_pull_requests_and_commit_nothing_to_main(promotions: dict) -> None:
    origin, before = promotions["origin"], promotions["main_before"]
    assert promotions["mains"]["v0.2.0"] == promotions["mains"]["v0.1.0"] == before
    pulls = promotions["pulls"]
    assert [(p["base"]["ref"], p["title"]) for p in pulls] == [
        ("main", "Deploy v0.2.0 to prod"),
        ("main", "Deploy v0.1.0 to prod"),
    ]
    for pull, version in zip(pulls, ("v0.2.0", "v0.1.0"), strict=True):
        head = pull["head"]["ref"]
        assert head.startswith(f"deploy/prod-{version}-")
        tip = run(["git", "rev-parse", f"refs/heads/{head}"], origin).stdout.strip()
        assert tip == pull["head"]["sha"]
        assert run(["git", "rev-parse", f"{tip}~1"], origin).stdout.strip() == before
        assert changed_files(origin, tip) == ["deploy/overlays/prod/kustomization.yaml"]
        assert overlay_digest(origin, tip, "prod") == DIGESTS[version]
        assert DIGESTS[version] in pull["body"]
    assert overlay_digest(origin, "main", "prod") == "sha256:" + "0" * 64  # until a PR is merged


def test_a_dev_promotion_commits_the_digest_to_main(promotions: dict) -> None:
    origin, main = promotions["origin"], promotions["mains"]["v0.2.0-dev"]
    assert (
        run(["git", "rev-parse", f"{main}~1"], origin).stdout.strip() == (promotions["main_before"])
    )
    assert changed_files(origin, main) == ["deploy/overlays/dev/kustomization.yaml"]
    assert overlay_digest(origin, main, "dev") == DIGESTS["v0.2.0"]
    assert overlay_digest(origin, main, "staging") == "sha256:" + "0" * 64
    subject = run(["git", "log", "-1", "--format=%s", main], origin).stdout.strip()
    assert subject == "Deploy v0.2.0 to dev"
    assert len(promotions["pulls"]) == 2  # no pull request for dev
    assert promotions["runs"]["v0.2.0-dev"].jobs == {"promote": "success"}
