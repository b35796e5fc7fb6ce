"""dvc.yaml declares exactly what each stage's code reads and writes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from helpers import PACKAGE, ROOT, module

paths = module("artifacts.paths")
config = module("settings.params")

PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text())
SOURCE = ROOT / "src" / PACKAGE
STAGES = list(PIPELINE["stages"])


def module_file(dotted: str) -> Path | None:
    """The source file of `<package>.<dotted>` (a module or a subpackage), if it exists."""
    if not dotted:
        return None
    path = SOURCE.joinpath(*dotted.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return path / "__init__.py" if (path / "__init__.py").is_file() else None


def local_imports(dotted: str, seen: set[str] | None = None) -> set[str]:
    """The package modules a module imports, transitively (relative imports at any level)."""
    seen = set() if seen is None else seen
    source = module_file(dotted)
    assert source is not None, dotted
    parts = dotted.split(".")
    base = parts if source.name == "__init__.py" else parts[:-1]
    for node in ast.walk(ast.parse(source.read_text())):
        if not (isinstance(node, ast.ImportFrom) and node.level >= 1):
            continue
        anchor = base[: len(base) - (node.level - 1)]
        prefix = anchor + (node.module.split(".") if node.module else [])
        targets = [".".join(prefix)] + [".".join([*prefix, alias.name]) for alias in node.names]
        for target in targets:
            if target not in seen and module_file(target) is not None:
                seen.add(target)
                local_imports(target, seen)
    return seen


def source_path(dotted: str) -> str:
    source = module_file(dotted)
    assert source is not None, dotted
    return source.relative_to(ROOT).as_posix()


def is_plumbing(dotted: str) -> bool:
    """Error messages, the stages' shell (`settings.command`) and package docstrings cannot change
    outputs: left out of `deps` on purpose, so that editing them does not retrain the model."""
    source = module_file(dotted)
    return dotted in {"errors", "settings.command"} or (
        source is not None and source.name == "__init__.py"
    )


def test_package_inits_hold_no_code() -> None:
    """What `is_plumbing` assumes: an `__init__.py` has a docstring and constants, nothing else."""
    for init in SOURCE.rglob("__init__.py"):
        for node in ast.parse(init.read_text()).body:
            assert isinstance(node, ast.Expr | ast.Assign), f"{init}: {ast.dump(node)[:60]}"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_runs_its_own_module(stage: str) -> None:
    assert PIPELINE["stages"][stage]["cmd"] == f"python -m {PACKAGE}.stages.{stage}"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_depends_on_the_code_it_runs(stage: str) -> None:
    deps = {d for d in PIPELINE["stages"][stage]["deps"] if d.startswith("src/")}
    module_name = f"stages.{stage}"
    needed = {name for name in {module_name} | local_imports(module_name) if not is_plumbing(name)}
    assert deps == {source_path(name) for name in needed}


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


def test_dvc_parses_its_yaml_with_libyaml() -> None:
    """DVC parses dvc.yaml, dvc.lock and params.yaml about 25 times in one `dvc exp run`:
    ruamel.yaml's libyaml parser (ruamel.yaml.clib, a dependency) instead of its pure-Python one
    saves about a second of every command (ruamel.yaml 0.19 no longer installs it)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.main import CParser

    assert CParser is not None, "ruamel.yaml.clib is not installed: `uv sync --frozen`"
    assert YAML(typ="safe").Parser is CParser
