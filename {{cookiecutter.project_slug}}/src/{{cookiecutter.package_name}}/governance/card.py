"""The model card: its content from the pipeline's outputs, and its Markdown.

The layout is Hugging Face's (a YAML metadata header, then sections: model details, uses,
training data, evaluation, bias, risks and limitations, ...), written here rather than with
`huggingface_hub` (which would add an HTTP client stack for a file we can write ourselves).
`build_card` is pure: the `card` stage reads the files and passes their content in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import PipelineError
from ..settings.params import Params, level_text
from ..text.classes import spell_class_metrics
from ..text.markdown import plain, table

CONFIG_FILE = "conf/card/default.yaml"
PIPELINE_TAGS = {
    "binary": "tabular-classification",
    "multiclass": "tabular-classification",
    "regression": "tabular-regression",
}
KEY_HYPERPARAMETERS = (
    "n_estimators",
    "learning_rate",
    "max_depth",
    "min_child_weight",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
    "reg_alpha",
    "tree_method",
)
IMAGE_DIGEST_NOTE = (
    "not known when the card is written (the image holds this card): main's publishing "
    'workflow writes the released card with it (`make registry ARGS="card --version V"`); '
    "the image's label `io.github.model.card_md5` names this card's md5"
)
TOP_FEATURES = 10


@dataclass(frozen=True)
class CardInputs:
    """What the card is made from: params, and the content of the pipeline's outputs."""

    params: Params
    metadata: Mapping[str, Any]
    objective: str
    data_report: Mapping[str, Any]
    evaluation: Mapping[str, Any]
    gate: Mapping[str, Any]
    fairness: Mapping[str, Any] | None
    attributions: Mapping[str, Any] | None
    drift: Mapping[str, Any] | None
    lineage: Mapping[str, Any]


def not_filled(key: str) -> str:
    return f"⚠️ Not filled in: set `card.{key}` in `{CONFIG_FILE}`."


def build_card(inputs: CardInputs) -> dict[str, Any]:
    """The card as JSON-ready data (`reports/model_card.json`); `render` writes its Markdown."""
    params, card = inputs.params, inputs.params.card
    data = params.data
    training = inputs.metadata.get("training", {})
    rounds = training.get("best_iteration")
    return {
        "metadata": header(inputs),
        "model": {
            "name": inputs.lineage.get("model_name"),
            "description": card.model_description or None,
            "task": data.task,
            "objective": inputs.objective,
            "library": {
                k: v
                for k, v in inputs.metadata.get("libraries", {}).items()
                if k in ("xgboost", "python")
            },
            "hyperparameters": {
                k: v for k, v in params.model.model_dump().items() if k in KEY_HYPERPARAMETERS
            },
            "rounds": None if rounds is None else int(rounds) + 1,
            "decision_threshold": inputs.metadata.get("decision_threshold"),
            "features": [f["name"] for f in inputs.metadata["feature_spec"]["features"]],
            "target": data.target,
            "classes": list(data.class_labels),
            "positive_class": data.label_spelling.get(data.positive_class or ""),
        },
        "intended_use": card.intended_use or None,
        "out_of_scope_use": card.out_of_scope_use or None,
        "training_data": training_data(inputs),
        "evaluation": {
            "split": "test",
            "test_rows": inputs.evaluation.get("test_rows"),
            "confidence_level": inputs.evaluation.get("confidence_level"),
            "bootstrap_resamples": inputs.evaluation.get("bootstrap_resamples"),
            "metrics": inputs.evaluation.get("metrics", {}),
        },
        "gate": {
            "passed": bool(inputs.gate.get("passed")),
            "rules": [
                {"rule": r["rule"], "passed": r["passed"], "message": r.get("message")}
                for r in inputs.gate.get("rules", [])
            ],
        },
        "fairness": fairness_summary(inputs.fairness),
        "feature_importance": (inputs.attributions or {}).get("features", [])[:TOP_FEATURES],
        "limitations": limitations(inputs),
        "lineage": dict(inputs.lineage),
    }


def header(inputs: CardInputs) -> dict[str, Any]:
    """The Hugging Face metadata header (YAML front matter), model-index with test results."""
    params = inputs.params
    metrics = inputs.evaluation.get("metrics", {})
    level = inputs.evaluation.get("confidence_level", 0.95)
    found: dict[str, Any] = {
        "library_name": "xgboost",
        "pipeline_tag": PIPELINE_TAGS[params.data.task],
        "tags": ["xgboost", "tabular", params.data.task, "dvc"],
    }
    if params.card.license:
        found["license"] = params.card.license
    found["model-index"] = [
        {
            "name": inputs.lineage.get("model_name"),
            "results": [
                {
                    "task": {"type": PIPELINE_TAGS[params.data.task]},
                    "dataset": {"name": params.data.path, "type": "tabular", "split": "test"},
                    "metrics": [
                        {
                            "type": name,
                            "value": interval["value"],
                            "name": (
                                f"{name} ({level:.0%} CI {interval['ci_low']:.4f} to "
                                f"{interval['ci_high']:.4f})"
                            ),
                        }
                        for name, interval in metrics.items()
                    ],
                }
            ],
        }
    ]
    return found


def training_data(inputs: CardInputs) -> dict[str, Any]:
    """Source, md5, rows, period, class balance, and the columns left out and why."""
    data, report = inputs.params.data, inputs.data_report
    notes = inputs.params.card.column_notes
    dropped = []
    for name, column in data.columns.items():
        if name == data.target:
            continue
        if name in data.drop_columns:
            why = "listed in data.drop_columns"
        elif column.role != "feature":
            why = {
                "id": "role id: identifies a record",
                "timestamp": "role timestamp: orders the time split",
                "outcome_time": "role outcome_time: when the outcome became known",
                "drop": "role drop: read and validated, not used",
            }.get(column.role, f"role {column.role}")
        else:
            continue
        dropped.append({"column": name, "reason": notes.get(name, why)})
    return {
        "source": data.path,
        "md5": report.get("raw_md5"),
        "training_split_md5": inputs.metadata.get("training_data_md5"),
        "rows": {k: report.get(k) for k in ("rows_in", "rows_out", "train_rows", "test_rows")},
        "duplicates_dropped": report.get("duplicates_dropped"),
        "rows_dropped_missing": report.get("rows_dropped_missing"),
        "period": report.get("period"),
        "class_balance": report.get("positive_share"),
        "target_distribution": report.get("target_distribution"),
        "columns_dropped": dropped,
        "leak_suspects": report.get("leak_suspects") or [],
        "split": inputs.params.split.model_dump(),
    }


def fairness_summary(fairness: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per grouping column: each measure's largest gap, and the groups too small to judge."""
    if not fairness or not fairness.get("columns"):
        return {"columns": {}, "note": "no fairness groups configured (evaluate.fairness.groups)"}
    columns = {}
    for column, outcome in fairness["columns"].items():
        columns[column] = {
            "groups": {g["group"]: g["size"] for g in outcome.get("groups", [])},
            "not_judged": outcome.get("not_judged", []),
            "measures": {
                name: {
                    k: m.get(k)
                    for k in ("metric", "higher", "higher_value", "lower", "lower_value")
                }
                | {"difference": m.get("difference"), "ratio": m.get("ratio")}
                for name, m in outcome.get("measures", {}).items()
                if m.get("metric")
            },
            "note": outcome.get("note"),
        }
    return {"min_group_size": fairness.get("min_group_size"), "columns": columns}


def limitations(inputs: CardInputs) -> dict[str, Any]:
    """What is known to limit the model: the user's notes, the drift seen, data caveats."""
    caveats = []
    report = inputs.data_report
    if report.get("duplicates_dropped"):
        caveats.append(f"{report['duplicates_dropped']} duplicate rows were dropped.")
    if report.get("rows_dropped_missing"):
        caveats.append(f"{report['rows_dropped_missing']} rows were dropped for missing values.")
    rows = report.get("rows_out") or 0
    nulls = {k: v for k, v in (report.get("nulls") or {}).items() if v}
    for name, count in sorted(nulls.items(), key=lambda item: -item[1])[:5]:
        caveats.append(f"`{name}` is missing in {count} of {rows} rows.")
    small = {
        column: outcome.get("not_judged", [])
        for column, outcome in ((inputs.fairness or {}).get("columns") or {}).items()
        if outcome.get("not_judged")
    }
    for column, groups in small.items():
        caveats.append(
            f"Groups of `{column}` too small to judge fairness: {', '.join(map(str, groups))}."
        )
    if not inputs.gate.get("passed", True):
        caveats.append("The quality gate FAILED: this model must not be published.")
    drift = inputs.drift or {}
    per_column = drift.get("per_column") or {}
    drifted = sorted(name for name, r in per_column.items() if r.get("drifted"))
    return {
        "user": list(inputs.params.card.limitations),
        "drift": {
            "compared": f"{(drift.get('reference') or {}).get('name', 'reference')} vs "
            f"{(drift.get('current') or {}).get('name', 'current')}",
            "dataset_drift": drift.get("dataset_drift"),
            "drifted_columns": drifted,
            "drifted_share": drift.get("drifted_share"),
        }
        if drift
        else None,
        "data": caveats,
    }


def released(card: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The card of a published version: its lineage names the registry tag and the image digest.

    The image holds the card as the pipeline wrote it (a file cannot contain the digest of the
    image that holds it); this copy, made after the push from the publication's audit record
    (`registry.audit`), completes it. The record must be of this card's model.
    """
    lineage = card.get("lineage", {})
    if record.get("model_md5") != lineage.get("model_md5"):
        raise PipelineError(
            f"the publication record is of model md5 {record.get('model_md5')}, the card of "
            f"{lineage.get('model_md5')}: build the card of the published model first"
        )
    if not record.get("image_digest"):
        raise PipelineError("the publication record has no image_digest: nothing to add")
    return {
        **card,
        "lineage": {
            **lineage,
            "registry_version": record.get("version"),
            "registry_tag": record.get("tag"),
            "published": record.get("when"),
            "image": record.get("image"),
            "image_digest": record["image_digest"],
        },
    }


# ---------------------------------------------------------------------------------- Markdown


def render(card: Mapping[str, Any]) -> str:
    """The card as Markdown with a YAML metadata header (Hugging Face's layout)."""
    model = card["model"]
    front = yaml.safe_dump(card["metadata"], sort_keys=False, allow_unicode=True).strip()
    parts = [
        f"---\n{front}\n---",
        f"# Model card: {model['name']}",
        _details(card),
        _uses(card),
        _training_data(card["training_data"]),
        _evaluation(card["evaluation"], card["gate"]),
        _fairness(card["fairness"]),
        _importance(card["feature_importance"]),
        _limitations(card["limitations"]),
        _lineage(card["lineage"]),
    ]
    # Per-class metric names spell their class as the data config does (the header keeps keys).
    spelling = {level_text(c): str(c) for c in model.get("classes") or ()}
    body = spell_class_metrics("\n\n".join(parts[1:]), spelling)
    return f"{parts[0]}\n\n{body}\n"


def _details(card: Mapping[str, Any]) -> str:
    m = card["model"]
    threshold = (m.get("decision_threshold") or {}).get("value")
    classes = ", ".join(m["classes"])  # none for regression
    rows = [
        ["task", m["task"]],
        ["objective", f"`{m['objective']}`"],
        ["library", ", ".join(f"{k} {v}" for k, v in m["library"].items())],
        ["boosting rounds", plain(m["rounds"])],
        ["target", f"`{m['target']}`" + (f" (classes: {classes})" if classes else "")],
        ["decision threshold", plain(threshold)],
        ["features", f"{len(m['features'])}: " + ", ".join(f"`{f}`" for f in m["features"])],
        *([f"`{k}`", v] for k, v in m["hyperparameters"].items()),
    ]
    description = m.get("description") or not_filled("model_description")
    return "## Model details\n\n" + description + "\n\n" + table(["", ""], rows)


def _uses(card: Mapping[str, Any]) -> str:
    return (
        "## Uses\n\n### Intended use\n\n"
        + (card["intended_use"] or not_filled("intended_use"))
        + "\n\n### Out-of-scope use\n\n"
        + (card["out_of_scope_use"] or not_filled("out_of_scope_use"))
    )


def _training_data(data: Mapping[str, Any]) -> str:
    rows = data["rows"]
    lines = [
        "## Training data",
        "",
        f"- Source: `{data['source']}` (md5 `{data['md5']}`)",
        f"- Rows: {plain(rows.get('rows_in'))} read, {plain(rows.get('rows_out'))} after cleaning "
        f"({plain(data.get('duplicates_dropped'))} duplicates dropped); "
        f"train {plain(rows.get('train_rows'))}, test {plain(rows.get('test_rows'))} "
        f"(split: {data['split'].get('method')}, test size {data['split'].get('test_size')})",
    ]
    period = data.get("period")
    lines.append(
        f"- Period: {period['first']} to {period['last']} (`{period['column']}`)"
        if period
        else "- Period: no timestamp column declared"
    )
    balance = data.get("class_balance")
    if isinstance(balance, Mapping):
        shares = ", ".join(f"{k} {plain(v)}" for k, v in balance.items())
        lines.append(f"- Positive class share: {shares}")
    if data.get("target_distribution"):
        lines.append(f"- Target distribution: {data['target_distribution']}")
    for suspect in data.get("leak_suspects") or []:
        columns = ", ".join(f"`{c}`" for c in suspect["columns"])
        lines.append(f"- **Possible target leak** (prepare's check): {columns}: {suspect['why']}")
    dropped = data.get("columns_dropped") or []
    if dropped:
        lines += ["", "Columns read but not used as features:", ""]
        lines.append(table(["column", "why"], [[f"`{d['column']}`", d["reason"]] for d in dropped]))
    return "\n".join(lines)


def _evaluation(evaluation: Mapping[str, Any], gate: Mapping[str, Any]) -> str:
    level = evaluation.get("confidence_level") or 0.95
    rows = [
        [
            name,
            plain(i["value"]),
            f"[{plain(i['ci_low'])}, {plain(i['ci_high'])}]",
        ]
        for name, i in evaluation["metrics"].items()
    ]
    verdict = "PASSED" if gate["passed"] else "FAILED"
    rule_rows = [
        ["✅" if r["passed"] else "❌", r.get("message") or r["rule"]] for r in gate["rules"]
    ]
    return "\n".join(
        [
            "## Evaluation",
            "",
            f"On the test split ({plain(evaluation.get('test_rows'))} rows); intervals are "
            f"{level:.0%} bootstrap intervals ({plain(evaluation.get('bootstrap_resamples'))} "
            "resamples).",
            "",
            table(["metric", "value", f"{level:.0%} interval"], rows),
            "",
            f"### Quality gate: {verdict}",
            "",
            table(["", "rule"], rule_rows) if rule_rows else "_No gate rule configured._",
        ]
    )


def _fairness(fairness: Mapping[str, Any]) -> str:
    columns = fairness.get("columns") or {}
    if not columns:
        return "## Fairness\n\n_" + (fairness.get("note") or "Not measured.") + "_"
    lines = [
        "## Fairness",
        "",
        f"Largest gaps between groups of at least {fairness.get('min_group_size')} test rows.",
    ]
    for column, outcome in columns.items():
        lines += ["", f"### `{column}`", ""]
        sizes = ", ".join(f"{g} ({n})" for g, n in outcome["groups"].items())
        lines.append(f"Groups (test rows): {sizes}.")
        if outcome.get("not_judged"):
            lines.append(f"Too small to judge: {', '.join(outcome['not_judged'])}.")
        if outcome.get("note"):
            lines.append(f"_{outcome['note']}_")
        rows = []
        for name, m in outcome["measures"].items():
            d, r = m["difference"], m["ratio"]
            rows.append(
                [
                    name,
                    m["metric"],
                    f"{plain(d['value'])} [{plain(d['ci_low'])}, {plain(d['ci_high'])}]",
                    plain(r["value"]),
                    f"{m['higher']} {plain(m['higher_value'])} / "
                    f"{m['lower']} {plain(m['lower_value'])}",
                ]
            )
        if rows:
            lines += ["", table(["measure", "metric", "difference", "ratio", "between"], rows)]
    return "\n".join(lines)


def _importance(features: Sequence[Mapping[str, Any]]) -> str:
    if not features:
        return "## Global feature importance\n\n_Not computed (evaluate.attributions)._"
    rows = [[f"`{f['feature']}`", plain(f["mean_abs_contribution"])] for f in features]
    return (
        "## Global feature importance\n\nMean absolute contribution (XGBoost `pred_contribs`, "
        f"margin units) on the test split, top {len(rows)}.\n\n"
        + table(["feature", "mean absolute contribution"], rows)
    )


def _limitations(limits: Mapping[str, Any]) -> str:
    lines = ["## Bias, risks, and limitations", ""]
    lines += [f"- {text}" for text in limits["user"]] or [f"- {not_filled('limitations')}"]
    drift = limits.get("drift")
    if drift:
        drifted = ", ".join(f"`{c}`" for c in drift["drifted_columns"]) or "none"
        lines.append(
            f"- Drift ({drift['compared']}): dataset drift {drift['dataset_drift']}; "
            f"drifted columns: {drifted}."
        )
    lines += [f"- {text}" for text in limits["data"]]
    return "\n".join(lines)


def _lineage(lineage: Mapping[str, Any]) -> str:
    dirty = lineage.get("git_dirty")
    state = {True: "with uncommitted changes", False: "clean", None: "unknown"}[dirty]
    rows = [
        ["git commit", f"`{lineage.get('git_commit')}` ({state})"],
        ["data md5", f"`{lineage.get('data_md5')}`"],
        ["params md5 (`params.yaml`)", f"`{lineage.get('params_md5')}`"],
        ["model md5", f"`{lineage.get('model_md5')}`"],
    ]
    if lineage.get("registry_tag"):
        published = f"`{lineage['registry_tag']}` ({lineage.get('published')})"
        rows.append(["registry version", published])
    if lineage.get("image"):
        rows.append(["image", f"`{lineage['image']}`"])
    digest = lineage.get("image_digest")
    rows.append(["image digest", f"`{digest}`" if digest else IMAGE_DIGEST_NOTE])
    return "## Lineage\n\n" + table(["", ""], rows)
