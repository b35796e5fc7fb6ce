"""`python -m <package> bento`: import the packaged model and build the BentoML bento.

1. Import `models/service.bentomodel` (the `package` stage's output) into the BentoML store.
2. Assemble the build context in `build/bento/`: this package's modules, `bentofile.yaml`,
   `requirements.txt` exported from `uv.lock` with its hashes (exact versions, no resolving at
   build time), the image's Dockerfile template (`deploy/image/Dockerfile.j2`: the image
   installs those requirements with hashes required), and `build_info.json` (the git commit,
   and `git_dirty`: whether tracked files had uncommitted changes, i.e. the model may not be
   the commit's; `/metadata` reports both).
3. `bentoml build` (offline: `lock_packages: false`), unless `--no-build` (what `make serve`
   uses); the bento tag is written to `build/bento_tag.txt`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ... import PACKAGE
from ...artifacts import paths
from ...artifacts.hashing import md5_file
from ...errors import PipelineError, guarded

BUILD_DIR = Path("build/bento")
TAG_FILE = Path("build/bento_tag.txt")
BENTOFILE = Path("bentofile.yaml")
DOCKERFILE_TEMPLATE = Path("deploy/image/Dockerfile.j2")
PACKAGE_DIR = Path(__file__).resolve().parents[2]  # the package, not serving/bento


def import_model(bento_model: Path = paths.BENTO_MODEL) -> str:
    """Import the packaged model into the BentoML store (if absent); return its tag."""
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")  # no usage statistics
    import bentoml
    from bentoml.exceptions import NotFound

    if not bento_model.is_file():
        raise PipelineError(
            f"{bento_model} not found: run the pipeline (`dvc repro`, or `dvc pull` it)"
        )
    metadata = json.loads(paths.METADATA_FILE.read_text(encoding="utf-8"))
    tag = f"{PACKAGE}:{metadata['model_md5']}"
    try:
        stored = bentoml.models.get(tag)
    except NotFound:
        stored = None
    if stored is not None and _service_info(bento_model) != _stored_info(Path(stored.path)):
        # Same model, other packaged settings (`serve` changed): the store's copy is stale.
        bentoml.models.delete(tag)
        stored = None
    if stored is None:
        imported = bentoml.models.import_model(str(bento_model.resolve()))
        if str(imported.tag) != tag:
            raise PipelineError(
                f"{bento_model} holds {imported.tag}, but {paths.METADATA_FILE} describes "
                f"{tag}: re-run `dvc repro` (or `dvc checkout`)"
            ) from None
    return tag


def _service_info(bento_model: Path) -> bytes | None:
    """The packaged service info (`service.json`) inside a `.bentomodel` file."""
    import tarfile

    with tarfile.open(bento_model) as archive:
        for member in archive:
            if Path(member.name).name == paths.SERVICE_INFO:
                extracted = archive.extractfile(member)
                return extracted.read() if extracted is not None else None
    return None


def _stored_info(folder: Path) -> bytes | None:
    path = folder / paths.SERVICE_INFO
    return path.read_bytes() if path.is_file() else None


def git_commit() -> str:
    """The commit being built: $GITHUB_SHA in Actions, else `git rev-parse HEAD`."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def git_dirty() -> bool | None:
    """Whether tracked files differ from the commit (`None` outside a git work tree).

    `make bento` / `make serve` run `dvc repro` first, so the packaged model was trained from
    this same tree: a dirty tree means a model that no commit describes exactly.
    """
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(result.stdout.strip()) if result.returncode == 0 else None


def build_info(model_tag: str | None = None) -> dict[str, object]:
    """The build's lineage: commit, dirty, params md5, the registry version when CI knows it
    (`REGISTRY_VERSION`, set by main.yml), and the tag of the model it serves."""
    params = Path("params.yaml")
    return {
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "params_md5": md5_file(params) if params.is_file() else None,
        "registry_version": os.environ.get("REGISTRY_VERSION") or None,
        "model_tag": model_tag,
    }


def assemble(build_dir: Path = BUILD_DIR, model_tag: str | None = None) -> Path:
    """Write the bento build context for the model `model_tag`; return its directory."""
    if not BENTOFILE.is_file():
        raise PipelineError(f"{BENTOFILE} not found: run this from the repository root")
    if build_dir.exists():
        shutil.rmtree(build_dir)
    shutil.copytree(
        PACKAGE_DIR, build_dir / PACKAGE_DIR.name, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copyfile(BENTOFILE, build_dir / BENTOFILE.name)
    if not DOCKERFILE_TEMPLATE.is_file():
        raise PipelineError(
            f"{DOCKERFILE_TEMPLATE} not found: bentofile.yaml builds the image from it"
        )
    shutil.copyfile(DOCKERFILE_TEMPLATE, build_dir / DOCKERFILE_TEMPLATE.name)
    info = build_info(model_tag)
    (build_dir / "build_info.json").write_text(json.dumps(info) + "\n", encoding="utf-8")
    export = [
        "uv",
        "export",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--extra",
        "cpu",
        "--quiet",
        "--output-file",
        str(build_dir / "requirements.txt"),
    ]
    try:
        result = subprocess.run(export, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PipelineError(
            "`uv` is not on PATH: it exports the bento's requirements from uv.lock "
            "(run `make bento`, or install uv: https://docs.astral.sh/uv/)"
        ) from None
    if result.returncode != 0:
        raise PipelineError(f"`{' '.join(export)}` failed: {result.stderr.strip()}")
    return build_dir


def hidden_folder(path: Path) -> str | None:
    """The first hidden (`.name`) part of `path`'s absolute path, the way BentoML sees it."""
    return next((part for part in path.resolve().parts if part.startswith(".")), None)


def build(build_dir: Path = BUILD_DIR) -> str:
    """`bentoml build` the context; return the bento tag.

    BentoML refuses to read a build file whose absolute path has a hidden folder ("Accessing
    hidden files is not allowed", its `resolve_user_filepath`), e.g. a project under
    `~/.cache/`: there the context is built from a copy in the temporary folder. BentoML also
    wants the files under its working directory, so it runs in the context.
    """
    with tempfile.TemporaryDirectory(prefix="bento-context-") as scratch:
        context = build_dir.resolve()
        hidden = hidden_folder(context)
        if hidden is not None:
            context = Path(scratch).resolve() / "context"
            if hidden_folder(context) is not None:
                raise PipelineError(
                    f"BentoML refuses paths with a hidden folder: both the build context "
                    f"({build_dir.resolve()}, '{hidden}') and the temporary folder ({scratch}, "
                    f"'{hidden_folder(context)}') have one; set TMPDIR to a folder without one"
                )
            shutil.copytree(build_dir, context)
        command = [sys.executable, "-m", "bentoml", "build", str(context), "--output", "tag"]
        result = subprocess.run(command, cwd=context, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PipelineError(f"bentoml build failed:\n{result.stdout}\n{result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    tag = lines[-1].strip().removeprefix("__tag__:")
    TAG_FILE.write_text(tag + "\n", encoding="utf-8")
    return tag


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} bento", description=__doc__)
    parser.add_argument("--no-build", action="store_true", help="import and assemble only")
    args = parser.parse_args(argv)

    def run() -> None:
        model_tag = import_model()
        build_dir = assemble(model_tag=model_tag)
        print(f"model {model_tag}; build context {build_dir}", file=sys.stderr)
        if not args.no_build:
            print(build(build_dir))

    return guarded(run, "bento")


if __name__ == "__main__":
    sys.exit(main())
