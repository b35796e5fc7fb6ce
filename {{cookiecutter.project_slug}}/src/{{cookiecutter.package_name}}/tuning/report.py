"""The study's report: a summary (JSON), every trial (JSON), and Markdown with Mermaid charts
(optimisation history, parameter importances), plus the pull-request comment's section."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings.params import Params
from ..text.charts import bar_chart, line_chart
from ..text.markdown import compact

if TYPE_CHECKING:
    import optuna

    from .space import TuneConfig

REPORT_DIR = Path("reports/tune")
TABLE_ROWS = 15


def study_summary(
    study: optuna.Study, config: TuneConfig, params: Params, sampler: str, seed: int
) -> dict[str, Any]:
    """Counts, the best trial, importances and every trial, as plain JSON values."""
    from optuna.trial import TrialState

    from ..errors import PipelineError

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not complete:
        raise PipelineError(
            f"tune: no trial of study '{study.study_name}' completed; raise --trials or --timeout"
        )
    best = study.best_trial
    trials = [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "params": t.params,
            "folds_run": len(t.intermediate_values),
            "rounds": t.user_attrs.get("rounds"),
            "seconds": round(t.duration.total_seconds(), 3) if t.duration else None,
        }
        for t in study.trials
    ]
    counts = {
        state: sum(t["state"] == state for t in trials) for state in ("complete", "pruned", "fail")
    }
    return {
        "study": study.study_name,
        "sampler": sampler,
        "seed": seed,
        "metric": f"cv_{study.user_attrs.get('metric')}_mean",
        "direction": study.direction.name.lower(),
        "cv_folds": params.train.cv_folds,
        "counts": counts,
        "best": {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "rounds": best.user_attrs.get("rounds"),
        },
        "space": {k: v.model_dump(exclude_none=True) for k, v in config.space.items()},
        "importances": importances(study, seed),
        "trials": trials,
    }


def importances(study: optuna.Study, seed: int) -> dict[str, float]:
    """fANOVA importance of each parameter (seeded); empty when too few trials to tell."""
    import optuna

    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)
        )
    except (ValueError, RuntimeError):
        return {}
    return {name: round(float(value), 4) for name, value in found.items()}


def render_markdown(summary: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """The study's report for people: what was searched, the best trial, charts, the top trials."""
    best, counts = summary["best"], summary["counts"]
    lines = [
        f"### Tuning study `{summary['study']}`",
        "",
        f"{summary['sampler'].upper()} sampler, seed {summary['seed']}: "
        f"{counts['complete']} trials completed, {counts['pruned']} pruned, "
        f"{counts['fail']} failed. Objective: {summary['metric']} "
        f"({summary['cv_folds']}-fold cross-validation on the training split), "
        f"{summary['direction']}d.",
        "",
        f"Best: trial {best['number']}, {summary['metric']} = {best['value']:.6g}"
        + (f" at {best['rounds']} rounds" if best.get("rounds") else "")
        + " (written to `conf/experiment/tuned.yaml`).",
        "",
        "| parameter | best | searched |",
        "|---|---|---|",
        *(
            f"| `{name}` | {compact(value)} | {_space(summary['space'].get(name, {}))} |"
            for name, value in best["params"].items()
        ),
        "",
        history_chart(summary, trials),
    ]
    if summary["importances"]:
        names = list(summary["importances"])
        lines += [
            "",
            bar_chart(
                "Parameter importance (fANOVA)",
                names,
                "importance",
                [[summary["importances"][n] for n in names]],
            ),
        ]
    lines += ["", *trials_table(summary, trials)]
    return "\n".join(lines) + "\n"


def history_chart(summary: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """Each completed trial's score and the best so far, in trial order."""
    done = [t for t in trials if t["state"] == "complete"]
    values = [float(t["value"]) for t in done]
    better = max if summary["direction"] == "maximize" else min
    running: list[float] = []
    for value in values:
        running.append(value if not running else better(running[-1], value))
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 0.05
    return line_chart(
        "Optimisation history (completed trials)",
        "trial",
        [t["number"] for t in done],
        summary["metric"],
        [[round(v, 6) for v in values], [round(v, 6) for v in running]],
        y_range=(_round_down(low - pad), _round_up(high + pad)),
    )


def trials_table(summary: dict[str, Any], trials: list[dict[str, Any]]) -> list[str]:
    """The best completed trials, best first (all of them are in trials.json)."""
    done = [t for t in trials if t["state"] == "complete"]
    done.sort(key=lambda t: t["value"], reverse=summary["direction"] == "maximize")
    names = list(summary["space"])
    rows = [
        f"Top {min(TABLE_ROWS, len(done))} of {len(trials)} trials (all in `trials.json`):",
        "",
        "| trial | "
        + summary["metric"]
        + " | rounds | "
        + " | ".join(f"`{n}`" for n in names)
        + " |",
        "|---" * (3 + len(names)) + "|",
    ]
    for t in done[:TABLE_ROWS]:
        cells = [compact(t["params"].get(n)) for n in names]
        rows.append(
            f"| {t['number']} | {t['value']:.6g} | {t['rounds']} | " + " | ".join(cells) + " |"
        )
    return rows


def pr_section(summary_file: Path = REPORT_DIR / "summary.json") -> str:
    """The PR comment's tuning section: the study summary, folded (empty if no report)."""
    if not summary_file.is_file():
        return (
            "### Tuning\n\n`conf/experiment/tuned.yaml` changed but `reports/tune/summary.json` "
            "is missing: commit the study report that `make tune` writes with it."
        )
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    best, counts = summary["best"], summary["counts"]
    markdown = summary_file.with_name("summary.md")
    body = markdown.read_text(encoding="utf-8") if markdown.is_file() else ""
    return (
        "### Tuning\n\n"
        f"This pull request changes `conf/experiment/tuned.yaml`: study `{summary['study']}` "
        f"({summary['sampler']}, seed {summary['seed']}), {counts['complete']} trials completed "
        f"and {counts['pruned']} pruned; best {summary['metric']} = {best['value']:.6g} "
        f"(trial {best['number']}).\n\n"
        "<details><summary>Study report</summary>\n\n" + body + "\n</details>"
    )


def _space(spec: dict[str, Any]) -> str:
    if "choices" in spec:
        return ", ".join(str(c) for c in spec["choices"])
    text = f"{spec.get('type')} {compact(spec.get('low'))} to {compact(spec.get('high'))}"
    return text + (" (log)" if spec.get("log") else "")


def _round_down(value: float) -> float:
    return math.floor(value * 1000) / 1000


def _round_up(value: float) -> float:
    return math.ceil(value * 1000) / 1000
