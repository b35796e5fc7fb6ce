"""Take the project template's newer commits (cruft), and say whether there are any.

`.cruft.json` records the template this project was generated from: its git URL, the commit, and
every answer given at generation. `update` re-renders the template at that commit and at the
newest one with the same answers and applies the difference as a three-way merge (cruft runs
`git apply -3`): files you did not change take the new version, files you changed too get
conflict markers, or a `.rej` file when git cannot merge them. It then lists those files and
exits 1 when there are any. `check` says whether the template has commits this project has not
taken (with `--github-warning`: a GitHub Actions warning, and exit 0 whatever happens).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CRUFT_FILE = ".cruft.json"
RESOLVE_HELP = (
    "To resolve: edit the conflict markers (<<<<<<< ours / >>>>>>> theirs) out of the files "
    "listed, apply each .rej file's hunks by hand and delete it, then `git add` the files "
    "(`git status` shows what the update changed), run `make lint test` and commit "
    "(.cruft.json already records the new template commit). docs/template-updates.md has more."
)


# What git says of a file whose change it could apply neither three-way nor in part (no .rej is
# written): the template deleted or moved a file that you changed.
NOT_APPLIED = re.compile(r"^error: (.+): patch does not apply$", re.MULTILINE)


class TemplateUpdateError(Exception):
    """The update cannot run; the message says why and what to do."""


@dataclass(frozen=True)
class TemplateRecord:
    """What `.cruft.json` says about the template."""

    template: str
    commit: str
    checkout: str | None


@dataclass(frozen=True)
class UpdateOutcome:
    """What an update left to resolve."""

    conflicted: list[str]
    rejected: list[str]
    not_applied: list[str]

    @property
    def clean(self) -> bool:
        return not (self.conflicted or self.rejected or self.not_applied)


def read_record(project: Path) -> TemplateRecord:
    """Read `.cruft.json`; raise TemplateUpdateError naming the missing key."""
    path = project / CRUFT_FILE
    if not path.is_file():
        raise TemplateUpdateError(
            f"{CRUFT_FILE} not found in {project}: this project records no template. Link it "
            "to the template commit it was generated from: `uv run cruft link <template git URL>`"
        )
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TemplateUpdateError(f"{CRUFT_FILE} is not valid JSON: {error}") from error
    if not isinstance(state, dict):
        raise TemplateUpdateError(f"{CRUFT_FILE} must hold a JSON object")
    for key in ("template", "commit"):
        if not isinstance(state.get(key), str) or not state[key]:
            raise TemplateUpdateError(
                f"{CRUFT_FILE}: '{key}' is {state.get(key)!r}, expected the template git URL "
                "and the template commit this project was generated from (a project generated "
                "from a folder that is not a git checkout records no commit): set both, commit, "
                "and run the update again"
            )
    checkout = state.get("checkout")
    return TemplateRecord(state["template"], state["commit"], checkout or None)


def _git(project: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TemplateUpdateError(
            f"'git {' '.join(args)}' failed in {project}: "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result.stdout


def ensure_clean(project: Path) -> None:
    """Refuse a repository with uncommitted changes to tracked files (they are the user's)."""
    _git(project, "rev-parse", "--is-inside-work-tree")
    changed = _git(project, "status", "--porcelain", "--untracked-files=no").splitlines()
    if changed:
        files = ", ".join(line[3:] for line in changed)
        raise TemplateUpdateError(
            f"uncommitted changes ({files}): commit or stash them first, so that the update's "
            "changes stay apart from yours"
        )


def conflicted_files(project: Path) -> list[str]:
    """Files left with conflict markers (unmerged in git's index)."""
    return sorted(set(_git(project, "diff", "--name-only", "--diff-filter=U").splitlines()))


def rejected_hunks(project: Path) -> set[str]:
    """`.rej` files in the working tree (hunks git could not apply, not even three-way)."""
    listed = _git(project, "ls-files", "--others", "--exclude-standard", "--", "*.rej")
    return set(listed.splitlines())


class _Tee(io.TextIOBase):
    """A text stream that writes to `stream` and keeps a copy."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def not_applied_files(git_output: str, project: Path, left: set[str]) -> list[str]:
    """Files git refused whole (no conflict markers, no .rej): the user's version is kept."""
    refused = set(NOT_APPLIED.findall(git_output))
    return sorted(
        path
        for path in refused
        if path not in left and f"{path}.rej" not in left and (project / path).exists()
    )


def apply_update(project: Path, checkout: str | None) -> UpdateOutcome:
    """Run `cruft update` (no questions); return what is left to resolve."""
    import cruft
    from cruft.exceptions import CruftError

    ensure_clean(project)
    rejected_before = rejected_hunks(project)
    stderr = _Tee(sys.stderr)  # cruft passes git's messages on to stderr
    try:
        with contextlib.redirect_stderr(stderr):
            done = cruft.update(
                project_dir=project,
                skip_apply_ask=True,
                allow_untracked_files=True,
                checkout=checkout,
            )
    except CruftError as error:
        raise TemplateUpdateError(f"cruft update failed: {error.format_message()}") from error
    if not done:
        raise TemplateUpdateError("cruft update did not run (see its message above)")
    conflicted = conflicted_files(project)
    rejected = sorted(rejected_hunks(project) - rejected_before)
    return UpdateOutcome(
        conflicted=conflicted,
        rejected=rejected,
        not_applied=not_applied_files(stderr.copy.getvalue(), project, {*conflicted, *rejected}),
    )


def update(project: Path, checkout: str | None) -> int:
    """Update to the newest template commit (or `checkout`); exit 1 when files need resolving."""
    before = read_record(project)
    outcome = apply_update(project, checkout)
    after = read_record(project)
    if after.commit == before.commit:
        print(f"The project is at the newest template commit ({before.commit[:12]}).")
        return 0
    print(f"Updated from template commit {before.commit[:12]} to {after.commit[:12]}.")
    if outcome.clean:
        print("Every change applied cleanly: review `git status`, run `make lint test`, commit.")
        return 0
    for path in outcome.conflicted:
        print(f"conflict: {path}")
    for path in outcome.rejected:
        print(f"rejected: {path}")
    for path in outcome.not_applied:
        print(
            f"not applied: {path} (the template deleted or moved it and you changed it: your "
            "version is kept; port your changes to the new template file, then delete it)"
        )
    print(RESOLVE_HELP)
    return 1


def behind_template(project: Path, checkout: str | None) -> bool:
    """True when the template has commits this project has not taken (clones the template)."""
    import cruft
    from cruft.exceptions import CruftError

    os.environ.setdefault("GIT_TERMINAL_PROMPT", "0")  # a private template must not wait for input
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return not cruft.check(project_dir=project, checkout=checkout)
    except CruftError as error:
        raise TemplateUpdateError(f"cannot reach the template: {error.format_message()}") from error


def github_warning_line(title: str, message: str) -> str:
    """A GitHub Actions warning annotation (one line: the message's newlines are escaped)."""
    escaped = message.strip().replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::warning title={title}::{escaped}"


def check(project: Path, checkout: str | None, github_warning: bool) -> int:
    """Say whether the project is behind its template; exit 1 if it is (0 with github_warning)."""
    try:
        record = read_record(project)
        behind = behind_template(project, checkout)
    except TemplateUpdateError as error:
        message = f"template check skipped: {error}"
        print(github_warning_line("Template check", message) if github_warning else message)
        return 0 if github_warning else 2
    if not behind:
        print(f"The project is at the newest template commit ({record.commit[:12]}).")
        return 0
    message = (
        f"The template ({record.template}) has commits this project has not taken (it is at "
        f"{record.commit[:12]}): run `make update-template`"
    )
    if github_warning:
        print(github_warning_line("Template update available", message))
        return 0
    print(message)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="template", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    update_parser = commands.add_parser("update", help="take the newest template commit")
    check_parser = commands.add_parser("check", help="is the template ahead of this project?")
    for sub in (update_parser, check_parser):
        sub.add_argument("--checkout", help="template branch, tag or commit (default: its HEAD)")
        sub.add_argument("--project", type=Path, default=Path("."), help="the project folder")
    check_parser.add_argument(
        "--github-warning",
        action="store_true",
        help="report as a GitHub Actions warning and exit 0 (CI)",
    )
    args = parser.parse_args(argv)
    project = args.project.resolve()
    try:
        if args.command == "update":
            return update(project, args.checkout)
        return check(project, args.checkout, args.github_warning)
    except TemplateUpdateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
