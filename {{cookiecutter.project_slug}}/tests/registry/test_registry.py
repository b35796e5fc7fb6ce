"""The registry in git: publish twice, promote, roll back; tags in GTO's format."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, module

command = module("registry.command")
tags = module("registry.tags")
errors = module("errors")
params = module("settings.params")


PEEL = "^" + "{commit}"  # a tag's commit (spelled so that no double brace reaches the template)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with params.yaml and two commits; the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "ml@example.com")
    git(tmp_path, "config", "user.name", "ML")
    git(tmp_path, "add", "params.yaml")
    git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert command.main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_publish_twice_promote_and_roll_back(repo: Path, capsys) -> None:
    model = params.load_params().registry.model
    first = git(repo, "rev-parse", "HEAD")
    digest_1, digest_2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    assert command.main(["next"]) == 0
    assert capsys.readouterr().out.strip() == "v0.1.0"  # bump: minor, no version yet
    run_cli(capsys, "publish", "--version", "v0.1.0", "--image", "r/i", "--image-digest", digest_1)
    second = commit(repo, "better model")
    assert command.main(["next", "--bump", "patch"]) == 0
    assert capsys.readouterr().out.strip() == "v0.1.1"
    run_cli(capsys, "publish", "--version", "v0.2.0", "--image-digest", digest_2)
    run_cli(capsys, "promote", "--version", "v0.2.0", "--stage", "prod")
    rollback = run_cli(
        capsys, "promote", "--version", "v0.1.0", "--stage", "prod", "--out", "a.json"
    )

    assert git(repo, "tag", "--list").splitlines() == sorted(
        [f"{model}@v0.1.0", f"{model}@v0.2.0", f"{model}#prod#1", f"{model}#prod#2"]
    )
    assert git(repo, "rev-parse", f"{model}@v0.1.0" + PEEL) == first
    assert git(repo, "rev-parse", f"{model}@v0.2.0" + PEEL) == second
    assert git(repo, "rev-parse", f"{model}#prod#1" + PEEL) == second
    assert git(repo, "rev-parse", f"{model}#prod#2" + PEEL) == first  # the roll back
    assert git(repo, "cat-file", "-t", f"{model}#prod#2") == "tag"  # annotated, as GTO's
    assert rollback["event"] == "promote"
    assert (rollback["model"], rollback["tag"]) == (model, f"{model}#prod#2")
    assert (rollback["version"], rollback["stage"], rollback["commit"]) == ("v0.1.0", "prod", first)
    assert rollback["image_digest"] == digest_1  # the lineage of the version promoted
    assert rollback["who"] == "ml@example.com"
    assert json.loads(Path("a.json").read_text()) == rollback

    listed = run_cli(capsys, "list", "--json")
    assert listed["stages"] == {"dev": None, "staging": None, "prod": "v0.1.0"}
    assert [(v["version"], v["image_digest"], v["stages"]) for v in listed["versions"]] == [
        ("v0.2.0", digest_2, []),
        ("v0.1.0", digest_1, ["prod"]),
    ]
    assert command.main(["list"]) == 0
    table = capsys.readouterr().out
    assert "  prod: v0.1.0" in table
    assert f"| v0.1.0 | {first[:12]} |" in table


def test_versions_only_grow_and_stages_are_checked(repo: Path, capsys) -> None:
    only = run_cli(capsys, "publish", "--version", "v1.0.0", "--record-only")
    assert only["tag"].endswith("@v1.0.0")
    assert git(repo, "tag", "--list") == ""  # the record, no tag
    run_cli(capsys, "publish", "--version", "v1.0.0")
    assert command.main(["publish", "--version", "v0.9.0"]) == 1
    assert "not above the latest, v1.0.0" in capsys.readouterr().err
    assert command.main(["promote", "--version", "v2.0.0", "--stage", "prod"]) == 1
    assert "is not a published version" in capsys.readouterr().err
    assert command.main(["promote", "--version", "v1.0.0", "--stage", "qa"]) == 1
    assert "not one of registry.stages" in capsys.readouterr().err
    assert command.main(["publish", "--version", "1.2"]) == 1
    assert "expected v<MAJOR>.<MINOR>.<PATCH>" in capsys.readouterr().err


def test_bumps() -> None:
    assert tags.bump(None, "patch") == (0, 1, 0)
    assert tags.bump(None, "major") == (1, 0, 0)
    assert tags.bump((1, 2, 3), "patch") == (1, 2, 4)
    assert tags.bump((1, 2, 3), "minor") == (1, 3, 0)
    assert tags.bump((1, 2, 3), "major") == (2, 0, 0)


def test_other_models_and_foreign_tags_are_ignored(repo: Path) -> None:
    git(repo, "tag", "v1.0.0")
    git(repo, "tag", "-a", "-m", "x", "other-model@v3.0.0")
    registry = tags.read(repo, params.load_params().registry.model)
    assert registry.versions == {}
    assert registry.latest is None


def test_the_pipeline_record_names_the_run_it_describes(pipeline_repo: Path, monkeypatch) -> None:
    """`audit` on the shared pipeline run: the md5s and the gate of the files on disk."""
    import hashlib

    def md5(path: Path) -> str:
        return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()

    monkeypatch.chdir(pipeline_repo)
    monkeypatch.setenv("GITHUB_ACTOR", "octo-reviewer")
    out = pipeline_repo.parent / "audit.json"  # outside the repository: it stays unchanged
    assert module("registry.record").main(["--out", str(out)]) == 0
    found = json.loads(out.read_text())
    assert list(found) == list(module("registry.audit").FIELDS)
    assert found["event"] == "pipeline"
    assert found["who"] == "octo-reviewer"
    assert found["commit"] == git(pipeline_repo, "rev-parse", "HEAD")
    assert found["model_md5"] == md5(pipeline_repo / "models" / "model.ubj")
    assert found["params_md5"] == md5(pipeline_repo / "params.yaml")
    assert found["data_md5"] == md5(pipeline_repo / "data" / "raw" / "sample.csv")
    gate = json.loads((pipeline_repo / "reports" / "gate.json").read_text())["passed"]
    assert found["gate"] == ("passed" if gate else "failed")


@pytest.fixture
def published_model(repo: Path, pipeline_repo: Path) -> Path:
    """`repo` with the pipeline's model and its card (copied: pipeline_repo stays unchanged)."""
    for name in ("models/model.ubj", "reports/model_card.json"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pipeline_repo / name, repo / name)
    return repo


def test_the_released_card_names_the_version_and_the_image_digest(
    published_model: Path, capsys
) -> None:
    repo = published_model
    digest = "sha256:" + "ab" * 32
    record = run_cli(
        capsys, "publish", "--version", "v1.0.0", "--image", "ghcr.io/o/m", "--image-digest", digest
    )
    assert command.main(["card", "--version", "v1.0.0", "--out", "build/release"]) == 0
    capsys.readouterr()
    original = json.loads((repo / "reports" / "model_card.json").read_text())
    card = json.loads((repo / "build" / "release" / "model_card.json").read_text())
    assert original["lineage"]["image_digest"] is None
    assert card["lineage"]["image_digest"] == digest
    assert card["lineage"]["registry_tag"] == record["tag"] == f"{record['model']}@v1.0.0"
    assert card["lineage"]["image"] == "ghcr.io/o/m"
    assert card["lineage"]["model_md5"] == original["lineage"]["model_md5"]
    assert {k: v for k, v in card.items() if k != "lineage"} == {
        k: v for k, v in original.items() if k != "lineage"
    }
    markdown = (repo / "build" / "release" / "model_card.md").read_text()
    lineage = markdown.split("## Lineage", 1)[1]
    assert f"| image digest | `{digest}` |" in lineage
    assert f"`{record['tag']}`" in lineage
    assert "not known when the card is written" not in lineage


def test_the_released_card_from_a_record_file_before_the_tag_exists(
    published_model: Path, capsys
) -> None:
    """As main.yml does: the record of an untagged publication (--record-only) as a file."""
    repo = published_model
    digest = "sha256:" + "cd" * 32
    record_file = repo / "build" / "audit" / "publish.json"
    run_cli(capsys, "publish", "--version", "v0.2.0", "--image", "i", "--image-digest", digest,
            "--record-only", "--out", str(record_file))  # fmt: skip
    assert git(repo, "tag", "--list") == ""
    assert command.main(["card", "--record", str(record_file), "--out", "out"]) == 0
    assert digest in capsys.readouterr().out
    card = json.loads((repo / "out" / "model_card.json").read_text())
    assert card["lineage"]["image_digest"] == digest
    assert card["lineage"]["registry_version"] == "v0.2.0"


def test_a_card_of_another_model_or_without_a_digest_is_refused(
    published_model: Path, capsys
) -> None:
    repo = published_model
    other = {"model_md5": "0" * 32, "image_digest": "sha256:" + "e" * 64, "tag": "m@v9.0.0"}
    (repo / "other.json").write_text(json.dumps(other))
    assert command.main(["card", "--record", "other.json", "--out", "out"]) != 0
    message = capsys.readouterr().err
    assert "0" * 32 in message
    assert "build the card of the published model" in message
    run_cli(capsys, "publish", "--version", "v1.0.0")  # no image: no digest to add
    assert command.main(["card", "--version", "v1.0.0", "--out", "out"]) != 0
    assert "no image_digest" in capsys.readouterr().err
    assert command.main(["card", "--version", "v3.0.0", "--out", "out"]) != 0
    assert "not a published version" in capsys.readouterr().err
    assert not (repo / "out").exists()
