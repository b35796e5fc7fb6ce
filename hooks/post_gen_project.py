"""Finish the generated project: create the git repository and print the next steps.

Options are realised by config values in the rendered files; no file depends on an answer, so
nothing is pruned (add a pruning step here, with a test on a bake, when one does).

Cookiecutter runs this script in the new project directory after rendering every file. If it
exits non-zero, cookiecutter removes the project directory it created.

The only Jinja in this file is the ``CONTEXT_JSON`` line; the rest is plain Python, importable
and testable without rendering (see ``tests/test_hooks.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# Rendered by cookiecutter into the answers as JSON: the single line of Jinja in this file.
CONTEXT_JSON = r"""{{ cookiecutter | jsonify }}"""

INITIAL_COMMIT_MESSAGE = "Generate the project from cookiecutter-gitops-ml"


class HookError(RuntimeError):
    """A step failed; the message says which and what to do."""


def _git(git: str, args: Sequence[str], cwd: Path) -> str:
    """Run git and return its stdout; raise HookError with git's message when it fails."""
    result = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HookError(
            f"'git {' '.join(args)}' failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result.stdout.strip()


def identity_flags(git: str, cwd: Path, author_name: str, author_email: str) -> list[str]:
    """``-c user.name=... -c user.email=...`` for whichever of the two git has no value for.

    The flags apply to the one command they are passed to: nothing is written to any git config.
    """
    flags: list[str] = []
    for key, fallback in (("user.name", author_name), ("user.email", author_email)):
        configured = subprocess.run(
            [git, "config", "--get", key], cwd=cwd, capture_output=True, text=True, check=False
        ).stdout.strip()
        if not configured:
            flags += ["-c", f"{key}={fallback}"]
    return flags


def create_git_repository(project_dir: Path, author_name: str, author_email: str) -> None:
    """``git init`` on branch main, stage everything and make the first commit."""
    git = shutil.which("git")
    if git is None:
        raise HookError(
            "create_git_repository is 'yes' but git is not on PATH: install git, or bake again "
            "with create_git_repository=no"
        )
    _git(git, ["init", "--quiet"], project_dir)
    # Same as `git init -b main`, also on git older than 2.28.
    _git(git, ["symbolic-ref", "HEAD", "refs/heads/main"], project_dir)
    _git(git, ["add", "--all"], project_dir)
    flags = identity_flags(git, project_dir, author_name, author_email)
    _git(git, [*flags, "commit", "--quiet", "-m", INITIAL_COMMIT_MESSAGE], project_dir)


def next_steps(project_dir: Path, git_created: bool) -> str:
    """The message printed at the end of a successful bake."""
    lines = [f"Created {project_dir}", "", "Next steps:", f"  cd {project_dir}"]
    if not git_created:
        lines.append(
            "  git init -b main && git add -A && git commit -m 'Initial commit'"
            "   # DVC experiments need a git repository"
        )
    lines += [
        "  make setup   # .venv from uv.lock (needs uv)",
        "  make run     # run the pipeline as a DVC experiment",
        "  make help    # every other target",
    ]
    return "\n".join(lines)


def remove_rendered_copy(script: Path) -> None:
    """Delete the rendered copy of this script that cookiecutter leaves in the temp directory.

    Cookiecutter renders each hook (answers included) into a temporary file that it never
    deletes. Call this only once ``CONTEXT_JSON`` has parsed, which proves ``script`` is that
    rendered copy and not the template's own file.
    """
    script.unlink(missing_ok=True)


def main() -> int:
    """Create the repository if asked, print the next steps; return the exit status."""
    context = json.loads(CONTEXT_JSON)
    remove_rendered_copy(Path(__file__))
    project_dir = Path.cwd()
    git_wanted = str(context["create_git_repository"]) == "yes"
    try:
        if git_wanted:
            create_git_repository(
                project_dir, str(context["author_name"]), str(context["author_email"])
            )
    except HookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(next_steps(project_dir, git_created=git_wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
