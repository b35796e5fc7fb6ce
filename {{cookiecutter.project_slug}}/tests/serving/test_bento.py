"""`python -m <package> bento`: the packaged model imported and the bento built, offline."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import PACKAGE


@pytest.fixture(scope="module")
def built(pipeline_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The bento built from the pipeline's packaged model, in a scratch BentoML home."""
    home = tmp_path_factory.mktemp("bentoml-home")
    if shutil.which("uv") is None:
        pytest.fail("uv is not on PATH: the bento's requirements are exported from uv.lock")
    return home, build_bento(pipeline_repo, home)


def build_bento(project: Path, home: Path) -> str:
    """`python -m <package> bento` in `project` with BentoML home `home`; the bento's tag."""
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    command = [sys.executable, "-m", PACKAGE, "bento"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return (project / "build" / "bento_tag.txt").read_text().strip()


def test_bento_holds_the_packaged_model_and_every_module(
    built: tuple[Path, str], pipeline_repo: Path
) -> None:
    home, tag = built
    name, version = tag.split(":")
    bento = home / "bentos" / name / version
    manifest = yaml.safe_load((bento / "bento.yaml").read_text())
    model_md5 = json.loads((pipeline_repo / "models" / "metadata.json").read_text())["model_md5"]
    served = manifest["services"][0]
    assert [m["tag"] for m in served["models"]] == [f"{PACKAGE}:{model_md5}"]
    assert manifest["service"] == f"{PACKAGE}.serving.service:Service"
    source = pipeline_repo / "src" / PACKAGE
    expected = {p.relative_to(source).as_posix() for p in source.rglob("*.py")}
    packed = bento / "src" / PACKAGE
    assert {p.relative_to(packed).as_posix() for p in packed.rglob("*.py")} == expected


def test_bento_requirements_are_the_locked_versions(built: tuple[Path, str]) -> None:
    home, tag = built
    name, version = tag.split(":")
    requirements = home / "bentos" / name / version / "env" / "python" / "requirements.txt"
    pinned = [
        line
        for line in requirements.read_text().splitlines()
        if line.strip() and not line.startswith(("#", " ", "-"))
    ]
    assert pinned
    assert all("==" in line for line in pinned), [line for line in pinned if "==" not in line]


def test_build_info_says_dirty_when_tracked_files_changed(tmp_path: Path, monkeypatch) -> None:
    """A model trained from uncommitted changes is not the commit's: the build says so."""
    from helpers import module

    bento = module("serving.bento.build")
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert bento.git_dirty() is None  # not a git work tree
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], check=True)
    (tmp_path / "params.yaml").write_text("a: 1\n")
    subprocess.run(["git", "add", "params.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    (tmp_path / "untracked.txt").write_text("x")
    assert bento.build_info()["git_dirty"] is False
    (tmp_path / "params.yaml").write_text("a: 2\n")
    info = bento.build_info()
    assert info["git_dirty"] is True
    assert len(str(info["git_commit"])) == 40
    import hashlib

    assert info["params_md5"] == hashlib.md5(b"a: 2\n", usedforsecurity=False).hexdigest()
    assert info["registry_version"] is None
    monkeypatch.setenv("REGISTRY_VERSION", "v1.4.0")  # main.yml: the version it publishes
    assert bento.build_info()["registry_version"] == "v1.4.0"


def test_a_repackaged_model_with_other_settings_replaces_the_stores_copy(
    pipeline_repo: Path, tmp_path: Path
) -> None:
    """Same model md5 (same tag), other `serve` settings: the import must not keep the old."""
    import tarfile

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(pipeline_repo / "models" / "metadata.json", models / "metadata.json")
    shutil.copy(pipeline_repo / "models" / "service.bentomodel", models / "service.bentomodel")
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "home"), "BENTOML_DO_NOT_TRACK": "True"}
    code = (
        f"import json, bentoml\nfrom {PACKAGE}.serving.bento.build import import_model\n"
        "tag = import_model()\n"
        "print(open(bentoml.models.get(tag).path + '/service.json').read())\n"
    )

    def imported() -> dict:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    first = imported()
    # Copied member by member with service.json changed: nothing is extracted to disk, so no
    # extraction filter is needed (`extractall(filter=...)` is Python 3.11.4+).
    packaged = models / "service.bentomodel"
    repackaged = tmp_path / "repackaged.bentomodel"
    with tarfile.open(packaged) as source, tarfile.open(repackaged, "w:xz") as target:
        for member in source:
            content = source.extractfile(member) if member.isfile() else None
            if Path(member.name).name == "service.json":
                assert content is not None
                info = json.loads(content.read())
                info["serve"]["max_records"] = first["serve"]["max_records"] - 1
                body = json.dumps(info, indent=2).encode()
                member.size = len(body)
                content = io.BytesIO(body)
            target.addfile(member, content)
    repackaged.replace(packaged)
    assert imported()["serve"]["max_records"] == first["serve"]["max_records"] - 1


def test_hidden_folder_names_the_first_hidden_part(tmp_path: Path) -> None:
    from helpers import module

    bento = module("serving.bento.build")
    assert bento.hidden_folder(tmp_path / ".cache" / "x" / ".y" / "build") == ".cache"
    assert bento.hidden_folder(tmp_path / "cache" / "build") is None


def test_a_project_under_a_hidden_folder_builds(pipeline_repo: Path, tmp_path: Path) -> None:
    """BentoML refuses files under a hidden folder: `bento` builds from a copy elsewhere."""
    project = tmp_path / ".cache" / "project"
    (project / "models").mkdir(parents=True)
    for name in ("bentofile.yaml", "pyproject.toml", "uv.lock", "params.yaml"):
        shutil.copy(pipeline_repo / name, project / name)
    for name in ("metadata.json", "service.bentomodel"):
        shutil.copy(pipeline_repo / "models" / name, project / "models" / name)
    shutil.copytree(pipeline_repo / "deploy", project / "deploy")  # bentofile.yaml's Dockerfile
    home = tmp_path / "home"
    name, version = build_bento(project, home).split(":")
    assert (home / "bentos" / name / version / "bento.yaml").is_file()
