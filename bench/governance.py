"""Benchmark: what the model card, fairness by group and global attributions add to the pipeline.

Issue 14's target: together they add at most 10% to the pipeline's time on the bundled sample,
measured side by side with them off (`evaluate.fairness.groups: []`,
`evaluate.attributions.enabled: false`, `card.enabled: false`).

One default bake. Every stage of `dvc.yaml` runs once, in order, as its own process
(`python -m <package>.stages.<stage> --params FILE`, as DVC runs it, without DVC's overhead):
that gives each stage's time. The switches change the work of two stages only, `evaluate` and
`card` (prepare, train, drift and package do the same work either way: the sample's fairness
columns are features, so the splits are the same), so those two then run alternately with the
switches on and off, `runs` times each. The pipeline's time "on" is the other stages plus the
medians of evaluate and card on; "off" the same with the medians off.

Usage: uv run python bench/governance.py [runs] [project]   (project: reuse a synced bake)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from common import baked_project, machine, median, timed

PACKAGE = "term_deposit_model"  # the default bake's package


def stages(project: Path) -> list[str]:
    return list(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])


def switched_off(project: Path) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["evaluate"]["fairness"]["groups"] = []
    params["evaluate"]["attributions"]["enabled"] = False
    params["card"]["enabled"] = False
    target = project / "params_off.yaml"
    target.write_text(yaml.safe_dump(params, sort_keys=False))
    return target


def pipeline(project: Path, params: str, names: list[str]) -> dict[str, float]:
    found = {}
    for name in names:
        command = ["uv", "run", "--frozen", "python", "-m", f"{PACKAGE}.stages.{name}"]
        found[name] = timed([*command, "--params", params], project)
    found["total"] = sum(found.values())
    return found


def main(runs: int = 5, project: Path | None = None) -> None:
    project = project or baked_project()
    names = stages(project)
    off_file = switched_off(project).name
    first = pipeline(project, "params.yaml", names)
    switched = ("evaluate", "card")
    on, off = [], []
    for _ in range(runs):
        on.append(pipeline(project, "params.yaml", list(switched)))
        off.append(pipeline(project, off_file, list(switched)))
    common = sum(first[n] for n in names if n not in switched)
    print(f"machine: {machine()}; {runs} alternating runs of evaluate + card; seconds")
    print(
        f"other stages, once: {common:.2f} ("
        + ", ".join(f"{n} {first[n]:.2f}" for n in names if n not in switched)
        + ")"
    )
    print("| | governance on | off | on - off |")
    print("|---|---:|---:|---:|")
    totals = {}
    for label, rows in (("on", on), ("off", off)):
        totals[label] = common + sum(median([r[n] for r in rows]) for n in switched)
    for n in switched:
        a, b = median([r[n] for r in on]), median([r[n] for r in off])
        print(f"| {n} (median) | {a:.2f} | {b:.2f} | {a - b:+.2f} |")
    ratio = totals["on"] / totals["off"]
    print(f"| pipeline | {totals['on']:.2f} | {totals['off']:.2f} | {ratio:.3f}x |")
    for n in switched:
        print(f"{n} on :", ", ".join(f"{r[n]:.2f}" for r in on))
        print(f"{n} off:", ", ".join(f"{r[n]:.2f}" for r in off))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 5,
        Path(sys.argv[2]) if len(sys.argv) > 2 else None,
    )
