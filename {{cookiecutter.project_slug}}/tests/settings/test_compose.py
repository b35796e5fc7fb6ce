"""conf/ composes into exactly the committed params.yaml; every experiment composes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import ROOT, module

compose = module("settings.compose")
config = module("settings.params")
errors = module("errors")

EXPERIMENTS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_committed_params_are_the_composition_of_conf(tmp_path: Path) -> None:
    composed = tmp_path / "params.yaml"
    compose.compose(composed)
    assert composed.read_text() == (ROOT / "params.yaml").read_text()


def test_at_least_two_named_experiments() -> None:
    assert len(EXPERIMENTS) >= 2


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_validates(tmp_path: Path, experiment: str) -> None:
    out = tmp_path / "params.yaml"
    compose.compose(out, [f"experiment={experiment}"])
    params = config.load_params(out)
    assert params.model.n_estimators >= 1
    if yaml.safe_load(out.read_text()) == yaml.safe_load((ROOT / "params.yaml").read_text()):
        pytest.skip(
            f"experiment {experiment} sets what conf/config.yaml already selects (it composes "
            "and validates; whether it changes anything is checked on other configurations)"
        )


def test_override_changes_one_value(tmp_path: Path) -> None:
    out = tmp_path / "params.yaml"
    compose.compose(out, ["model.max_depth=8"])
    assert config.load_params(out).model.max_depth == 8


@pytest.mark.parametrize(
    ("override", "message"),
    [("model.max_dpeth=3", "max_dpeth"), ("model.max_depth=deep", "model.max_depth")],
)
def test_bad_overrides_name_the_key(tmp_path: Path, override: str, message: str) -> None:
    out = tmp_path / "params.yaml"
    with pytest.raises(errors.PipelineError, match=message):
        compose.compose(out, [override])
    assert not out.exists()


def test_a_composition_error_names_conf_and_the_keys_not_a_scratch_file(tmp_path: Path) -> None:
    out = tmp_path / "params.yaml"
    with pytest.raises(errors.PipelineError) as failed:
        compose.compose(out, ["evaluate.fairness.groups=[{column:no_such_column}]"])
    message = str(failed.value)
    assert message.startswith("conf/: 1 invalid setting(s)")
    assert "evaluate.fairness.groups.0.column: 'no_such_column' is not one of" in message
    assert "(top level)" not in message
    assert "/tmp" not in message
    assert not out.exists()
