"""Validate every answer before cookiecutter renders a single file.

Cookiecutter runs this script after the questions and before it renders the project. When an
answer is wrong, the script prints one line per wrong answer to stderr, naming the field and what
was expected, and exits 1; cookiecutter then removes the project directory it had just created,
so a failed bake leaves nothing behind.

The only Jinja in this file is the ``CONTEXT_JSON`` line. Everything else is plain Python, so the
checks can be imported and tested without rendering the file (see ``tests/test_hooks.py``).
"""

from __future__ import annotations

import json
import keyword
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

# Rendered by cookiecutter into the answers as JSON: the single line of Jinja in this file.
CONTEXT_JSON = r"""{{ cookiecutter | jsonify }}"""

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# GitHub logins: alphanumerics and single hyphens, no hyphen at either end, 1 to 39 characters.
GITHUB_OWNER_RE = re.compile(r"^(?=.{1,39}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")

# Import names a package of the generated project must not take: it would hide the real module
# (`import xgboost` would import the project). The standard library is checked separately.
SHADOWED_MODULES = frozenset(
    {
        # the generated project's dependencies (pyproject.toml), by import name
        "bentoml",
        "dvc",
        "dvc_azure",
        "dvc_gs",
        "dvc_s3",
        "dvc_ssh",
        "dvclive",
        "evidently",
        "httpx",
        "hydra",
        "numpy",
        "omegaconf",
        "pandas",
        "pandera",
        "pre_commit",
        "pyarrow",
        "pydantic",
        "pytest",
        "ruff",
        "schemathesis",
        "sklearn",
        "tqdm",
        "xgboost",
        "yaml",
        # the build and packaging tools, and widespread neighbours of the stack
        "hatchling",
        "matplotlib",
        "pip",
        "requests",
        "scipy",
        "setuptools",
        # test layout names (`test` is the standard library's own test package)
        "test",
        "tests",
    }
)

# How a DVC remote URL of each kind must start, with an example; "none" takes no URL.
REMOTE_URL_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "s3": (re.compile(r"^s3://[^/\s]+(/\S*)?$"), "an s3:// URL with a bucket (s3://bucket/path)"),
    "gcs": (re.compile(r"^gs://[^/\s]+(/\S*)?$"), "a gs:// URL with a bucket (gs://bucket/path)"),
    "azure": (
        re.compile(r"^azure://[^/\s]+(/\S*)?$"),
        "an azure:// URL with a container (azure://container/path)",
    ),
    "ssh": (
        re.compile(r"^ssh://[^/\s]+(/\S*)?$"),
        "an ssh:// URL with a host (ssh://user@host/path)",
    ),
}

# The listed values of every choice option, exactly as in cookiecutter.json (a test keeps the two
# equal). Cookiecutter refuses other values on the command line, but not in a --replay file.
# The hook cannot read cookiecutter.json itself: it runs from a temporary copy, in the project
# directory, and the template's path in the context may be relative to a directory it cannot know.
CHOICES: dict[str, tuple[str, ...]] = {
    "python_version": ("3.11", "3.12", "3.10"),
    "xgboost_build": ("cpu", "cuda"),
    "dvc_remote": ("none", "local", "s3", "gcs", "azure", "ssh"),
    "container_registry": ("ghcr", "dockerhub"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
    "create_git_repository": ("yes", "no"),
}

TOML_UNSAFE = ('"', "\\")


class InvalidAnswer(ValueError):
    """One wrong answer: the field, the value given and what was expected."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} {value!r} is invalid: expected {expected}")


def _single_line(value: str) -> bool:
    """Whether ``value`` has no line breaks or other control characters."""
    return not any(ord(char) < 32 or ord(char) == 127 for char in value)


def check_project_name(value: str, context: Mapping[str, object]) -> None:
    """The human-readable name: the README's title."""
    if not value.strip() or not _single_line(value):
        raise InvalidAnswer("project_name", value, "a non-empty name on one line")


def check_project_slug(value: str, context: Mapping[str, object]) -> None:
    """The directory, repository and distribution name."""
    if not SLUG_RE.match(value):
        raise InvalidAnswer(
            "project_slug",
            value,
            "lowercase letters, digits and hyphens, starting with a letter "
            "(e.g. term-deposit-model)",
        )


def check_package_name(value: str, context: Mapping[str, object]) -> None:
    """The import name of the project's package under ``src/``."""
    if not PACKAGE_RE.match(value) or not value.isidentifier():
        raise InvalidAnswer(
            "package_name",
            value,
            "a Python identifier of lowercase letters, digits and underscores, "
            "starting with a letter (e.g. term_deposit_model)",
        )
    if keyword.iskeyword(value):
        raise InvalidAnswer(
            "package_name", value, "a name that is not a Python keyword (e.g. term_deposit_model)"
        )
    if value in SHADOWED_MODULES or value in sys.stdlib_module_names:
        raise InvalidAnswer(
            "package_name",
            value,
            f"a name that does not shadow an existing module ('import {value}' would load the "
            "project instead; e.g. term_deposit_model)",
        )


def check_description(value: str, context: Mapping[str, object]) -> None:
    """One line that goes into pyproject.toml as a TOML string."""
    if not _single_line(value) or any(char in value for char in TOML_UNSAFE):
        raise InvalidAnswer("description", value, "one line without double quotes or backslashes")


def check_author_name(value: str, context: Mapping[str, object]) -> None:
    """The author in pyproject.toml and LICENSE."""
    if not value.strip() or not _single_line(value) or any(c in value for c in TOML_UNSAFE):
        raise InvalidAnswer(
            "author_name",
            value,
            "a non-empty name on one line without double quotes or backslashes",
        )


def check_author_email(value: str, context: Mapping[str, object]) -> None:
    """The author's email address in pyproject.toml."""
    if not EMAIL_RE.match(value) or any(char in value for char in TOML_UNSAFE):
        raise InvalidAnswer("author_email", value, "an email address such as you@example.com")


def check_github_owner(value: str, context: Mapping[str, object]) -> None:
    """The GitHub user or organisation that owns the repository."""
    if not GITHUB_OWNER_RE.match(value):
        raise InvalidAnswer(
            "github_owner",
            value,
            "a GitHub user or organisation name: 1 to 39 letters, digits and single hyphens, "
            "not starting or ending with a hyphen (e.g. your-github-user)",
        )


def _is_absolute_path(value: str) -> bool:
    """Whether ``value`` is an absolute path on POSIX or Windows."""
    return PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()


def check_dvc_remote_url(value: str, context: Mapping[str, object]) -> None:
    """The DVC remote URL must match the remote kind chosen in ``dvc_remote``."""
    kind = str(context.get("dvc_remote", ""))
    because = f" because dvc_remote is {kind!r}"
    if kind == "none":
        if value != "":
            raise InvalidAnswer(
                "dvc_remote_url", value, "an empty value" + because + " (pick a remote kind)"
            )
        return
    if not _single_line(value) or value != value.strip():
        raise InvalidAnswer("dvc_remote_url", value, "a URL on one line" + because)
    if kind == "local":
        if not (_is_absolute_path(value) or re.match(r"^file://\S+$", value)):
            raise InvalidAnswer(
                "dvc_remote_url",
                value,
                "an absolute path or a file:// URL (e.g. /srv/dvc-storage)" + because,
            )
        return
    if kind in REMOTE_URL_RULES:
        pattern, expected = REMOTE_URL_RULES[kind]
        if not pattern.match(value):
            raise InvalidAnswer("dvc_remote_url", value, expected + because)
    # Any other kind is rejected by the choice check of dvc_remote itself.


def check_create_git_repository(value: str, context: Mapping[str, object]) -> None:
    """Creating the repository needs git; fail now rather than after rendering."""
    if value == "yes" and shutil.which("git") is None:
        raise InvalidAnswer(
            "create_git_repository",
            value,
            "'no', because git is not on PATH (install git, or answer 'no' and create the "
            "repository yourself)",
        )


# Free-text answers and their checks. Choice answers are checked against CHOICES first; an
# answer with both gets both.
CHECKS: dict[str, Callable[[str, Mapping[str, object]], None]] = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "package_name": check_package_name,
    "description": check_description,
    "author_name": check_author_name,
    "author_email": check_author_email,
    "github_owner": check_github_owner,
    "dvc_remote_url": check_dvc_remote_url,
    "create_git_repository": check_create_git_repository,
}


def check_choices(
    context: Mapping[str, object], choices: Mapping[str, Sequence[str]] = CHOICES
) -> list[InvalidAnswer]:
    """Every choice answer is one of its listed values (compared as strings)."""
    errors = []
    for name, allowed in choices.items():
        value = context.get(name)
        if str(value) not in allowed:
            listed = ", ".join(repr(choice) for choice in allowed)
            errors.append(InvalidAnswer(name, value, f"one of {listed}"))
    return errors


def validate(
    context: Mapping[str, object], choices: Mapping[str, Sequence[str]] = CHOICES
) -> list[InvalidAnswer]:
    """All wrong answers in ``context``, in the order of the checks; empty when all are fine."""
    errors = check_choices(context, choices)
    wrong_choices = {error.field for error in errors}
    for name, check in CHECKS.items():
        if name in wrong_choices:
            continue
        try:
            check(str(context.get(name, "")), context)
        except InvalidAnswer as error:
            errors.append(error)
    return errors


def remove_rendered_copy(script: Path) -> None:
    """Delete the rendered copy of this script that cookiecutter leaves in the temp directory.

    Cookiecutter renders each hook (answers included) into a temporary file that it never
    deletes. Call this only once ``CONTEXT_JSON`` has parsed, which proves ``script`` is that
    rendered copy and not the template's own file.
    """
    script.unlink(missing_ok=True)


def main() -> int:
    """Check the answers rendered into ``CONTEXT_JSON``; return the exit status."""
    context = json.loads(CONTEXT_JSON)
    remove_rendered_copy(Path(__file__))
    errors = validate(context)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        print(
            "Nothing was generated: run cookiecutter again with these answers fixed.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
