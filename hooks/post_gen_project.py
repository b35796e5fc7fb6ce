"""Finish the generated project: record its template, create the git repository, print next steps.

The record is ``.cruft.json`` in cruft's own format (template URL, commit, answers), so that
``make update-template`` (cruft) can take newer template commits as a three-way merge, whether
the project was baked with plain cookiecutter or with ``cruft create``.

Options are realised by config values in the rendered files; no file depends on an answer, so
nothing is pruned (add a pruning step here, with a test on a bake, when one does).

Cookiecutter runs this script in the new project directory after rendering every file. If it
exits non-zero, cookiecutter removes the project directory it created.

The only Jinja in this file is the ``CONTEXT_JSON`` line; the rest is plain Python, importable
and testable without rendering (see ``tests/test_hooks.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# Rendered by cookiecutter into the answers as JSON: the single line of Jinja in this file.
CONTEXT_JSON = r"""{{ cookiecutter | jsonify }}"""

INITIAL_COMMIT_MESSAGE = "Generate the project from cookiecutter-gitops-ml"
CRUFT_FILE = ".cruft.json"
# Context keys that describe one machine's bake, not the project: never recorded.
MACHINE_KEYS = ("_output_dir", "_repo_dir", "_checkout")
# cookiecutter's built-in abbreviations (cookiecutter.config.BUILTIN_ABBREVIATIONS).
ABBREVIATIONS = {
    "gh:": "https://github.com/{0}.git",
    "gl:": "https://gitlab.com/{0}.git",
    "bb:": "https://bitbucket.org/{0}",
}
REMOTE_PREFIXES = ("https://", "http://", "git@", "ssh://", "git://", "file://")


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


def rendered_by_cruft(context: dict[str, object]) -> bool:
    """True when cruft renders the template (``cruft create``, or ``cruft update``'s two renders).

    Only cruft puts ``_commit`` in the context; plain cookiecutter does not. ``cruft update``
    renders the old and the new template into temporary folders and diffs them: a git repository
    or a ``.cruft.json`` written there would be diffed as project files. cruft writes
    ``.cruft.json`` itself.
    """
    return "_commit" in context


def template_url(template: str) -> str:
    """The git URL cruft can clone for what cookiecutter was given (``gh:o/r``, ``git+https``)."""
    for prefix, url in ABBREVIATIONS.items():
        if template.startswith(prefix):
            return url.format(template[len(prefix) :])
    return template.removeprefix("git+")


def template_directory(
    repo_dir: str, parent_cwd: Path | None, shell_cwd: str | None = None
) -> Path | None:
    """The template's folder on this machine, or None when it cannot be found.

    ``_repo_dir`` is as cookiecutter was given it, relative to cookiecutter's own working
    directory when it is a relative path. cookiecutter runs each hook from inside the template
    folder, so its process's working directory (``parent_cwd``, Linux) is that folder; else the
    shell's ``PWD`` (``shell_cwd``) joined with the relative path is tried.
    """
    path = Path(repo_dir)
    candidates = [path] if path.is_absolute() else []
    if parent_cwd is not None:
        candidates.append(parent_cwd)
    if shell_cwd and not path.is_absolute():
        candidates.append(Path(shell_cwd) / path)
    return next((c for c in candidates if (c / "cookiecutter.json").is_file()), None)


def parent_working_directory() -> Path | None:
    """The working directory of the process that runs this hook (Linux's /proc), or None."""
    link = Path(f"/proc/{os.getppid()}/cwd")
    try:
        return link.resolve(strict=True)
    except OSError:
        return None


def template_source(template: str, directory: Path | None) -> tuple[str, str | None, str | None]:
    """(template URL or path, commit, subdirectory) of the template checkout in ``directory``.

    The commit is None when the template is not a git checkout (a plain folder, a zip file):
    an update needs the commit the project was baked from.
    """
    git = shutil.which("git")
    if directory is None or git is None:
        return template_url(template), None, None
    inside = subprocess.run(
        [git, "rev-parse", "HEAD", "--show-prefix", "--show-toplevel"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0:
        return template_url(template), None, None
    commit, prefix, toplevel = [*inside.stdout.splitlines(), "", ""][:3]
    subdirectory = prefix.rstrip("/") or None
    if template.startswith(REMOTE_PREFIXES) or template_url(template) != template:
        return template_url(template), commit, subdirectory
    return toplevel, commit, subdirectory


def template_is_dirty(directory: Path) -> bool:
    """True when the template checkout has changes that its commit does not hold."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(status.stdout.strip())


def cruft_state(
    context: dict[str, object], url: str, commit: str | None, subdirectory: str | None
) -> dict[str, object]:
    """``.cruft.json``'s content, as ``cruft create`` writes it: every answer, no machine paths."""
    answers = {k: v for k, v in context.items() if k not in MACHINE_KEYS}
    answers["_template"] = url
    answers["_commit"] = commit
    return {
        "template": url,
        "commit": commit,
        "checkout": context.get("_checkout") or None,
        "context": {"cookiecutter": answers},
        "directory": subdirectory,
    }


def record_template(project_dir: Path, context: dict[str, object]) -> list[str]:
    """Write ``.cruft.json``; return warnings to print (an update needs a git template)."""
    repo_dir = str(context.get("_repo_dir", ""))
    directory = template_directory(repo_dir, parent_working_directory(), os.environ.get("PWD"))
    url, commit, subdirectory = template_source(str(context.get("_template", "")), directory)
    state = cruft_state(context, url, commit, subdirectory)
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    (project_dir / CRUFT_FILE).write_text(text, encoding="utf-8")
    if directory is None:
        return [
            f"warning: the template folder ({repo_dir}) was not found from this hook, so "
            f"{CRUFT_FILE} records no commit and `make update-template` cannot run: bake from "
            "the template's git URL or an absolute path to take its updates later"
        ]
    if commit is None:
        return [
            f"warning: the template ({url}) is not a git checkout, so {CRUFT_FILE} records no "
            "commit and `make update-template` cannot run: bake from the template's git URL "
            "(or a clone of it) to take its updates later"
        ]
    if template_is_dirty(directory):
        return [
            f"warning: the template checkout has uncommitted changes; {CRUFT_FILE} records its "
            f"commit {commit[:12]}, which does not hold them"
        ]
    return []


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
    if rendered_by_cruft(context):
        return 0
    warnings = record_template(project_dir, context)
    git_wanted = str(context["create_git_repository"]) == "yes"
    try:
        if git_wanted:
            create_git_repository(
                project_dir, str(context["author_name"]), str(context["author_email"])
            )
    except HookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(next_steps(project_dir, git_created=git_wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
