"""The registry is git tags in GTO's format, read and written with plain git.

A version is an annotated tag `<model>@v<MAJOR>.<MINOR>.<PATCH>` on the commit it was built
from; a stage assignment is an annotated tag `<model>#<stage>#<n>` (n counts that stage's
assignments, 1, 2, ...) on the commit of the version it assigns. The newest assignment (the
highest n) says which version a stage holds, so rolling back is assigning an older version
again. The `gto` tool (`gto show`, `gto history`) reads the same tags. Each tag's message is
the JSON audit record of that publication or promotion (`registry.audit`).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PipelineError

NAME = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
VERSION_TAG = re.compile(rf"^(?P<model>{NAME})@v(?P<version>\d+\.\d+\.\d+)$")
STAGE_TAG = re.compile(rf"^(?P<model>{NAME})#(?P<stage>{NAME})#(?P<n>\d+)$")
BUMPS = ("major", "minor", "patch")


def parse_version(text: str) -> tuple[int, int, int]:
    """`v1.2.3` or `1.2.3` as a tuple; raise `PipelineError` otherwise."""
    found = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not found:
        raise PipelineError(f"version {text!r}: expected v<MAJOR>.<MINOR>.<PATCH>, e.g. v1.2.0")
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def format_version(version: tuple[int, int, int]) -> str:
    return "v" + ".".join(map(str, version))


def bump(version: tuple[int, int, int] | None, how: str) -> tuple[int, int, int]:
    """The next version: the first is v0.1.0 (v1.0.0 for a major bump)."""
    if how not in BUMPS:
        raise PipelineError(f"version bump {how!r}: expected one of {list(BUMPS)}")
    if version is None:
        return (1, 0, 0) if how == "major" else (0, 1, 0)
    major, minor, patch = version
    if how == "major":
        return major + 1, 0, 0
    if how == "minor":
        return major, minor + 1, 0
    return major, minor, patch + 1


@dataclass(frozen=True)
class Tag:
    """One registry tag: its name, the commit it points at, when, and its record."""

    name: str
    commit: str
    created: str
    record: dict[str, Any]


@dataclass
class Registry:
    """Every version and stage assignment of one model."""

    model: str
    versions: dict[str, Tag] = field(default_factory=dict)  # "v1.2.3" -> tag
    assignments: dict[str, list[tuple[int, Tag]]] = field(
        default_factory=dict
    )  # stage -> [(n, tag)]

    @property
    def latest(self) -> str | None:
        return max(self.versions, key=parse_version) if self.versions else None

    def stage_version(self, stage: str) -> str | None:
        """The version a stage holds now: that of its newest assignment."""
        history = self.assignments.get(stage)
        if not history:
            return None
        _, tag = max(history, key=lambda item: item[0])
        return self.version_at(tag.commit, tag.record.get("version"))

    def version_at(self, commit: str, hint: str | None = None) -> str | None:
        """The version registered at `commit` (`hint` when it is one of them)."""
        found = [v for v, tag in self.versions.items() if tag.commit == commit]
        if hint in found:
            return hint
        return max(found, key=parse_version) if found else None

    def stages_of(self, version: str) -> list[str]:
        return sorted(s for s in self.assignments if self.stage_version(s) == version)


def git(repo: Path, *args: str, input_text: str | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, input=input_text, check=False
    )
    if result.returncode != 0:
        raise PipelineError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def read(repo: Path, model: str) -> Registry:
    """The registry of `model` from the tags of the git repository at `repo`."""
    wanted = ["refname:strip=2", "objecttype", "objectname", "*objectname"]
    wanted.append("creatordate:iso-strict")
    fields = "%00".join(f"%({name})" for name in wanted)
    registry = Registry(model)
    for line in git(repo, "for-each-ref", f"--format={fields}", "refs/tags").splitlines():
        name, kind, target, peeled, created = line.split("\0")
        version, stage = VERSION_TAG.match(name), STAGE_TAG.match(name)
        if not ((version or stage) and (version or stage)["model"] == model):  # type: ignore[index]
            continue
        commit = peeled if kind == "tag" else target
        tag = Tag(name, commit, created, _record(repo, name) if kind == "tag" else {})
        if version:
            registry.versions[format_version(parse_version(version["version"]))] = tag
        elif stage:
            registry.assignments.setdefault(stage["stage"], []).append((int(stage["n"]), tag))
    return registry


def _record(repo: Path, name: str) -> dict[str, Any]:
    text = git(repo, "tag", "--list", "--format=%(contents)", name).strip()
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return record if isinstance(record, dict) else {}


def create(repo: Path, name: str, commit: str, record: dict[str, Any]) -> None:
    """An annotated tag `name` on `commit` whose message is `record` (JSON)."""
    message = json.dumps(record, indent=2, sort_keys=True)
    git(repo, "tag", "--annotate", "--file=-", name, commit, input_text=message)
