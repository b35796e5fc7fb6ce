"""The generated tests hold for every configuration the generated docs describe, not one.

One bake (no pipeline run: the fast lane needs none) is switched with `make data` to a
regression table (scikit-learn's diabetes, target `progression`) with a row number, a client
code, a day-first date and an e-mail column added, and configured the documented ways at once:
a fairness group that is not a feature (`role: drop`), the time split ordered by the date
column, the e-mail hashed (`pii: hash`). The project's own `make lint` and fast lane `make test`
must pass on it: the generated tests hold for a regression task too (binary: the breast-cancer
table in test_e2e_own_data.py; multiclass: the wine clone in test_e2e_tasks.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import bake, ensure_git_repository, run, uv_run, uv_sync

pytestmark = pytest.mark.e2e

# The diabetes table (442 rows, a numeric target), with the documented kinds of column: a row
# number and a client code (ids by their values), a day-first time (the time split's order), an
# e-mail (personal data, hashed).
WRITE_TABLE = """
import pandas as pd
from sklearn.datasets import load_diabetes
table = load_diabetes(as_frame=True, scaled=False).frame
table = table.rename(columns={{"target": "progression"}})
table.insert(0, "row", range(1, len(table) + 1))
table.insert(1, "client", [f"C{{i:06d}}" for i in range(len(table))])
table.insert(2, "contacted_on", pd.date_range("2008-05-01", periods=len(table), freq="6h")
             .strftime("%d/%m/%Y %H:%M"))
table["email"] = [f"client{{i}}@example.org" for i in range(len(table))]
table.to_csv("{path}", sep=";", index=False)
"""
FAIRNESS = """# @package evaluate.fairness
groups:
  - {column: sex}
  - {column: age, bins: [17, 30, 45, 60, 120]}
"""


def edit_column(text: str, name: str, old: str, new: str) -> str:
    """In the yaml line of column `name` (`  name: {...}`), replace `old` with `new`."""
    line = re.compile(rf"^  {re.escape(name)}: \{{.*\}}$", re.MULTILINE)
    found = line.search(text)
    assert found, f"no line for column {name} in:\n{text}"
    assert old in found.group(0), f"no '{old}' in {found.group(0)}"
    return text.replace(found.group(0), found.group(0).replace(old, new, 1), 1)


@pytest.fixture(scope="module")
def variants_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default bake on the variant table, every documented option at once."""
    project = bake(tmp_path_factory.mktemp("variants"))
    ensure_git_repository(project)
    uv_sync(project)
    source = project.parent / "clients.csv"
    uv_run(project, "python", "-c", WRITE_TABLE.format(path=source))
    init = run(["make", "data", f"DATA={source}", "TARGET=progression"], project).stdout
    assert "regression of 'progression'" in init, init
    assert "columns with role id: ['row', 'client']" in init, init
    assert "columns with role timestamp: ['contacted_on']" in init, init
    described = project / "conf" / "data" / "clients.yaml"
    text = described.read_text()
    assert "format: '%d/%m/%Y %H:%M'" in text, text
    text = edit_column(text, "email", "pii: drop", "pii: hash")  # found by its values
    text = edit_column(text, "sex", "{", "{role: drop, ")
    described.write_text(text)
    (project / "conf" / "fairness" / "clients.yaml").write_text(FAIRNESS)
    config = project / "conf" / "config.yaml"
    config.write_text(config.read_text().replace("- split: stratified", "- split: time", 1))
    run(["make", "params"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Every documented data option at once"], project)
    return project


def test_the_projects_own_lint_and_fast_lane_pass_on_the_documented_variants(
    variants_project: Path,
) -> None:
    params = (variants_project / "params.yaml").read_text()
    assert "method: time" in params
    run(["make", "lint"], variants_project)
    tested = run(["make", "test"], variants_project, timeout=900).stdout
    summary = [line for line in tested.splitlines() if line.startswith("=") and " passed" in line]
    assert summary, tested[-3000:]
    assert " failed" not in summary[-1], summary[-1]
    assert " error" not in summary[-1], summary[-1]
