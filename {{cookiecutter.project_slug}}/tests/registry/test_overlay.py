"""deploy/overlays/<stage>: `deploy pin` writes a promoted digest into one overlay, keeps its
comments, and refuses bad input naming what it expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, module

overlay = module("registry.overlay")
errors = module("errors")

IMAGE = "ghcr.io/example/model"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of this project's deploy/ folder."""
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    return tmp_path


def kustomization(root: Path, stage: str) -> dict:
    path = root / "deploy" / "overlays" / stage / "kustomization.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_stage_starts_with_no_promoted_digest(root: Path) -> None:
    for stage in ("dev", "staging", "prod"):
        assert overlay.pinned(stage, root)["digest"] == overlay.UNPROMOTED


def test_pin_writes_the_digest_into_that_stage_only(root: Path) -> None:
    before = {s: kustomization(root, s) for s in ("dev", "staging")}
    text_before = (root / "deploy/overlays/prod/kustomization.yaml").read_text(encoding="utf-8")
    assert overlay.pin("prod", IMAGE, DIGEST, root) is True
    (entry,) = kustomization(root, "prod")["images"]
    assert entry == {"name": "model-service", "newName": IMAGE, "digest": DIGEST}
    assert {s: kustomization(root, s) for s in ("dev", "staging")} == before
    text_after = (root / "deploy/overlays/prod/kustomization.yaml").read_text(encoding="utf-8")
    comments = [line for line in text_before.splitlines() if line.startswith("#")]
    assert comments
    assert comments == [line for line in text_after.splitlines() if line.startswith("#")]
    assert len(text_after.splitlines()) == len(text_before.splitlines())
    assert overlay.pin("prod", IMAGE, DIGEST, root) is False  # already there: nothing to commit


@pytest.mark.parametrize(
    ("stage", "image", "digest", "message"),
    [
        ("qa", IMAGE, DIGEST, "stage 'qa'"),
        ("prod", IMAGE, "sha256:abc", "digest 'sha256:abc'"),
        ("prod", IMAGE, "sha256:" + "0" * 64, "expected sha256:<64 lowercase hex>"),
        ("prod", IMAGE + ":v1", DIGEST, "expected registry/name (no tag, no digest)"),
    ],
)
def test_pin_refuses_bad_input(
    root: Path, stage: str, image: str, digest: str, message: str
) -> None:
    with pytest.raises(errors.PipelineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        overlay.pin(stage, image, digest, root)
    assert overlay.pinned("prod", root)["digest"] == overlay.UNPROMOTED


def test_an_overlay_without_the_image_entry_is_named(root: Path) -> None:
    path = root / "deploy/overlays/dev/kustomization.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("model-service", "other"), encoding="utf-8"
    )
    with pytest.raises(
        errors.PipelineError, match="expected one `images:` entry named 'model-service'"
    ):
        overlay.pinned("dev", root)


def test_show_prints_every_stage(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay.pin("staging", IMAGE, DIGEST, root)
    assert overlay.main(["--root", str(root), "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"staging: {IMAGE}@{DIGEST}" in lines
    assert any(line.startswith("dev: ") and line.endswith("(none promoted yet)") for line in lines)
    assert (
        overlay.main(
            ["--root", str(root), "pin", "--stage", "dev", "--image", IMAGE, "--digest", "x"]
        )
        == 1
    )
