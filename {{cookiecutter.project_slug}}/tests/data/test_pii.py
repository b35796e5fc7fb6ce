"""Personal data: role `pii` (drop or keyed hash), the key from the environment, suggestions."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import ROOT, committed_params, module

config = module("settings.params")
errors = module("errors")
pii = module("data.pii")
detect = module("data.pii_detect")
init = module("data.init")
prepare = module("stages.prepare")

KEY = "0123456789abcdef-test-key"
KEY_VARIABLE, KEY_FILE_VARIABLE = pii.key_variables()
ROWS = 300


def expected_hash(value: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_role_pii_needs_its_mode_and_the_mode_needs_the_role() -> None:
    raw = committed_params()
    raw["data"]["columns"]["email"] = {"dtype": "string", "role": "pii"}
    with pytest.raises(errors.PipelineError, match=r"key 'data\.columns\.email'.*pii: drop"):
        config.parse_params(raw)
    raw["data"]["columns"]["email"] = {"dtype": "string", "role": "drop", "pii": "hash"}
    with pytest.raises(errors.PipelineError, match=r"data\.columns\.email"):
        config.parse_params(raw)
    raw["data"]["columns"]["email"] = {"dtype": "string", "role": "pii", "pii": "hash"}
    data = config.parse_params(raw).data
    assert data.hashed_columns == ["email"]
    assert "email" not in data.feature_columns


def test_no_key_and_a_short_key_are_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(errors.PipelineError, match=KEY_VARIABLE):
        pii.load_key({})
    with pytest.raises(errors.PipelineError, match="5 bytes"):
        pii.load_key({KEY_VARIABLE: "short"})
    with pytest.raises(errors.PipelineError, match="not a file"):
        pii.load_key({KEY_FILE_VARIABLE: str(tmp_path / "absent")})
    (tmp_path / "key").write_text(KEY + "\n")
    assert pii.load_key({KEY_FILE_VARIABLE: str(tmp_path / "key")}) == KEY.encode()


def test_hashes_are_hmac_sha256_of_the_text_and_missing_stays_missing() -> None:
    values = pd.Series(["ann@example.org", " ann@example.org ", None, "bob@example.org"])
    hashed = pii.hash_values(values, KEY.encode())
    assert hashed.iloc[0] == hashed.iloc[1] == expected_hash("ann@example.org")
    assert pd.isna(hashed.iloc[2])
    assert hashed.iloc[3] == expected_hash("bob@example.org")
    other = pii.hash_values(values, b"another-key-of-16-bytes")
    assert other.iloc[0] != hashed.iloc[0]


def test_protect_drops_and_hashes_and_asks_for_the_key_only_to_hash(monkeypatch) -> None:
    raw = committed_params()
    raw["data"]["columns"]["name"] = {"dtype": "string", "role": "pii", "pii": "drop"}
    raw["data"]["columns"]["email"] = {"dtype": "string", "role": "pii", "pii": "hash"}
    data = config.parse_params(raw).data
    frame = pd.DataFrame({"age": [30, 40], "name": ["Ann Lee", "Bo Ng"], "email": ["a@x.io", None]})
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    with pytest.raises(errors.PipelineError, match=KEY_VARIABLE):
        pii.protect(frame, data)
    assert list(pii.protect(frame.drop(columns="email"), data).columns) == ["age"]
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    protected = pii.protect(frame, data)
    assert list(protected.columns) == ["age", "email"]
    assert protected["email"].iloc[0] == expected_hash("a@x.io")
    assert frame["email"].iloc[0] == "a@x.io"  # the input is left alone


SEEN = "by its values: 50 of 50 sampled values look like one"


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("contact", [f"user{i}@mail.example.com" for i in range(50)], f"email ({SEEN})"),
        ("reach", [f"+1 (555) 010-{i:04d}" for i in range(50)], f"phone number ({SEEN})"),
        ("ref", [f"{i}-45-{i:04d}" for i in range(100, 150)], f"national id ({SEEN})"),
        ("who", [f"Ann Nu{chr(97 + i % 26)}x" for i in range(50)], f"name ({SEEN})"),
        ("Mobile Phone", [], "phone number (by its name 'Mobile Phone')"),  # long numbers
        ("last_name", ["smith", "jones"], "name (by its name 'last_name')"),
        ("SSN", [], "national id (by its name 'SSN')"),
    ],
)  # fmt: skip
def test_personal_columns_are_recognised(name: str, values: list[str], kind: str) -> None:
    assert detect.personal_kind(name, values, len(set(values))) == kind


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Contract", ["Month-to-month", "One Year", "Two Year"] * 20),  # levels, not names
        ("customerID", [f"{i:04d}-AB" for i in range(50)]),
        ("plan", ["Basic Plan", "Gold Plan"] * 30),
        ("amount", ["1,234.50", "12.00"]),
        # a name hint whose values show something else: not personal data
        ("PhoneService", ["Yes", "No"] * 30),
        ("customerEmail", ["x", "y"]),
        ("MultiplePhoneLines", ["No phone service", "Yes", "No"] * 20),
    ],
)
def test_other_columns_are_not_flagged(name: str, values: list[str]) -> None:
    assert detect.personal_kind(name, values, len(set(values))) is None


def test_harmless_values_are_never_personal_data_whatever_the_name(tmp_path: Path) -> None:
    """The false positives seen on real tables: a Yes/No column named like a phone, a date,
    small numbers named like an id document."""
    describe = module("data.describe")
    rows = 60
    frame = pd.DataFrame(
        {
            "PhoneService": ["Yes", "No", "Yes"] * (rows // 3),
            "email_opt_in": [True, False] * (rows // 2),
            "passport_count": [i % 4 for i in range(rows)],
            "dateday": pd.date_range("2011-01-01", periods=rows).strftime("%d-%m-%Y"),
            "customer_email": [f"c{i}@example.org" for i in range(rows)],  # a real positive
            "y": ["a", "b"] * (rows // 2),
        }
    )
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    found = {c.name: c for c in describe.describe(path, "y").columns}
    for name in ("PhoneService", "email_opt_in", "passport_count", "dateday"):
        assert found[name].spec.get("role") != "pii", (name, found[name].why)
    assert found["customer_email"].spec["role"] == "pii"
    assert f"email (by its values: {rows} of {rows} sampled" in found["customer_email"].why


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (conf/, params.yaml) and a table with an email and a phone column."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "data" / "incoming").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    income = rng.uniform(20, 120, ROWS).round(1)
    frame = pd.DataFrame(
        {
            "email": [f"p{i}@example.org" for i in range(ROWS)],
            "reach_on": [f"+44 20 7{i:03d} 1234" for i in range(ROWS)],
            "income": income,
            "churned": np.where(income + rng.normal(0, 20, ROWS) > 70, "yes", "no"),
        }
    )
    path = tmp_path / "data" / "raw" / "people.csv"
    path.parent.mkdir(parents=True)
    frame.to_csv(path, index=False)
    return path


def test_data_init_suggests_pii_and_prepare_drops_or_hashes(people: Path, monkeypatch) -> None:
    init.init(people, "churned", name="people")
    text = Path("conf/data/people.yaml").read_text()
    columns = yaml.safe_load(text)["columns"]
    assert columns["email"] == {"dtype": "string", "role": "pii", "pii": "drop", "nullable": False}
    assert columns["reach_on"]["role"] == "pii"
    assert "@example.org" not in text
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    report = prepare.prepare(config.load_params())
    assert report["pii"] == {"dropped": ["email", "reach_on"], "hashed": [], "key_id": None}
    assert list(pd.read_parquet("data/prepared/train.parquet").columns) == ["income", "churned"]

    Path("conf/data/people.yaml").write_text(text.replace("pii: drop", "pii: hash"))
    module("settings.compose").compose(config.PARAMS_FILE)
    params = config.load_params()
    shutil.rmtree("data/prepared")
    Path("reports/data.json").unlink()
    with pytest.raises(errors.PipelineError, match=KEY_VARIABLE):
        prepare.prepare(params)
    assert not Path("data/prepared").exists()
    assert not Path("reports/data.json").exists()
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    prepare.prepare(params)
    test = pd.read_parquet("data/prepared/test.parquet")
    assert list(test.columns) == ["income", "churned", "email", "reach_on"]
    raw = pd.read_csv(people)
    assert set(test["email"]) <= {expected_hash(e) for e in raw["email"]}


@pytest.mark.integration  # starts a fresh interpreter
def test_the_suite_hashes_with_a_test_key_of_its_own(test_pii_key: str) -> None:
    """A project with `pii: hash` columns runs its tests (and their pipeline) without the CI
    secret: the session's key is the suite's, and a stage subprocess finds it."""
    assert os.environ[KEY_VARIABLE] == test_pii_key
    assert KEY_FILE_VARIABLE not in os.environ
    code = f"from {pii.__name__} import load_key; print(load_key().decode())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == test_pii_key
