"""A strict stand-in for the `docker` CLI: only what `bentoml containerize --backend buildx`,
docker/login-action and promote.yml (`buildx imagetools create --tag T IMAGE@DIGEST`) run.
Each call is appended to $STANDIN_DOCKER_LOG as one JSON line; anything else (sub-command,
flag, missing Dockerfile or context) exits 2 with a message. `buildx build --output
type=oci,dest=PATH` writes a real OCI archive (one image manifest; its layer stands for the
build) whose manifest digest is the one --metadata-file reports, as buildx's oci exporter does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import sys
from pathlib import Path


def _runner_tools() -> str:
    """The stand-ins' `tools` folder: next to this file's in the repository; under act, which
    runs a copy of the action from its cache, the folder the harness puts on PATH."""
    beside = Path(__file__).resolve().parents[2] / "tools"
    folders = [beside, *map(Path, os.environ.get("PATH", "").split(os.pathsep))]
    for folder in folders:
        if (folder / "oci_archive.py").is_file():
            return str(folder)
    raise SystemExit("docker stand-in: oci_archive.py is neither beside it nor on PATH")


sys.path.insert(0, _runner_tools())
from oci_archive import write as write_oci_archive  # noqa: E402

BUILD_VALUE_FLAGS = {
    "--tag",
    "-t",
    "--label",
    "--file",
    "-f",
    "--platform",
    "--build-arg",
    "--progress",
    "--output",
    "--cache-from",
    "--cache-to",
    "--secret",
    "--attest",
    "--provenance",
    "--sbom",
    "--metadata-file",
}
BUILD_SWITCHES = {"--push", "--load", "--pull", "--no-cache"}


def fail(message: str) -> None:
    print(f"docker stand-in: {message}", file=sys.stderr)
    sys.exit(2)


def record(entry: dict) -> None:
    with open(os.environ["STANDIN_DOCKER_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def build(args: list[str]) -> None:
    options: dict[str, list[str]] = {}
    switches: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in BUILD_SWITCHES:
            switches.append(arg)
        elif arg in BUILD_VALUE_FLAGS:
            if i + 1 >= len(args):
                fail(f"{arg} needs a value")
            options.setdefault(arg.lstrip("-"), []).append(args[i + 1])
            i += 1
        elif arg.startswith("-"):
            fail(f"unknown flag for buildx build: {arg}")
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 1:
        fail(f"expected one build context, got {positional}")
    context = Path(positional[0])
    files = options.get("file", []) + options.get("f", [])
    if len(files) != 1:
        fail(f"expected one --file, got {files}")
    dockerfile = Path(files[0])
    if not dockerfile.is_absolute():
        dockerfile = context / dockerfile
    if not context.is_dir() or not dockerfile.is_file():
        fail(f"build context {context} or Dockerfile {dockerfile} does not exist")
    tags = options.get("tag", []) + options.get("t", [])
    if not tags:
        fail("no --tag given")
    for tag in tags:
        if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+:[A-Za-z0-9_.-]{1,128}", tag):
            fail(f"not a registry image reference: {tag}")
    labels = dict(label.split("=", 1) for label in options.get("label", []))
    text = dockerfile.read_text(encoding="utf-8")
    # What buildx writes with --metadata-file: the pushed image's digest (here a stand-in digest,
    # a hash of what was built: Dockerfile, context file list, labels and tags).
    built = json.dumps([text, sorted(map(str, context.rglob("*"))), labels, tags], default=str)
    digest = "sha256:" + hashlib.sha256(built.encode()).hexdigest()
    archive = None
    for output in options.get("output", []):
        fields = dict(part.split("=", 1) for part in output.split(","))
        if fields.get("type") != "oci" or not fields.get("dest"):
            fail(f"unsupported --output {output} (type=oci,dest=PATH)")
        archive = fields["dest"]
        layer = gzip.compress(built.encode(), mtime=0)
        digest = write_oci_archive(Path(archive), layer, labels, tags[0])
    if archive and "--push" in switches:
        fail("--push with --output type=oci: the stand-in models one exporter at a time")
    for metadata in options.get("metadata-file", []):
        Path(metadata).write_text(
            json.dumps({"containerimage.digest": digest, "image.name": ",".join(tags)}),
            encoding="utf-8",
        )
    record(
        {
            "command": "buildx build",
            "tags": tags,
            "labels": labels,
            "push": "--push" in switches,
            "digest": digest,
            "output": archive,
            "provenance": options.get("provenance", []),
            "load": "--load" in switches,
            "dockerfile_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "dockerfile_users": re.findall(r"^USER\s+(\S+)", text, flags=re.M),
            "context_files": sorted(str(p.relative_to(context)) for p in context.rglob("*.json"))[
                :50
            ],
            # md5 of every model card in the context (what `GET /card` serves from the image)
            "model_cards": {
                str(p.relative_to(context)): hashlib.md5(p.read_bytes()).hexdigest()
                for p in sorted(context.rglob("model_card.md"))
            },
        }
    )


def imagetools_create(args: list[str]) -> None:
    """`--tag T SOURCE` (one or more --tag): a new tag for an existing image, by digest."""
    tags, sources, i = [], [], 0
    while i < len(args):
        if args[i] in ("--tag", "-t"):
            if i + 1 >= len(args):
                fail(f"{args[i]} needs a value")
            tags.append(args[i + 1])
            i += 2
            continue
        if args[i].startswith("-"):
            fail(f"unknown flag for buildx imagetools create: {args[i]}")
        sources.append(args[i])
        i += 1
    if not tags or len(sources) != 1:
        fail(f"expected --tag and one source, got tags {tags}, sources {sources}")
    for tag in tags:
        if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+:[A-Za-z0-9_.-]{1,128}", tag):
            fail(f"not a registry image reference: {tag}")
    if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}", sources[0]):
        fail(f"the source is not an image pinned by digest: {sources[0]}")
    record({"command": "buildx imagetools create", "tags": tags, "source": sources[0]})


def main(argv: list[str]) -> None:
    if argv[:1] == ["version"] and argv[1:] == ["--format", "{{json .Server.Version}}"]:
        print('"27.3.1"')
    elif argv == ["buildx", "--help"]:
        print("Usage:  docker buildx [OPTIONS] COMMAND\n\n      --builder string   Override")
    elif argv == ["buildx", "version"]:
        print("github.com/docker/buildx v0.18.0 abcdef0")
    elif argv[:2] == ["buildx", "build"]:
        build(argv[2:])
    elif argv[:3] == ["buildx", "imagetools", "create"]:
        imagetools_create(argv[3:])
    elif argv[:1] == ["login"]:
        if len(argv) != 5 or argv[1] != "--username" or argv[3] != "--password-stdin":
            fail(f"unsupported login form: {argv}")
        password = sys.stdin.read()
        if not password:
            fail("empty password on stdin")
        record({"command": "login", "registry": argv[4], "username": argv[2]})
        print("Login Succeeded")
    else:
        fail(f"unsupported command: {argv}")


if __name__ == "__main__":
    main(sys.argv[1:])
