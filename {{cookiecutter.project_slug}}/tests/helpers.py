"""Test helpers: the package under test, and a small valid params mapping.

The package is found, not named: its name is chosen when the project is generated, and this
file stays plain Python (`module("stages.train")` is `<package>.stages.train`).
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = next(path.parent.name for path in sorted((ROOT / "src").glob("*/__init__.py")))


def module(name: str) -> ModuleType:
    """Import `<package>.<name>`."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def committed_params() -> dict[str, Any]:
    """A deep copy of the committed params.yaml (the composition of conf/)."""
    return copy.deepcopy(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")))
