"""Command `registry`: the model's versions and stages (git tags in GTO's format).

  registry list [--json]                 versions, stages, model md5, image digest (`make registry`)
  registry next [--bump B]               the next version (bump: registry.bump, or B)
  registry publish --version V [--image I --image-digest D] [--commit C] [--out FILE]
                   [--record-only]
  registry promote --version V --stage S [--main-ref REF --github-repo OWNER/REPO] [--out FILE]
  registry verify --version V --main-ref REF --github-repo OWNER/REPO
  registry card (--version V | --record FILE) [--out DIR]

`publish` tags the commit `<model>@V`; `promote` tags the version's commit `<model>#S#<n>`.
Each tag's message is the event's audit record (`registry.audit`), also written to `--out`.
`card` writes the released model card (`model_card.md` and `.json` in DIR, default
`build/release`): the pipeline's card (`reports/model_card.json`, which must be the published
model's) with the version's registry tag and image digest in its lineage, from the publication
record (a file, or the version's tag).
With `--main-ref` and `--github-repo`, `promote` first checks that the version is main's
attested image (`registry.provenance`: on main, tagged by the workflow, attestation verified)
and writes nothing otherwise; `verify` runs only those checks. promote.yml always passes them.
Tags are created locally: push them (`git push origin <tag>`), as the workflows do.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import PACKAGE
from ..errors import PipelineError
from . import audit, provenance, tags


def _settings() -> Any:
    from ..settings.params import load_params

    return load_params().registry


def listing(registry: tags.Registry) -> list[dict[str, Any]]:
    """One row per version, newest first: commit, model md5, image digest, stages held."""
    rows = []
    for version in sorted(registry.versions, key=tags.parse_version, reverse=True):
        tag = registry.versions[version]
        rows.append(
            {
                "version": version,
                "tag": tag.name,
                "commit": tag.commit,
                "created": tag.created,
                "model_md5": tag.record.get("model_md5"),
                "image_digest": tag.record.get("image_digest"),
                "stages": registry.stages_of(version),
            }
        )
    return rows


def table(registry: tags.Registry, stages: list[str]) -> str:
    lines = [f"model {registry.model}"]
    for stage in stages:
        lines.append(f"  {stage}: {registry.stage_version(stage) or '-'}")
    lines.append("")
    lines.append("| version | commit | model md5 | image digest | stages |")
    lines.append("|---|---|---|---|---|")
    for row in listing(registry):
        lines.append(
            f"| {row['version']} | {row['commit'][:12]} | {row['model_md5'] or '-'} | "
            f"{row['image_digest'] or '-'} | {', '.join(row['stages']) or '-'} |"
        )
    return "\n".join(lines)


def next_version(registry: tags.Registry, how: str) -> str:
    latest = registry.latest
    return tags.format_version(tags.bump(tags.parse_version(latest) if latest else None, how))


def publish(
    repo: Path, model: str, version: str, *, commit: str = "HEAD", tag: bool = True, **given: Any
) -> dict[str, Any]:
    """Tag `commit` as `<model>@<version>`; the version must be above every existing one.

    With `tag=False`, only the record (CI: another job, allowed to push, creates the tag).
    """
    version = tags.format_version(tags.parse_version(version))
    registry = tags.read(repo, model)
    if registry.latest and tags.parse_version(version) <= tags.parse_version(registry.latest):
        raise PipelineError(
            f"version {version} is not above the latest, {registry.latest}: versions only grow"
        )
    sha = tags.git(repo, "rev-parse", commit + "^" + "{commit}").strip()
    name = f"{model}@{version}"
    found = audit.record("publish", model=model, version=version, tag=name, commit=sha, **given)
    if tag:
        tags.create(repo, name, sha, found)
    return found


def promote(
    repo: Path,
    model: str,
    version: str,
    stage: str,
    stages: list[str],
    expected: provenance.Expected | None = None,
) -> dict[str, Any]:
    """Assign `stage` to `version`: tag its commit `<model>#<stage>#<n>` (n: the next one).

    Rolling back is promoting an older version. The record repeats the version's lineage.
    With `expected`, nothing is tagged unless the version is main's attested image.
    """
    if stage not in stages:
        raise PipelineError(f"stage {stage!r} is not one of registry.stages {stages}")
    version = tags.format_version(tags.parse_version(version))
    registry = tags.read(repo, model)
    if expected is not None:
        provenance.verify(repo, registry, version, expected)
    if version not in registry.versions:
        known = sorted(registry.versions, key=tags.parse_version)
        raise PipelineError(f"{model}@{version} is not a published version; published: {known}")
    published = registry.versions[version]
    n = 1 + max((n for n, _ in registry.assignments.get(stage, [])), default=0)
    lineage = {
        k: published.record.get(k)
        for k in ("data_md5", "params_md5", "model_md5", "gate", "image", "image_digest")
    }
    name = f"{model}#{stage}#{n}"
    found = audit.record(
        "promote", model=model, version=version, tag=name, stage=stage,
        commit=published.commit, dirty=False, **lineage,
    )  # fmt: skip
    tags.create(repo, name, published.commit, found)
    return found


RELEASE_DIR = Path("build/release")


def release_card(record: Mapping[str, Any], out: Path) -> dict[str, Any] | None:
    """Write the released model card of the publication `record` into `out` (`.md`, `.json`).

    None (nothing written) when `card.enabled` is off: the pipeline wrote no card.
    """
    from ..artifacts import paths
    from ..artifacts.atomic import staged_outputs
    from ..governance.card import released, render

    if not paths.MODEL_CARD_JSON.is_file():
        raise PipelineError(f"{paths.MODEL_CARD_JSON} not found: run the pipeline first")
    card = json.loads(paths.MODEL_CARD_JSON.read_text(encoding="utf-8"))
    if card.get("enabled") is False:
        return None
    found = released(card, record)
    with staged_outputs() as staged:
        staged.write_json(out / "model_card.json", found)
        staged.write_text(out / "model_card.md", render(found))
    return found


def version_record(registry: tags.Registry, version: str) -> dict[str, Any]:
    """The publication record of a published version (its tag's message)."""
    version = tags.format_version(tags.parse_version(version))
    if version not in registry.versions:
        known = sorted(registry.versions, key=tags.parse_version)
        raise PipelineError(
            f"{registry.model}@{version} is not a published version; published: {known}"
        )
    return dict(registry.versions[version].record)


def _expected(
    main_ref: str | None, github_repo: str | None, *, required: bool
) -> provenance.Expected | None:
    """The provenance to check: both of `--main-ref` and `--github-repo`, or neither."""
    if main_ref and github_repo:
        return provenance.Expected(main_ref=main_ref, github_repo=github_repo)
    if required or main_ref or github_repo:
        raise PipelineError("give both --main-ref (e.g. origin/main) and --github-repo OWNER/REPO")
    return None


def _parser() -> argparse.ArgumentParser:
    """The `registry` command's arguments: one subcommand per action."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} registry", description=__doc__)
    parser.add_argument("--repo", type=Path, default=Path("."), help="the git repository")
    commands = parser.add_subparsers(dest="command", required=True)
    shown = commands.add_parser("list", help="versions and stages")
    shown.add_argument("--json", action="store_true")
    upcoming = commands.add_parser("next", help="print the next version")
    upcoming.add_argument("--bump", choices=tags.BUMPS)
    published = commands.add_parser("publish", help="tag a commit as a new version")
    published.add_argument("--version", required=True)
    published.add_argument("--commit", default="HEAD")
    published.add_argument("--image")
    published.add_argument("--image-digest")
    published.add_argument("--out", type=Path)
    published.add_argument("--record-only", action="store_true", help="write no tag")
    promoted = commands.add_parser("promote", help="assign a stage to a version")
    promoted.add_argument("--version", required=True)
    promoted.add_argument("--stage", required=True)
    promoted.add_argument("--out", type=Path)
    verified = commands.add_parser("verify", help="check that a version is main's attested image")
    verified.add_argument("--version", required=True)
    for given in (promoted, verified):
        given.add_argument("--main-ref", help="main's ref here, e.g. origin/main")
        given.add_argument("--github-repo", help="this repository on GitHub, OWNER/REPO")
    carded = commands.add_parser("card", help="write a published version's model card")
    source = carded.add_mutually_exclusive_group(required=True)
    source.add_argument("--version")
    source.add_argument("--record", type=Path, help="a publication record (publish --out)")
    carded.add_argument("--out", type=Path, default=RELEASE_DIR)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import guarded

    args = _parser().parse_args(argv)

    def run() -> None:
        settings = _settings()
        registry = tags.read(args.repo, settings.model)
        if args.command == "list":
            rows = listing(registry)
            if args.json:
                stages = {s: registry.stage_version(s) for s in settings.stages}
                print(json.dumps({"model": settings.model, "stages": stages, "versions": rows}))
            else:
                print(table(registry, settings.stages))
            return
        if args.command == "card":
            if args.record:
                record = json.loads(args.record.read_text(encoding="utf-8"))
            else:
                record = version_record(registry, args.version)
            written = release_card(record, args.out)
            if written is None:
                print("card.enabled is off: no model card to release")
            else:
                print(f"{args.out / 'model_card.md'}: {record.get('tag')} {record['image_digest']}")
            return
        expected = None
        if args.command in ("promote", "verify"):
            expected = _expected(args.main_ref, args.github_repo, required=args.command == "verify")
        if args.command == "verify" and expected is not None:
            tag = provenance.verify(args.repo, registry, args.version, expected)
            print(f"{tag.name}: on {args.main_ref}, tagged by the workflow, attestation verified")
            return
        if args.command == "next":
            print(next_version(registry, args.bump or settings.bump))
            return
        if args.command == "publish":
            found = publish(
                args.repo, settings.model, args.version, commit=args.commit,
                tag=not args.record_only, image=args.image, image_digest=args.image_digest,
            )  # fmt: skip
        else:
            found = promote(
                args.repo, settings.model, args.version, args.stage, settings.stages, expected
            )
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(found))

    return guarded(run, "registry")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
