"""`python -m <package> deploy`: the image digest each stage runs, in its Kustomize overlay.

`deploy/overlays/<stage>/kustomization.yaml` names the service image by digest (its `images:`
entry `model-service`): that file is the stage's desired state, which Argo CD, Flux or the
`deploy` workflow make the cluster match. promote.yml runs `deploy pin` after a promotion;
`deploy show` prints what every stage runs. The file is edited in place (comments kept), and
written atomically.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from .. import PACKAGE
from ..artifacts.atomic import staged_outputs
from ..errors import PipelineError, guarded

OVERLAYS = Path("deploy/overlays")
IMAGE_ENTRY = "model-service"  # the image name in deploy/base/deployment.yaml
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
UNPROMOTED = "sha256:" + "0" * 64  # what a stage's overlay holds before its first promotion
IMAGE_NAME = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+")


def overlay_file(stage: str, root: Path = Path(".")) -> Path:
    """The stage's kustomization.yaml; an error naming the stages that have one."""
    path = root / OVERLAYS / stage / "kustomization.yaml"
    if not re.fullmatch(r"[a-z0-9-]+", stage) or not path.is_file():
        known = sorted(p.parent.name for p in (root / OVERLAYS).glob("*/kustomization.yaml"))
        raise PipelineError(f"stage '{stage}': no {path}; stages with an overlay: {known}")
    return path


def pinned(stage: str, root: Path = Path(".")) -> dict[str, str]:
    """The stage's image: {"image": name, "digest": sha256:...}."""
    path = overlay_file(stage, root)
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = [e for e in document.get("images") or [] if e.get("name") == IMAGE_ENTRY]
    if len(entries) != 1:
        raise PipelineError(f"{path}: expected one `images:` entry named '{IMAGE_ENTRY}'")
    entry = entries[0]
    if not DIGEST.fullmatch(str(entry.get("digest", ""))) or not entry.get("newName"):
        raise PipelineError(
            f"{path}: the '{IMAGE_ENTRY}' image needs `newName` and `digest: sha256:<64 hex>`"
        )
    return {"image": str(entry["newName"]), "digest": str(entry["digest"])}


def pin(stage: str, image: str, digest: str, root: Path = Path(".")) -> bool:
    """Write `image@digest` into the stage's overlay; return whether the file changed."""
    if not DIGEST.fullmatch(digest) or digest == UNPROMOTED:
        raise PipelineError(f"digest '{digest}': expected sha256:<64 lowercase hex>")
    if not IMAGE_NAME.fullmatch(image):
        raise PipelineError(f"image '{image}': expected registry/name (no tag, no digest)")
    current = pinned(stage, root)
    if current == {"image": image, "digest": digest}:
        return False
    path = overlay_file(stage, root)
    text = path.read_text(encoding="utf-8")
    for key, old, new in (
        ("newName", current["image"], image),
        ("digest", current["digest"], digest),
    ):
        line = re.compile(rf"^(\s+{key}:\s*){re.escape(old)}\s*$", re.MULTILINE)
        if len(line.findall(text)) != 1:
            raise PipelineError(f"{path}: expected exactly one `{key}: {old}` line to replace")
        text = line.sub(lambda match, value=new: match.group(1) + value, text)
    with staged_outputs() as staged:
        staged.write_text(path, text)
    if pinned(stage, root) != {"image": image, "digest": digest}:
        raise PipelineError(f"{path}: the rewritten overlay does not name {image}@{digest}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} deploy", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository")
    commands = parser.add_subparsers(dest="command", required=True)
    shown = commands.add_parser("show", help="the image each stage's overlay names")
    shown.add_argument("--json", action="store_true")
    pinning = commands.add_parser("pin", help="write a promoted digest into a stage's overlay")
    pinning.add_argument("--stage", required=True)
    pinning.add_argument("--image", required=True, help="registry/name, e.g. ghcr.io/o/model")
    pinning.add_argument("--digest", required=True, help="sha256:...")
    args = parser.parse_args(argv)

    def run() -> None:
        if args.command == "pin":
            changed = pin(args.stage, args.image, args.digest, args.root)
            state = "written" if changed else "unchanged (already there)"
            print(f"{overlay_file(args.stage, args.root)}: {args.image}@{args.digest} {state}")
            return
        stages = sorted(p.parent.name for p in (args.root / OVERLAYS).glob("*/kustomization.yaml"))
        found = {stage: pinned(stage, args.root) for stage in stages}
        if args.json:
            print(json.dumps(found))
            return
        for stage, image in found.items():
            shown_digest = (
                "(none promoted yet)" if image["digest"] == UNPROMOTED else image["digest"]
            )
            print(f"{stage}: {image['image']}@{shown_digest}")

    return guarded(run, "deploy")


if __name__ == "__main__":
    sys.exit(main())
