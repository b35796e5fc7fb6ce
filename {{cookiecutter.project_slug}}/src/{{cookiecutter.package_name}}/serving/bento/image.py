"""`python -m <package> image`: build the service image from the bento (`make image`).

BentoML's own `containerize` renders the bento's Dockerfile (deploy/image/Dockerfile.j2: the
hardened image) and builds it with the first backend that exists here: Docker with buildx (as
on GitHub's runners), else podman. `--base-image` replaces bentofile.yaml's pinned base (a local
mirror of the same image); the image's ID is printed (the only line on stdout) and written to
`build/image_id.txt`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ... import PACKAGE
from ...errors import PipelineError, guarded
from .build import TAG_FILE

ID_FILE = Path("build/image_id.txt")
BACKENDS = ("buildx", "podman")


def available_backend() -> str:
    """`buildx` when Docker and its buildx plugin answer, else `podman`; an error naming both."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return "buildx"
    if shutil.which("podman"):
        return "podman"
    raise PipelineError(
        "no image builder: install Docker with buildx, or podman (BACKEND=buildx|podman)"
    )


def containerize_command(
    bento_tag: str,
    image_tag: str,
    backend: str,
    base_image: str | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """The `bentoml containerize` call for `backend`, with the backend's `options` (KEY=VALUE)."""
    if backend not in BACKENDS:
        raise PipelineError(f"backend '{backend}': expected one of {', '.join(BACKENDS)}")
    command = [sys.executable, "-m", "bentoml", "containerize", bento_tag]
    command += ["--backend", backend, "--image-tag", image_tag]
    if backend == "podman":
        # Docker's image format keeps the HEALTHCHECK (the OCI format has no field for it).
        command += ["--opt", "format=docker"]
    if base_image:
        command += ["--opt", f"build-arg=BASE_IMAGE={base_image}"]
    for option in options:
        if "=" not in option:
            raise PipelineError(
                f"--opt '{option}': expected KEY=VALUE (e.g. build-arg=PIP_CERT=...)"
            )
        command += ["--opt", option]
    return command


def image_id(image_tag: str, backend: str) -> str:
    """The built image's ID (`docker`/`podman image inspect`)."""
    client = "docker" if backend == "buildx" else "podman"
    result = subprocess.run(
        [client, "image", "inspect", image_tag], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PipelineError(f"{client} image inspect {image_tag} failed: {result.stderr.strip()}")
    return str(json.loads(result.stdout)[0]["Id"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} image", description=__doc__)
    parser.add_argument("--tag", required=True, help="the image's name:tag")
    parser.add_argument("--backend", choices=BACKENDS, help="default: buildx, else podman")
    parser.add_argument("--base-image", help="replace the pinned base (same Python minor)")
    parser.add_argument(
        "--opt", action="append", default=[], help="a backend option KEY=VALUE (repeatable)"
    )
    args = parser.parse_args(argv)

    def run() -> None:
        if not TAG_FILE.is_file():
            raise PipelineError(f"{TAG_FILE} not found: build the bento first (`make bento`)")
        bento_tag = TAG_FILE.read_text(encoding="utf-8").strip()
        backend = args.backend or available_backend()
        command = containerize_command(bento_tag, args.tag, backend, args.base_image, args.opt)
        print(f"building {args.tag} from {bento_tag} with {backend}", file=sys.stderr)
        # containerize re-renders the Dockerfile template from a copy of the bento in the
        # temporary folder, and BentoML 1.4 refuses a template outside its working directory
        # ("Accessing file outside of current working directory", bentoml/BentoML#5566, open):
        # it runs from that folder.
        scratch = tempfile.gettempdir()
        # Its progress goes to stderr: stdout is the image ID alone (`id=$(make -s image)`).
        result = subprocess.run(command, cwd=scratch, stdout=sys.stderr, check=False)
        if result.returncode != 0:
            raise PipelineError(f"`{' '.join(command[1:])}` failed (its output is above)")
        built = image_id(args.tag, backend)
        ID_FILE.write_text(built + "\n", encoding="utf-8")
        print(built)

    return guarded(run, "image")


if __name__ == "__main__":
    sys.exit(main())
