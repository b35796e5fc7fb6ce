"""The CPython interpreters on this machine, and which one a `python_version` choice is tested on.

Shared by the `python_version` lanes (tests/test_python_versions.py) and the default bake
(conftest.py's `default_project`), which is set up on the default choice's interpreter so that
its complete run of the generated suite is that choice's lane too.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from template_tools import PROJECT_TEMPLATE, choice_options, load_file

PYTHON_OPTIONS = choice_options()["python_version"]
DEFAULT_OPTION = PYTHON_OPTIONS[0]  # cookiecutter's default: the first choice
SEARCHED = "PATH, ~/.pyenv/versions/*/bin, uv's installed Pythons"


@dataclass(frozen=True, order=True)
class Interpreter:
    version: tuple[int, int, int]
    path: str

    @property
    def shown(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def env(self) -> dict[str, str]:
        """What makes `uv` (and so `make setup`) use this interpreter and no other."""
        return {"UV_PYTHON": self.path, "UV_PYTHON_DOWNLOADS": "never"}


@functools.cache
def check_python() -> ModuleType:
    """The generated project's scripts/check_python.py (plain Python, no template markers)."""
    return load_file(PROJECT_TEMPLATE / "scripts" / "check_python.py", "generated_check_python")


@functools.cache
def requires_python() -> str:
    return check_python().requires_python(PROJECT_TEMPLATE / "pyproject.toml")


def _candidate_paths() -> set[str]:
    minors = {option.split(".")[1] for option in PYTHON_OPTIONS}
    names = [f"python3.{minor}" for minor in sorted(minors)] + ["python3"]
    found: set[str] = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found.update(str(Path(folder) / name) for name in names if (Path(folder) / name).is_file())
    for name in names:
        found.update(glob.glob(str(Path.home() / ".pyenv" / "versions" / "*" / "bin" / name)))
    uv = shutil.which("uv")
    if uv is not None:
        listed = subprocess.run(
            [uv, "python", "list", "--only-installed", "--output-format", "json"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if listed.returncode == 0:
            found.update(entry["path"] for entry in json.loads(listed.stdout) if entry["path"])
    return found


@functools.cache
def interpreters() -> tuple[Interpreter, ...]:
    """Every CPython this machine has (one per real file), oldest first."""
    probe = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3])"
    seen: dict[str, Interpreter] = {}
    for path in sorted(_candidate_paths()):
        real = os.path.realpath(path)
        if real in seen:
            continue
        try:
            answer = subprocess.run(
                [path, "-I", "-c", probe], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue  # e.g. a pyenv shim for a version pyenv does not enable
        words = answer.stdout.split()
        if answer.returncode == 0 and len(words) == 4 and words[0] == "CPython":
            seen[real] = Interpreter((int(words[1]), int(words[2]), int(words[3])), path)
    return tuple(sorted(seen.values()))


def same_minor(option: str) -> list[Interpreter]:
    """The interpreters of `option`'s minor version (e.g. every 3.11.x), oldest first."""
    major, minor = (int(part) for part in option.split("."))
    return [i for i in interpreters() if i.version[:2] == (major, minor)]


def oldest_accepted(option: str) -> Interpreter | None:
    """The oldest patch release of `option` here that requires-python accepts, if any."""
    floor = requires_python()
    accepted = [i for i in same_minor(option) if check_python().accepts(floor, i.version)]
    return accepted[0] if accepted else None
