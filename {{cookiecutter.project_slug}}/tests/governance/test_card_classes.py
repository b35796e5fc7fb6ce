"""The card spells classes as the data config does; its YAML header keeps the metric keys."""

from __future__ import annotations

import yaml

from helpers import module

card = module("governance.card")


def interval(value: float) -> dict[str, float]:
    return {"value": value, "ci_low": value - 0.1, "ci_high": value + 0.1}


def multiclass_card() -> dict:
    keys = ("class a", "class b", "high")  # the compared spelling metric keys are built from
    return {
        "metadata": {"model-index": [{"results": [{"metrics": [{"type": "recall_class a"}]}]}]},
        "model": {
            "name": "m",
            "task": "multiclass",
            "objective": "multi:softprob",
            "library": {"xgboost": "3"},
            "rounds": 10,
            "decision_threshold": None,
            "target": "grade",
            "classes": ["Class A", "class b", "HIGH"],
            "features": ["x"],
            "hyperparameters": {},
            "description": "d",
        },
        "intended_use": "i",
        "out_of_scope_use": "o",
        "training_data": {
            "source": "t.csv",
            "md5": "0" * 32,
            "rows": {},
            "split": {"method": "random"},
        },
        "evaluation": {"metrics": {f"recall_{k}": interval(0.5) for k in keys}},
        "gate": {"passed": True, "rules": []},
        "fairness": {
            "min_group_size": 10,
            "columns": {
                "colour": {
                    "groups": {"red": 20, "blue": 20},
                    "measures": {
                        "demographic_parity": {
                            "metric": "selection_rate_class a",
                            "difference": interval(0.2),
                            "ratio": interval(0.7),
                            "higher": "red",
                            "higher_value": 0.6,
                            "lower": "blue",
                            "lower_value": 0.4,
                        }
                    },
                }
            },
        },
        "feature_importance": [],
        "limitations": {"user": [], "data": []},
        "lineage": {},
    }


def test_per_class_metrics_spell_their_class_as_written() -> None:
    text = card.render(multiclass_card())
    assert "| recall_Class A | 0.5000 |" in text
    assert "| recall_class b | 0.5000 |" in text
    assert "| recall_HIGH | 0.5000 |" in text
    assert "| demographic_parity | selection_rate_Class A |" in text
    assert "(classes: Class A, class b, HIGH)" in text
    header = yaml.safe_load(text.split("---")[1])
    assert header["model-index"][0]["results"][0]["metrics"][0]["type"] == "recall_class a"
    body = text.split("---", 2)[2]
    assert "recall_class a" not in body
