"""Personal data never reaches an artifact in the clear (issue 14, item 4).

A synthetic table with names, emails and phone numbers goes through `make data` (which must
suggest role `pii` for the three columns), then, with both modes in one project (the name
`pii: drop`, the email and phone number `pii: hash`; one run instead of one per mode):
the pipeline, batch scoring, the drift monitor on a batch carrying the columns, the bento
build, and the running service with its inference log on. Then every file produced (DVC
cache, dvclive, reports, metrics, plots, logs, build/, the BentoML home) is scanned for every
raw value and for the key: none may appear. A run without the key is refused before anything
is written, and the hashed columns are HMAC-SHA256 of the raw text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from serving_support import (
    DEFAULT_PACKAGE,
    SKIP_TEARDOWN,
    free_port,
    run,
    running,
    service_env,
    uv_run,
)

pytestmark = pytest.mark.e2e

SCANNER = Path(__file__).with_name("pii_scan.py")
KEY = "a-test-key-for-hashing-personal-data"
KEY_VARIABLE = f"{DEFAULT_PACKAGE.upper()}_PII_KEY"
PII = ("full_name", "email", "reach_on")  # reach_on: phone numbers, found by their values
MODES = {"full_name": "drop", "email": "hash", "reach_on": "hash"}  # both modes, one run
FIRST = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Julia"]
LAST = ["Smith", "Garcia", "Okafor", "Nguyen", "Kowalski", "Haddad", "Larsen", "Moreau"]
LOCAL = """# @package _global_
serve:
  inference_log: {{enabled: true, directory: {directory}, rotate_rows: 1}}
"""


def write_people(path: Path, rows: int = 600) -> list[dict[str, str]]:
    """A table whose target depends on income; three personal columns, unique per row."""
    rng = random.Random(7)
    table = []
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        income = round(rng.uniform(20, 120), 1)
        churned = rng.random() < 1 / (1 + 2.718 ** (-(income - 70) / 10))
        table.append(
            {
                "full_name": f"{first} {last}-{i:04d}",
                "email": f"{first.lower()}.{last.lower()}{i}@example.org",
                "reach_on": f"+44 20 7{i:03d} {rng.randint(1000, 9999)}",
                "age": str(rng.randint(18, 80)),
                "income": str(income),
                "plan": rng.choice(["basic", "plus", "premium"]),
                "churned": "yes" if churned else "no",
            }
        )
    lines = [",".join(table[0])] + [",".join(row.values()) for row in table]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def post(url: str, body: object) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def pii_run(default_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One project with a dropped and two hashed columns, after everything that could write
    a personal value."""
    home = tmp_path_factory.mktemp("pii")
    project = home / "project"  # a clone of the bake (no pipeline outputs to check out)
    run(["git", "clone", "-q", str(default_project), str(project)], home)
    run(["uv", "sync", "--frozen", "--extra", "cpu"], project)
    source = home / "people.csv"
    table = write_people(source)
    run(["make", "data", f"DATA={source}", "TARGET=churned"], project)
    conf = project / "conf" / "data" / "people.yaml"
    suggested = conf.read_text(encoding="utf-8")
    chosen = suggested
    for name, mode in MODES.items():
        line = f"  {name}: {{dtype: string, role: pii, pii: drop,"
        assert line in chosen, f"no pii suggestion for {name}"  # checked fully in the first test
        chosen = chosen.replace(line, line.replace("pii: drop", f"pii: {mode}"))
    conf.write_text(chosen, encoding="utf-8")
    (project / "conf" / "local").mkdir(exist_ok=True)
    local = LOCAL.format(directory=home / "inference-log")  # one place, whatever the cwd
    (project / "conf" / "local" / "default.yaml").write_text(local, encoding="utf-8")
    uv_run(project, "python", "-m", DEFAULT_PACKAGE, "compose")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "People table, pii: drop and hash"], project)
    prepared = project / "data" / "prepared"
    before = {p.name for p in prepared.glob("*")}  # e.g. a .gitignore committed by an earlier run
    refused = uv_run(project, "dvc", "repro", check=False, timeout=900)
    key = {KEY_VARIABLE: KEY}
    refused_left = sorted({p.name for p in prepared.glob("*")} - before)
    uv_run(project, "dvc", "repro", env=key, timeout=900)
    # Batch scoring and the drift monitor read files carrying the personal columns.
    uv_run(
        project, "python", "-m", DEFAULT_PACKAGE, "predict", "--input", str(source),
        "--output", "scored/people.parquet", env=key,
    )  # fmt: skip
    batch = project / "data" / "incoming" / "2030-01.csv"
    shutil.copyfile(source, batch)
    uv_run(
        project, "python", "-m", DEFAULT_PACKAGE, "monitor", str(batch),
        "--output-dir", "reports/monitor",
    )  # fmt: skip
    # The bento, and the service with its inference log on (one file per scored row).
    offline = {**service_env(project), "UV_OFFLINE": "1", **key}
    uv_run(project, "python", "-m", DEFAULT_PACKAGE, "bento", env=offline)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    features = [{k: row[k] for k in ("age", "income", "plan")} for row in table[:5]]
    for record in features:
        record["age"], record["income"] = int(record["age"]), float(record["income"])
    with running(
        ["make", "serve", f"PORT={port}"], project, {**offline}, f"{base}/readyz",
        home / "service.log",
    ):  # fmt: skip
        answers = {
            "features": post(f"{base}/predict", {"records": features}),
            "with_email": post(
                f"{base}/predict", {"records": [{**features[0], "email": table[0]["email"]}]}
            ),
        }
    return {
        "home": home,
        "project": project,
        "source": source,
        "batch": batch,
        "table": table,
        "suggested": suggested,
        "refused": refused,
        "refused_left": refused_left,
        "answers": answers,
    }


def scan(pii_run: dict, needles: list[str], *roots: Path, skip: tuple[Path, ...] = ()) -> dict:
    project = pii_run["project"]
    needles_file = pii_run["home"] / "needles.json"
    needles_file.write_text(json.dumps(needles), encoding="utf-8")
    command = ["python", str(SCANNER), str(needles_file), *map(str, roots)]
    if skip:
        command += ["--skip", *map(str, skip)]
    return json.loads(uv_run(project, *command).stdout)


def raw_values(table: list[dict[str, str]]) -> list[str]:
    return [row[name] for row in table for name in PII]


def test_data_init_suggests_pii_for_names_emails_and_phones(pii_run: dict) -> None:
    for name in PII:
        assert (
            f"  {name}: {{dtype: string, role: pii, pii: drop, nullable: false}}"  # none missing
            in (pii_run["suggested"])
        )
    assert "  age: {dtype: int" in pii_run["suggested"]  # not personal: a feature
    assert "example.org" not in pii_run["suggested"]  # the comments name kinds, not values


def test_no_raw_value_or_key_in_any_file_produced(pii_run: dict) -> None:
    project, home = pii_run["project"], pii_run["home"]
    produced = [
        project / "data" / "prepared", project / ".dvc" / "cache", project / "dvclive",
        project / "reports", project / "metrics", project / "plots", project / "models",
        project / "scored", project / "build", home / "bentoml-home", home / "inference-log",
        home / "service.log",
    ]  # fmt: skip
    for folder in ("data/prepared", "scored", "build/bento", "reports/monitor"):
        assert any((project / folder).rglob("*.*")), f"{folder} is empty: nothing was scanned"
    assert list((home / "inference-log" / "outputs").glob("*.parquet")), "no inference log"
    assert pii_run["answers"]["features"] == 200
    assert pii_run["answers"]["with_email"] == 400  # a record carries the model's inputs only
    needles = [*raw_values(pii_run["table"]), KEY]
    everything = scan(pii_run, needles, *produced)
    assert everything["files"] > 50
    assert everything["hits"] == []
    # The whole project too, except the two inputs (the raw table and the incoming batch).
    inputs = (project / "data" / "raw" / "people.csv", pii_run["batch"])
    whole = scan(pii_run, needles, project, skip=inputs)
    assert whole["hits"] == []


def test_the_scan_finds_values_where_they_are(pii_run: dict) -> None:
    """The scanner is not blind: it finds raw values in the inputs, also inside Parquet."""
    project = pii_run["project"]
    needles = raw_values(pii_run["table"])[:30]
    assert len(scan(pii_run, needles, pii_run["batch"])["hits"]) == 30
    uv_run(
        project, "python", "-c",
        f"import pandas as pd; pd.read_csv({str(pii_run['source'])!r})"
        f".to_parquet({str(pii_run['home'] / 'raw.parquet')!r})",
    )  # fmt: skip
    assert len(scan(pii_run, needles, pii_run["home"] / "raw.parquet")["hits"]) == 30


def read_parquet_column(pii_run: dict, path: str, column: str) -> list | None:
    code = (
        "import json, sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1]); "
        "print(json.dumps(t.column(sys.argv[2]).to_pylist() if sys.argv[2] in t.column_names "
        "else None))" + SKIP_TEARDOWN
    )
    out = uv_run(pii_run["project"], "python", "-c", code, path, column).stdout
    return json.loads(out)


def test_dropped_columns_never_leave_prepare_hashed_ones_join(pii_run: dict) -> None:
    project, table = pii_run["project"], pii_run["table"]
    scored = str(project / "scored" / "people.parquet")
    for name in PII:
        prepared = read_parquet_column(pii_run, str(project / "data/prepared/train.parquet"), name)
        batch = read_parquet_column(pii_run, scored, name)
        if MODES[name] == "drop":
            assert prepared is None
            assert batch is None
            continue
        expected = {
            hmac.new(KEY.encode(), row[name].encode(), hashlib.sha256).hexdigest() for row in table
        }
        assert prepared
        assert set(prepared) <= expected  # train rows, hashed with the key
        assert batch == [
            hmac.new(KEY.encode(), row[name].encode(), hashlib.sha256).hexdigest() for row in table
        ]  # batch scoring hashes the same way: results join the prepared data


def test_a_run_without_the_key_is_refused(pii_run: dict) -> None:
    refused = pii_run["refused"]
    assert refused.returncode != 0
    assert KEY_VARIABLE in refused.stderr + refused.stdout
    assert pii_run["refused_left"] == []  # nothing was written
