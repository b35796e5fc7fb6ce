"""Promotion's checks: only an image that main's publishing workflow built and attested from a
commit on main may reach a stage.

Version tags are data anyone with write access can forge (a tag on a branch commit naming an
image they built and attested elsewhere). Before a stage tag is written, `verify` checks:
- the version tag is annotated and its record (the message) names the tag's own commit;
- the tagger is the workflow's identity (`github-actions[bot]`): forgeable by itself, it is
  backed by the tag ruleset that lets only GitHub Actions create `<model>@v*` tags;
- the tag's commit is an ancestor of main (`main_ref`, e.g. `origin/main`);
- the image digest's build-provenance attestation verifies with `gh attestation verify` for
  this repository, signed by its main publishing workflow from `refs/heads/main` at that
  commit (`attestation_command` is the exact command, also the one deployers run).
Every failed check is named; nothing is tagged unless all pass.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import PipelineError
from . import tags

BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
PUBLISHING_WORKFLOW = ".github/workflows/main.yml"
MAIN_REF = "refs/heads/main"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Expected:
    """What a promotable version must match: main's ref here, and this GitHub repository."""

    main_ref: str
    github_repo: str


def attestation_command(image: str, digest: str, github_repo: str, commit: str) -> list[str]:
    """`gh attestation verify` for `image@digest`: main's publishing workflow of `github_repo`
    signed it from `refs/heads/main` at `commit`."""
    return [
        "gh", "attestation", "verify", f"oci://{image}@{digest}",
        "--repo", github_repo,
        "--signer-workflow", f"{github_repo}/{PUBLISHING_WORKFLOW}",
        "--source-ref", MAIN_REF,
        "--source-digest", commit,
        "--deny-self-hosted-runners",
    ]  # fmt: skip


def _tagger_email(repo: Path, name: str) -> str:
    return tags.git(repo, "for-each-ref", "--format=%(taggeremail)", f"refs/tags/{name}").strip()


def _on_main(repo: Path, commit: str, main_ref: str) -> bool:
    found = subprocess.run(
        ["git", "merge-base", "--is-ancestor", commit, main_ref],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode > 1:
        raise PipelineError(f"git merge-base {commit} {main_ref} failed: {found.stderr.strip()}")
    return found.returncode == 0


def _attested(command: list[str]) -> str | None:
    """None when `gh` verifies; otherwise what it said."""
    try:
        found = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    except FileNotFoundError:
        return "the GitHub CLI (gh) is not installed"
    if found.returncode == 0:
        return None
    said = (found.stderr.strip() or found.stdout.strip()).splitlines()
    return said[-1] if said else f"exit {found.returncode}"


def problems(repo: Path, tag: tags.Tag, expected: Expected) -> list[str]:
    """What does not verify about the version tag `tag` (empty: promotable)."""
    if not GITHUB_REPO.fullmatch(expected.github_repo):
        raise PipelineError(f"--github-repo {expected.github_repo!r}: expected OWNER/REPO")
    found = []
    record = tag.record
    if not record:
        found.append(f"{tag.name} is not an annotated tag with a publication record")
    elif record.get("commit") != tag.commit or record.get("tag") != tag.name:
        found.append(
            f"{tag.name}'s record names {record.get('tag')} at {record.get('commit')}, "
            f"not the tag's own commit {tag.commit}"
        )
    email = _tagger_email(repo, tag.name)
    if email != f"<{BOT_EMAIL}>":
        tagger = email or "nobody"
        found.append(f"{tag.name} was tagged by {tagger}, not the workflow ({BOT_EMAIL})")
    if not _on_main(repo, tag.commit, expected.main_ref):
        found.append(f"{tag.name}'s commit {tag.commit} is not on main ({expected.main_ref})")
    image, digest = record.get("image"), record.get("image_digest")
    if not image or not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        found.append(f"{tag.name}'s record names no image and sha256 digest")
        return found
    said = _attested(attestation_command(image, digest, expected.github_repo, tag.commit))
    if said is not None:
        found.append(
            f"the attestation of {image}@{digest} did not verify as built by "
            f"{expected.github_repo}/{PUBLISHING_WORKFLOW} from {MAIN_REF} at {tag.commit}: {said}"
        )
    return found


def verify(repo: Path, registry: tags.Registry, version: str, expected: Expected) -> tags.Tag:
    """The version's tag when it is main's attested image; `PipelineError` naming every check
    that failed otherwise."""
    version = tags.format_version(tags.parse_version(version))
    if version not in registry.versions:
        known = sorted(registry.versions, key=tags.parse_version)
        raise PipelineError(
            f"{registry.model}@{version} is not a published version; published: {known}"
        )
    tag = registry.versions[version]
    found = problems(repo, tag, expected)
    if found:
        raise PipelineError(
            f"{tag.name} cannot be promoted, it is not main's attested image:\n  - "
            + "\n  - ".join(found)
        )
    return tag
