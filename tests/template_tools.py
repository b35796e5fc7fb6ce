"""Helpers shared by the template's test modules (kept out of conftest.py on purpose)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
HOOKS_DIR = TEMPLATE_DIR / "hooks"

# Environment variables through which git could pick an identity or config from the machine.
GIT_ENV_VARS = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


def cookiecutter_config() -> dict[str, object]:
    """The template's cookiecutter.json."""
    return json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))


def options() -> dict[str, object]:
    """The options of cookiecutter.json (its keys without a leading underscore)."""
    return {key: value for key, value in cookiecutter_config().items() if not key.startswith("_")}


def choice_options() -> dict[str, list[str]]:
    """The choice options and their values, as strings."""
    return {
        key: [str(choice) for choice in value]
        for key, value in options().items()
        if isinstance(value, list)
    }


def load_file(path: Path, name: str) -> ModuleType:
    """Import the plain Python file `path` as module `name` (not added to sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_hook(name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` as it is in the template (its context line unrendered)."""
    return load_file(HOOKS_DIR / f"{name}.py", f"hook_{name}")


def isolate_git(
    monkeypatch: pytest.MonkeyPatch, directory: Path, identity: tuple[str, str] | None = None
) -> Path:
    """Make git see only a global config file in ``directory`` (with ``identity`` if given).

    The machine's own ~/.gitconfig (identity, signing, hooks) must not leak into the bakes.
    Returns the config file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "gitconfig"
    text = ""
    if identity is not None:
        text = f"[user]\n\tname = {identity[0]}\n\temail = {identity[1]}\n"
    config.write_text(text, encoding="utf-8")
    for name in GIT_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return config


def git(project: Path, *args: str) -> str:
    """Run git in ``project`` and return its stripped stdout; fail the test if git fails."""
    result = subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout.strip()


def files_under(root: Path) -> list[str]:
    """Every file below ``root`` as a sorted POSIX relative path, ``.git/`` excluded."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts[:1]
    )
