"""The service in-process (BentoML's ASGI app, no server), on the model the pipeline packaged."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

from helpers import PACKAGE, ROOT, module

compat = module("compat")
packaged_module = module("serving.packaged")
service_module = module("serving.service")
performance = module("serving.performance")

SPEED_SWITCHES = ("gc_tuning", "thread_tuning", "fast_decoding", "direct_encoding")


@pytest.fixture(scope="module")
def packaged_folder(pipeline_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`models/service.bentomodel` imported into a scratch model store: the served files."""
    import bentoml

    store = compat.temporary_bentoml_model_store(tmp_path_factory.mktemp("store"))
    source = pipeline_repo / "models" / "service.bentomodel"
    imported = bentoml.models.import_model(str(source), _model_store=store)
    return Path(store.get(imported.tag).path)


@pytest.fixture(scope="module")
def test_records(pipeline_repo: Path, packaged_folder: Path) -> list[dict[str, Any]]:
    """The test split's raw records (features only), as a client would send them."""
    names = packaged_module.read_packaged(packaged_folder).model.spec.names
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")
    return json.loads(test[names].to_json(orient="records"))


@pytest.fixture(scope="module")
def http(packaged_folder: Path) -> Iterator[TestClient]:
    """A client of the service built from the packaged folder with its own settings.

    One per process: BentoML registers its Prometheus metrics once per process.
    """
    threshold = gc.get_threshold()
    packaged = packaged_module.read_packaged(packaged_folder)
    with TestClient(service_module.build_service(packaged).to_asgi()) as client:
        yield client
    # The service tunes the garbage collector of the process it runs in: this test process.
    gc.unfreeze()
    gc.set_threshold(*threshold)


def answers_in_a_process(folder: Path, records_file: Path, **settings: bool) -> dict[str, Any]:
    script = Path(__file__).with_name("service_answers.py")
    done = subprocess.run(
        [sys.executable, str(script), str(folder), json.dumps(settings), str(records_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_answers_are_identical_with_speed_settings_on_and_off(
    packaged_folder: Path, test_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    large = performance.LARGE_BATCH_ROWS + 3
    records = (test_records * (1 + large // len(test_records)))[:large]
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps(records))
    on = answers_in_a_process(packaged_folder, records_file, **dict.fromkeys(SPEED_SWITCHES, True))
    off = answers_in_a_process(
        packaged_folder, records_file, **dict.fromkeys(SPEED_SWITCHES, False)
    )
    assert on == off
    assert len(on[f"predict {large}"]) == large
    assert on["predict respelled"] == on["predict 7"][:5]
    assert on["bad"][0] == 400


def test_predictions_are_the_evaluations(
    pipeline_repo: Path,
    packaged_folder: Path,
    test_records: list[dict[str, Any]],
    http: TestClient,
) -> None:
    """One preprocessing path: the service scores test rows exactly as evaluation did."""
    evaluated = pd.read_parquet(pipeline_repo / "reports" / "test_predictions.parquet")
    packaged = packaged_module.read_packaged(packaged_folder)
    positive = packaged.model.spec.positive_class
    answer = http.post("/predict", json={"records": test_records[:200]}).json()
    scores = [a["probabilities"][positive] for a in answer]
    assert scores == pytest.approx(evaluated["score"].head(200).tolist(), abs=1e-6)


def test_metadata_describes_the_packaged_model(
    pipeline_repo: Path, packaged_folder: Path, http: TestClient
) -> None:
    metadata = http.get("/metadata").json()
    model = json.loads((pipeline_repo / "models" / "metadata.json").read_text())
    packaged = packaged_module.read_packaged(packaged_folder)
    assert metadata["model_md5"] == model["model_md5"]
    assert metadata["features"] == packaged.model.spec.names
    assert metadata["threshold"] == packaged.info["threshold"]
    assert metadata["limits"]["max_records"] == packaged.settings.max_records


def test_bad_input_gets_a_400_naming_the_field(
    test_records: list[dict[str, Any]], http: TestClient
) -> None:
    name = next(k for k, v in test_records[0].items() if isinstance(v, str))
    unseen = http.post("/predict", json={"records": [{**test_records[0], name: "no-such"}]})
    empty = http.post("/predict", json={"records": []})
    assert unseen.status_code == 400
    assert name in unseen.text
    assert empty.status_code == 400


def test_importing_the_service_does_no_work(tmp_path: Path) -> None:
    """No model store, GC or BentoML class is touched until `Service` is asked for."""
    code = (
        "import gc, sys\n"
        "before = gc.get_threshold()\n"
        f"import {PACKAGE}.serving.service as s\n"
        "assert gc.get_threshold() == before and gc.get_freeze_count() == 0\n"
        "assert 'bentoml' not in sys.modules, 'bentoml imported'\n"
        "try:\n"
        "    s.Service\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "empty-store")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "PipelineError" in done.stdout
    assert "make bento" in done.stdout
