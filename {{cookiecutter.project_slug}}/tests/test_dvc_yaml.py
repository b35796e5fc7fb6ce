"""dvc.yaml declares exactly what each stage's code reads and writes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from helpers import PACKAGE, ROOT, module

paths = module("paths")
config = module("config")

PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text())
SOURCE = ROOT / "src" / PACKAGE
STAGES = list(PIPELINE["stages"])


def local_imports(name: str, seen: set[str] | None = None) -> set[str]:
    """The package modules a module imports, transitively (relative imports)."""
    seen = set() if seen is None else seen
    tree = ast.parse((SOURCE / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            targets = [node.module] if node.module else [alias.name for alias in node.names]
            for target in targets:
                if target not in seen and (SOURCE / f"{target}.py").is_file():
                    seen.add(target)
                    local_imports(target, seen)
    return seen


@pytest.mark.parametrize("stage", STAGES)
def test_stage_runs_its_own_module(stage: str) -> None:
    assert PIPELINE["stages"][stage]["cmd"] == f"python -m {PACKAGE}.{stage}"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_depends_on_the_code_it_runs(stage: str) -> None:
    deps = {d for d in PIPELINE["stages"][stage]["deps"] if d.startswith("src/")}
    # Error messages and the command-line shell cannot change outputs: left out on purpose,
    # so that editing them does not retrain the model.
    plumbing = {"errors", "stage", "__init__"}
    needed = ({stage} | local_imports(stage)) - plumbing
    expected = {f"src/{PACKAGE}/{name}.py" for name in needed}
    assert deps == expected


@pytest.mark.parametrize("stage", STAGES)
def test_declared_params_are_known_settings(stage: str) -> None:
    for key in PIPELINE["stages"][stage].get("params", []):
        assert key.split(".")[0] in config.Params.model_fields


def _declared_outputs(stage: str) -> set[str]:
    found = set()
    for section in ("outs", "metrics", "plots"):
        for item in PIPELINE["stages"][stage].get(section, []):
            found.add(next(iter(item)) if isinstance(item, dict) else item)
    return found


def test_outputs_match_the_paths_module() -> None:
    declared = set().union(*(_declared_outputs(s) for s in STAGES))
    from_code = {
        str(value)
        for name, value in vars(paths).items()
        if name.isupper() and isinstance(value, Path) and value.suffix
    }
    assert from_code <= declared
    assert {"plots/roc.json", "plots/confusion.json"} <= declared
