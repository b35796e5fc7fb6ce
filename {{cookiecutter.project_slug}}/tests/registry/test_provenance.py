"""Promotion only of main's attested image: a forged version tag is refused, naming each check.

A real git repository: `main` with a version the workflow tagged, and a branch `attack` whose
commit an insider tagged as a higher version naming an image built and attested from that
branch. `gh` is a stand-in on PATH that verifies an attestation only when it was recorded for
that exact digest, repository, signer workflow, source ref and source commit (what the real
`gh attestation verify` checks in the certificate), and logs every call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, module

command = module("registry.command")
provenance = module("registry.provenance")
params = module("settings.params")

GITHUB_REPO = "example-owner/example-model"
GENUINE, FORGED = "sha256:" + "a" * 64, "sha256:" + "f" * 64
IMAGE = "ghcr.io/example-owner/example-model"
WORKFLOW = f"{GITHUB_REPO}/.github/workflows/main.yml"
PEEL = "^" + "{commit}"  # a tag's commit (spelled so that no double brace reaches the template)

GH_STAND_IN = """
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] != ["attestation", "verify"]:
    sys.exit("unknown command")
subject = args[2].removeprefix("oci://")
flags = dict(zip(args[3::2], args[4::2]))
flags.pop("--deny-self-hosted-runners", None)
for made in json.load(open(os.environ["GH_ATTESTATIONS"])):
    if made["subject"] == subject and all(made.get(k) == v for k, v in flags.items()):
        print("Verification succeeded!")
        sys.exit(0)
sys.exit("Error: verifying with issuer: expected SourceRepositoryRef and SignerWorkflow")
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def tag_version(repo: Path, name: str, commit: str, email: str, digest: str) -> None:
    record = {"event": "publish", "tag": name, "commit": commit, "image": IMAGE,
              "image_digest": digest}  # fmt: skip
    # The tagger is the committer identity: the environment's (CI sets one) wins over config.
    tagger = {**os.environ, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_NAME": "tagger"}
    subprocess.run(
        ["git", "tag", "--annotate", "--file=-", name, commit],
        cwd=repo, input=json.dumps(record), text=True, check=True, env=tagger,
    )  # fmt: skip


@pytest.fixture
def forged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """main with v0.1.0 (the workflow's tag, main's attestation) and a branch tagged v9.9.9."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "insider@example.com")
    git(tmp_path, "config", "user.name", "Insider")
    git(tmp_path, "add", "params.yaml")
    git(tmp_path, "commit", "-qm", "first")
    model = params.load_params().registry.model
    main = git(tmp_path, "rev-parse", "HEAD")
    tag_version(tmp_path, f"{model}@v0.1.0", main, provenance.BOT_EMAIL, GENUINE)
    git(tmp_path, "checkout", "-qb", "attack")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "my own model")
    branch = git(tmp_path, "rev-parse", "HEAD")
    # The insider can even claim the bot's identity as tagger: the other checks still fail.
    tag_version(tmp_path, f"{model}@v9.9.9", branch, provenance.BOT_EMAIL, FORGED)
    git(tmp_path, "checkout", "-q", "main")
    attestations = [
        {"subject": f"{IMAGE}@{GENUINE}", "--repo": GITHUB_REPO, "--signer-workflow": WORKFLOW,
         "--source-ref": "refs/heads/main", "--source-digest": main},
        # Built and attested by the same workflow file, run from the insider's branch.
        {"subject": f"{IMAGE}@{FORGED}", "--repo": GITHUB_REPO, "--signer-workflow": WORKFLOW,
         "--source-ref": "refs/heads/attack", "--source-digest": branch},
    ]  # fmt: skip
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f"#!{sys.executable}\n{GH_STAND_IN}", encoding="utf-8")
    (bin_dir / "gh").chmod(0o755)
    (tmp_path / "attestations.json").write_text(json.dumps(attestations), encoding="utf-8")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GH_ATTESTATIONS", str(tmp_path / "attestations.json"))
    monkeypatch.setenv("GH_LOG", str(tmp_path / "gh-calls.jsonl"))
    return {"repo": tmp_path, "model": model, "main": main, "branch": branch}


def promote(*extra: str) -> int:
    flags = ["--main-ref", "main", "--github-repo", GITHUB_REPO]
    return command.main(["promote", "--stage", "dev", *extra, *flags])


def test_a_forged_version_tag_is_not_promoted_and_each_failed_check_is_named(
    forged: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote("--version", "v9.9.9") == 1
    error = capsys.readouterr().err
    assert f"{forged['model']}@v9.9.9 cannot be promoted" in error
    assert f"commit {forged['branch']} is not on main (main)" in error
    assert f"the attestation of {IMAGE}@{FORGED} did not verify" in error
    assert "expected SourceRepositoryRef" in error  # what gh said
    assert git(forged["repo"], "tag", "--list", "*#dev#*") == ""  # nothing tagged


def test_the_forged_tag_promotes_without_the_checks(forged: dict) -> None:
    """The attack is real: the registry alone (what promote.yml ran before) tags it."""
    assert command.main(["promote", "--stage", "dev", "--version", "v9.9.9"]) == 0
    assert git(forged["repo"], "rev-parse", f"{forged['model']}#dev#1" + PEEL) == forged["branch"]


def test_the_genuine_version_promotes_after_gh_verifies_main_s_attestation(
    forged: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote("--version", "v0.1.0") == 0, capsys.readouterr().err
    record = json.loads(capsys.readouterr().out)
    assert (record["version"], record["commit"]) == ("v0.1.0", forged["main"])
    calls = [json.loads(line) for line in Path("gh-calls.jsonl").read_text().splitlines()]
    assert calls == [
        ["attestation", "verify", f"oci://{IMAGE}@{GENUINE}", "--repo", GITHUB_REPO,
         "--signer-workflow", WORKFLOW, "--source-ref", "refs/heads/main",
         "--source-digest", forged["main"], "--deny-self-hosted-runners"]
    ]  # fmt: skip


def test_a_version_tagged_by_someone_else_on_main_is_refused(
    forged: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, model = forged["repo"], forged["model"]
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    head = git(repo, "rev-parse", "HEAD")
    tag_version(repo, f"{model}@v0.2.0", head, "insider@example.com", GENUINE)
    assert command.main(["verify", "--version", "v0.2.0", "--main-ref", "main",
                         "--github-repo", GITHUB_REPO]) == 1  # fmt: skip
    error = capsys.readouterr().err
    assert "was tagged by <insider@example.com>, not the workflow" in error
    assert f"did not verify as built by {WORKFLOW} from refs/heads/main at {head}" in error


def test_verify_needs_both_the_main_ref_and_the_repository(
    forged: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.main(["verify", "--version", "v0.1.0", "--main-ref", "main"]) == 1
    assert "give both --main-ref" in capsys.readouterr().err
    assert command.main(["verify", "--version", "v0.1.0", "--main-ref", "main",
                         "--github-repo", GITHUB_REPO]) == 0  # fmt: skip
    assert "attestation verified" in capsys.readouterr().out
