"""Command `data init`: describe a data file and make it the project's data.

`python -m <package> data init FILE --target COL [--task binary] [--name NAME] [--id COL ...]
[--time COL] [--outcome-time COL] [--dayfirst] [--positive-class VALUE]`
(`make data DATA=FILE TARGET=COL`):
1. infers every column's type, role, missing markers and levels (`data.describe`);
2. writes `conf/data/<name>.yaml`, with a comment per column saying what was inferred and why;
3. switches the `data` default in `conf/config.yaml` and recomposes `params.yaml`;
4. copies the file under `data/raw/` when it lies outside the project, and tracks it: with
   `dvc add` when it is larger than `--dvc-above` bytes (default 50 MB), else with git;
5. moves incoming batches that do not fit the new columns to `data/incoming/<old data name>/`;
6. prints what it did and what to check.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import PACKAGE
from ..errors import PipelineError
from ..settings.params import DataConfig, parse_params
from .describe import Column, Description, describe

CONF_DIR = Path("conf")
RAW_DIR = Path("data/raw")
DVC_ABOVE_BYTES = 50_000_000  # git keeps smaller files; DVC larger ones
DEFAULT_LINE = re.compile(r"^(\s*-\s*data:\s*)([^\s#]+)(.*)$", re.MULTILINE)


def render(description: Description, name: str, data_path: str) -> str:
    """The text of `conf/data/<name>.yaml`: settings, then one commented line per column."""
    lines = [
        f"# {name}: described by `python -m {PACKAGE} data init` from {description.path.name}",
        f"# ({description.rows} rows, {len(description.columns)} columns). Read it and correct",
        "# what was inferred wrongly: each column's comment says what was inferred and why.",
        "",
        "# Raw input file, relative to the repository root (.csv, .csv.gz or .parquet).",
        f"path: {_flow(data_path)}",
        "# Column separator for CSV input (sniffed).",
        f"separator: {_flow(description.separator)}",
    ]
    if description.thousands:
        lines += [
            "# Thousands separator inside numbers (found in the data).",
            f"thousands: {_flow(description.thousands)}",
        ]
    lines += [f"# The task: {TASK_TEXT[description.task]}.", f"task: {description.task}"]
    if description.task == "binary":
        lines += [
            "# The target column; its two classes, negative first; the positive one (the minority",
            "# class unless given with --positive-class).",
            f"target: {_flow(description.target)}",
            f"classes: {_flow(description.classes)}",
            f"positive_class: {_flow(description.positive_class)}",
        ]
    elif description.task == "multiclass":
        lines += [
            "# The target column and its classes (as spelled in the data).",
            f"target: {_flow(description.target)}",
            f"classes: {_flow(description.classes)}",
        ]
    else:
        lines += ["# The target column (numeric).", f"target: {_flow(description.target)}"]
    lines += [
        "# Minimum number of rows after cleaning; fewer is an error.",
        "min_rows: 100",
        "# Remove exact duplicate rows (counted in the data report).",
        "drop_duplicates: true",
        "",
        "# One entry per column. role: feature | target | id (identifies a record, never a",
        "# feature) | timestamp (orders the time split) | outcome_time (when the outcome became",
        "# known: time columns at or after it are leaks) | drop (read, validated, not used) |",
        "# pii (personal data; with pii: drop, never leaves `prepare`; with pii: hash, kept as",
        "# a keyed hash: the key from the environment, see the README's Personal data).",
        "# dtype: int | float | category (levels compared stripped and lower-cased) | string |",
        "# datetime (string and datetime only for id, timestamp and drop columns); format: how a",
        "# datetime column is written (strftime such as '%d-%m-%Y', ISO8601, epoch_s, epoch_ms).",
        "columns:",
    ]
    for column in description.columns:
        lines.append(f"  # {column.why}")
        lines.append(f"  {_flow(column.name)}: {_flow(_ordered(column))}")
    return "\n".join(lines) + "\n"


TASK_TEXT = {
    "binary": "binary classification (two classes)",
    "multiclass": "multiclass classification (one of several classes)",
    "regression": "regression (a number)",
}


def _ordered(column: Column) -> dict[str, Any]:
    keys = ("dtype", "format", "role", "pii", "nullable", "min", "missing_values", "categories")
    spec = {k: column.spec[k] for k in keys if k in column.spec}
    if spec.get("role") == "feature":
        del spec["role"]
    return spec


def _flow(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1_000_000, sort_keys=False
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def init(
    file: Path,
    target: str,
    *,
    task: str | None = None,
    name: str | None = None,
    ids: Sequence[str] = (),
    time: str | None = None,
    dayfirst: bool | None = None,
    positive_class: str | None = None,
    outcome_time: str | None = None,
    dvc_above: int = DVC_ABOVE_BYTES,
    force: bool = False,
    fast: bool = True,
) -> list[str]:
    """Do everything the module docstring lists; return the lines to print."""
    if not file.is_file():
        raise PipelineError(f"{file} not found")
    if not (CONF_DIR / "config.yaml").is_file():
        raise PipelineError("run `data init` at the project's root (conf/config.yaml not found)")
    name = name or _name(file)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise PipelineError(f"--name {name!r}: use letters, digits, '_', '-' and '.' only")
    target_file = CONF_DIR / "data" / f"{name}.yaml"
    if target_file.exists() and not force:
        raise PipelineError(f"{target_file} exists: choose another --name, or pass --force")
    description = describe(
        file, target, task=task, positive_class=positive_class, ids=tuple(ids), time=time,
        dayfirst=dayfirst, fast=fast, outcome_time=outcome_time,
    )  # fmt: skip
    data_path = _project_path(file)
    text = render(description, name, data_path.as_posix())
    checked = _validated(text, target_file)
    done = []
    if data_path != _relative(file):
        data_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, data_path)
        done.append(f"copied {file} to {data_path}")
    target_file.parent.mkdir(parents=True, exist_ok=True)
    target_file.write_text(text, encoding="utf-8")
    done.append(f"wrote {target_file} ({len(description.columns)} columns)")
    previous = switch_default(name)
    if previous == name:
        done.append(f"conf/config.yaml's data default is {name} already")
    else:
        done.append(f"switched conf/config.yaml's data default from {previous} to {name}")
    done += move_aside_batches(checked, previous)
    from ..settings.compose import compose
    from ..settings.params import PARAMS_FILE

    compose(PARAMS_FILE)
    done.append("recomposed params.yaml")
    done.append(track(data_path, dvc_above))
    return done + _checklist(description)


def switch_default(name: str) -> str:
    """Point conf/config.yaml's `data` default at `name`; return the previous option."""
    config = CONF_DIR / "config.yaml"
    text = config.read_text(encoding="utf-8")
    found = DEFAULT_LINE.search(text)
    if found is None:
        raise PipelineError(f"{config} has no `- data: <name>` line in its defaults")
    config.write_text(
        DEFAULT_LINE.sub(lambda m: f"{m.group(1)}{name}{m.group(3)}", text, count=1),
        encoding="utf-8",
    )
    return found.group(2)


def move_aside_batches(data: DataConfig, previous: str) -> list[str]:
    """Move incoming batches whose columns do not fit `data` to a folder named `previous`."""
    from ..data.raw import table_columns
    from ..data.validation import check_columns

    folder = Path("data/incoming")
    moved = []
    for batch in sorted(p for p in folder.glob("*") if p.is_file() and p.name != "README.md"):
        try:
            check_columns(table_columns(batch, data)[0], data, labels=False)
        except PipelineError:
            aside = folder / previous / batch.name
            aside.parent.mkdir(parents=True, exist_ok=True)
            batch.rename(aside)
            moved.append(str(batch.name))
    if not moved:
        return []
    return [
        f"moved {len(moved)} incoming batch(es) that belong to '{previous}' (their columns do "
        f"not fit the new data) to {folder / previous}/: {', '.join(moved)}"
    ]


def track(path: Path, dvc_above: int) -> str:
    """Track the data file: `dvc add` above `dvc_above` bytes, else git; say which."""
    size = path.stat().st_size
    if size > dvc_above:
        command = [sys.executable, "-m", "dvc", "add", str(path)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise PipelineError(f"`dvc add {path}` failed: {result.stderr.strip()}")
        return (
            f"tracked {path} with DVC ({size:,} bytes > {dvc_above:,}): commit {path}.dvc, "
            "and `dvc push` it to your remote"
        )
    return f"{path} ({size:,} bytes <= {dvc_above:,}) is small enough for git: commit it"


def _checklist(description: Description) -> list[str]:
    roles: dict[str, list[str]] = {}
    for column in description.columns:
        roles.setdefault(column.spec.get("role", "feature"), []).append(column.name)
    lines = ["", "check:"]
    if description.task == "binary":
        lines.append(
            f"- the task ({description.task}) and the positive class "
            f"({description.positive_class!r} of {description.classes})"
        )
    elif description.task == "multiclass":
        lines.append(f"- the task (multiclass) and the classes {description.classes}")
    else:
        lines.append(f"- the task (regression of '{description.target}')")
    for role in ("id", "timestamp", "outcome_time", "drop", "pii"):
        if roles.get(role):
            lines.append(f"- columns with role {role}: {roles[role]}")
    lines.append(f"- {len(roles.get('feature', []))} feature columns; each line's comment says why")
    lines.append("then: make run (the pipeline), make gate, and commit conf/, params.yaml, data")
    return lines


def _validated(text: str, where: Path) -> DataConfig:
    from ..settings.params import PARAMS_FILE, load_params

    params = load_params(PARAMS_FILE).model_dump(mode="json")
    params["data"] = yaml.safe_load(text)
    # Fairness groups belong to a data option (conf/fairness/<data>.yaml): the new one has none.
    params["evaluate"]["fairness"]["groups"] = []
    try:
        return parse_params(params, source=str(where)).data
    except PipelineError as exc:
        raise PipelineError(f"the inferred description is not a valid config: {exc}") from None


def _name(file: Path) -> str:
    stem = file.name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".parquet"):
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.") or "data"


def _relative(file: Path) -> Path:
    try:
        return file.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return file


def _project_path(file: Path) -> Path:
    relative = _relative(file)
    return relative if not relative.is_absolute() else RAW_DIR / file.name


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import guarded

    parser = argparse.ArgumentParser(prog=f"{PACKAGE} data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("init", help="describe FILE and make it the project's data")
    command.add_argument("file", type=Path, help=".csv (any separator, .gz too) or .parquet")
    command.add_argument("--target", required=True, help="the column to predict")
    command.add_argument("--task", choices=["binary", "multiclass", "regression"])
    command.add_argument("--name", help="the config's name (default: from the file name)")
    command.add_argument("--id", action="append", default=[], help="an identifier column")
    command.add_argument("--time", help="the column that orders records in time")
    command.add_argument(
        "--outcome-time",
        help="the column that says when each row's outcome became known (times at or after "
        "it are dropped as leaks)",
    )
    command.add_argument(
        "--dayfirst",
        action="store_true",
        default=None,
        help="dates such as 01/02/2011 whose every number is 12 or less: day first",
    )
    command.add_argument("--positive-class", help="binary: the positive class")
    command.add_argument("--dvc-above", type=int, default=DVC_ABOVE_BYTES, help="bytes")
    command.add_argument("--force", action="store_true", help="overwrite conf/data/<name>.yaml")
    command.add_argument(
        "--plain-reader", action="store_true", help="read with pandas, not PyArrow (slower)"
    )
    args = parser.parse_args(argv)

    def run() -> None:
        lines = init(
            args.file,
            args.target,
            task=args.task,
            name=args.name,
            ids=args.id,
            time=args.time,
            dayfirst=args.dayfirst,
            positive_class=args.positive_class,
            outcome_time=args.outcome_time,
            dvc_above=args.dvc_above,
            force=args.force,
            fast=not args.plain_reader,
        )
        print("\n".join(lines))

    return guarded(run, "data init")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
