"""The model card the pipeline wrote: every section, and the numbers of metrics/*.json."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from helpers import module

card_module = module("governance.card")
config = module("settings.params")

SECTIONS = (
    "# Model card: ",
    "## Model details",
    "## Uses",
    "### Intended use",
    "### Out-of-scope use",
    "## Training data",
    "## Evaluation",
    "### Quality gate: ",
    "## Fairness",
    "## Global feature importance",
    "## Bias, risks, and limitations",
    "## Lineage",
)


def read(repo: Path, path: str) -> dict:
    return json.loads((repo / path).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def card(pipeline_repo: Path) -> tuple[str, dict]:
    markdown = (pipeline_repo / "reports" / "model_card.md").read_text(encoding="utf-8")
    return markdown, read(pipeline_repo, "reports/model_card.json")


def test_every_section_is_there_in_order_after_a_yaml_header(card: tuple[str, dict]) -> None:
    markdown, _ = card
    header = re.match(r"\A---\n(.*?)\n---\n", markdown, flags=re.DOTALL)
    assert header, markdown[:300]
    metadata = yaml.safe_load(header.group(1))
    assert metadata["library_name"] == "xgboost"
    assert metadata["pipeline_tag"].startswith("tabular-")
    positions = [markdown.find("\n" + title) for title in SECTIONS]
    assert all(p > 0 for p in positions), dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


def test_the_card_numbers_are_those_of_the_metrics_files(
    pipeline_repo: Path, card: tuple[str, dict]
) -> None:
    markdown, found = card
    evaluation = read(pipeline_repo, "metrics/evaluate.json")
    assert found["evaluation"]["metrics"] == evaluation["metrics"]
    assert found["evaluation"]["test_rows"] == evaluation["test_rows"]
    for name, interval in evaluation["metrics"].items():
        row = f"| {name} | {interval['value']:.4f} | [{interval['ci_low']:.4f}, "
        assert row in markdown, name
    indexed = found["metadata"]["model-index"][0]["results"][0]["metrics"]
    assert {m["type"]: m["value"] for m in indexed} == {
        k: v["value"] for k, v in evaluation["metrics"].items()
    }
    gate = read(pipeline_repo, "reports/gate.json")
    assert found["gate"]["passed"] == gate["passed"]
    assert [r["rule"] for r in found["gate"]["rules"]] == [r["rule"] for r in gate["rules"]]
    train = read(pipeline_repo, "metrics/train.json")
    assert found["model"]["rounds"] == train["best_iteration"] + 1


def test_the_lineage_names_the_commit_and_the_md5_of_data_params_and_model(
    pipeline_repo: Path, card: tuple[str, dict]
) -> None:
    markdown, found = card
    lineage = found["lineage"]
    metadata = read(pipeline_repo, "models/metadata.json")
    params_md5 = hashlib.md5((pipeline_repo / "params.yaml").read_bytes()).hexdigest()
    assert lineage["model_md5"] == metadata["model_md5"]
    assert lineage["data_md5"] == read(pipeline_repo, "reports/data.json")["raw_md5"]
    assert lineage["params_md5"] == params_md5
    assert re.fullmatch(r"[0-9a-f]{40}", lineage["git_commit"])
    assert lineage["git_dirty"] in (True, False)
    assert lineage["image_digest"] is None
    for value in (metadata["model_md5"], params_md5, lineage["git_commit"]):
        assert value in markdown


def test_what_the_user_must_write_is_flagged_until_filled_in(
    card: tuple[str, dict], pipeline_repo: Path
) -> None:
    markdown, found = card
    params = yaml.safe_load((pipeline_repo / "params.yaml").read_text())
    for key in ("intended_use", "out_of_scope_use"):
        if params["card"][key]:
            assert params["card"][key] in markdown
        else:
            assert card_module.not_filled(key) in markdown
            assert found[key] is None


def test_training_data_lists_the_columns_left_out_and_why(card: tuple[str, dict]) -> None:
    _, found = card
    data = found["training_data"]
    assert set(data["rows"]) == {"rows_in", "rows_out", "train_rows", "test_rows"}
    for entry in data["columns_dropped"]:
        assert entry["column"] not in found["model"]["features"]
        assert entry["reason"]


def test_the_objective_is_the_one_xgboost_saved_in_the_model(
    pipeline_repo: Path, card: tuple[str, dict]
) -> None:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(pipeline_repo / "models" / "model.ubj"))
    saved = json.loads(booster.save_config())["learner"]["objective"]["name"]
    assert card[1]["model"]["objective"] == saved
