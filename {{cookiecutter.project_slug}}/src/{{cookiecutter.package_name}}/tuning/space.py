"""The search space and study settings of `conf/tune/<name>.yaml`, validated, and sampling.

Each parameter is a dotted key of `params.yaml` under `model.` or `train.` with its type:
`int` / `float` (`low`, `high`, optional `log` or `step`) or `categorical` (`choices`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import PipelineError

if TYPE_CHECKING:
    import optuna

TUNE_DIR = Path("conf/tune")
TUNABLE_SECTIONS = ("model", "train")
Choice = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Strict):
    """One searched parameter."""

    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    choices: list[Choice] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty 'choices' list")
            if self.low is not None or self.high is not None or self.log or self.step:
                raise ValueError("'low', 'high', 'log', 'step' apply to int and float only")
            return self
        if self.choices is not None:
            raise ValueError("'choices' applies to categorical parameters only")
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError("give 'low' < 'high'")
        if self.log and self.low <= 0:
            raise ValueError("'log: true' needs 'low' > 0")
        if self.log and self.step is not None:
            raise ValueError("give at most one of 'log' and 'step'")
        if self.type == "int" and not (
            float(self.low).is_integer() and float(self.high).is_integer()
        ):
            raise ValueError("an int parameter needs whole 'low' and 'high'")
        return self

    def grid(self, name: str) -> list[Choice]:
        """Every value the grid sampler tries (int: every `step`; float needs `step`)."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None
        assert self.high is not None
        if self.type == "int":
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        if self.step is None:
            raise PipelineError(
                f"tune space '{name}': the grid sampler needs a 'step' (or 'choices') "
                "for float parameters"
            )
        count = round((self.high - self.low) / self.step) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]

    def suggest(self, trial: optuna.Trial, name: str) -> Choice:
        """The trial's value for this parameter."""
        if self.choices is not None:
            return trial.suggest_categorical(name, self.choices)  # type: ignore[arg-type]
        assert self.low is not None
        assert self.high is not None
        if self.type == "int":
            return trial.suggest_int(
                name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)


class TuneConfig(_Strict):
    """A study: what to search, how, and what to optimise."""

    metric: str = Field(default="auto", min_length=1)
    direction: Literal["auto", "minimize", "maximize"] = "auto"
    trials: int = Field(default=30, ge=1)
    timeout_s: float | None = Field(default=None, gt=0)
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    seed: int | None = Field(default=None, ge=0)
    parallel: int = Field(default=1, ge=1)
    pruning: bool = True
    startup_trials: int = Field(default=5, ge=0)
    space: dict[str, Parameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _tunable_keys(self) -> TuneConfig:
        bad = [k for k in self.space if k.split(".", 1)[0] not in TUNABLE_SECTIONS or "." not in k]
        if bad:
            raise ValueError(
                f"space keys must be dotted params keys under {list(TUNABLE_SECTIONS)} "
                f"(e.g. model.max_depth), got {bad}"
            )
        return self


def load_tune_config(name_or_path: str | Path) -> TuneConfig:
    """Read `conf/tune/<name>.yaml` (or a path); raise `PipelineError` naming a bad key."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = TUNE_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in TUNE_DIR.glob("*.yaml"))
        raise PipelineError(f"{path} not found (search spaces in {TUNE_DIR}/: {known})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: expected a mapping of settings")
    try:
        return TuneConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"key '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise PipelineError(
            f"{path}: invalid setting(s):\n  - " + "\n  - ".join(problems)
        ) from None


def apply_values(raw_params: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the params mapping with each dotted key set; unknown keys raise."""
    import copy

    updated = copy.deepcopy(raw_params)
    for key, value in values.items():
        node = updated
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                raise PipelineError(f"tune space '{key}': params.yaml has no section '{part}'")
            node = child
        if leaf not in node:
            raise PipelineError(f"tune space '{key}': params.yaml has no key '{key}'")
        node[leaf] = value
    return updated
