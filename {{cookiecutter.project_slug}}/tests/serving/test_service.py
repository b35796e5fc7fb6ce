"""The service in-process (BentoML's ASGI app, no server), on the model the pipeline packaged."""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

import records
from helpers import PACKAGE, ROOT, module

compat = module("compat")
packaged_module = module("serving.packaged")
service_module = module("serving.service")
performance = module("serving.performance")

SPEED_SWITCHES = (
    "gc_tuning",
    "thread_tuning",
    "fast_decoding",
    "direct_encoding",
    "direct_predict",
)


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
    assert metadata["git_dirty"] in (True, False, None)  # build_info.json, when built
    assert metadata["card"] == "/card"
    audit = metadata["audit"]  # the audit records' lineage fields
    assert audit["model_md5"] == model["model_md5"]
    assert audit["data_md5"] == packaged.info.get("training_data_md5")
    gate = json.loads((pipeline_repo / "reports" / "gate.json").read_text())["passed"]
    assert audit["gate"] == ("passed" if gate else "failed")
    lineage = {"commit", "dirty", "data_md5", "params_md5", "model_md5", "gate", "version"}
    assert set(audit) == lineage


def bad_value(case: str) -> tuple[str, Any, str]:
    """A feature, a value the schema refuses, and the rejection reason."""
    if case == "unseen level":
        name = records.category_feature()
        return name, records.unseen_level(name), "unseen_category"
    return records.numeric_feature(), "not a number", "wrong_type"


def test_concurrent_requests_each_get_the_answer_to_their_own_records(
    test_records: list[dict[str, Any]], http: TestClient
) -> None:
    """Requests that arrive together are scored together (direct_predict): no answer goes to
    the wrong request, whatever the sizes."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [{"records": test_records[i : i + 1 + i % 3]} for i in range(24)]
    alone = [http.post("/predict", json=body).json() for body in bodies]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(lambda body: http.post("/predict", json=body), bodies))
    assert [answer.status_code for answer in together] == [200] * len(bodies)
    assert [answer.json() for answer in together] == alone
    assert [len(answer) for answer in alone] == [1 + i % 3 for i in range(24)]


@pytest.mark.parametrize("case", ["unseen level", "text for a number"])
def test_bad_input_gets_a_400_naming_the_field(
    case: str, test_records: list[dict[str, Any]], http: TestClient
) -> None:
    name, value, _ = bad_value(case)
    bad = http.post("/predict", json={"records": [{**test_records[0], name: value}]})
    empty = http.post("/predict", json={"records": []})
    assert bad.status_code == 400
    assert name in bad.text
    assert empty.status_code == 400


def test_requests_time_out_without_a_timer_left_behind_per_request(http: TestClient) -> None:
    """The app times requests out with `RequestDeadline` (tested in test_request_deadline.py),
    in the place of BentoML's TimeoutMiddleware, which keeps a timer per request alive."""
    layers = [layer.cls for layer in http.app.user_middleware]
    names = [getattr(layer, "__name__", str(layer)) for layer in layers]
    assert module("serving.http.request_deadline").RequestDeadline in layers, names
    assert "TimeoutMiddleware" not in names


# Compares the GC's settings before and after an import. Against the count before, not 0:
# CPython 3.12 starts with objects in the permanent generation (375 on 3.12.1, even with -S).
GC_UNCHANGED_BY_IMPORT = (
    "import gc, importlib, sys\n"
    "def gc_state():\n"
    "    return gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()\n"
    "before = gc_state()\n"
    "s = importlib.import_module(sys.argv[1])\n"
    "assert gc_state() == before, f'the import changed the GC: {before} -> {gc_state()}'\n"
)


@pytest.mark.integration  # starts a fresh interpreter
def test_importing_the_service_does_no_work(tmp_path: Path) -> None:
    """No model store, GC or BentoML class is touched until `Service` is asked for."""
    code = GC_UNCHANGED_BY_IMPORT + (
        "assert 'bentoml' not in sys.modules, 'bentoml imported'\n"
        "from prometheus_client import REGISTRY\n"
        "ours = [m.name for m in REGISTRY.collect() if m.name.startswith('model_')]\n"
        "assert not ours, f'metrics registered at import: {ours}'\n"
        "try:\n"
        "    s.Service\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "empty-store")}
    done = subprocess.run(
        [sys.executable, "-c", code, f"{PACKAGE}.serving.service"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "PipelineError" in done.stdout
    assert "make bento" in done.stdout


@pytest.mark.parametrize(
    "touch", ["gc.freeze()", "gc.set_threshold(50_000, 50, 100)", "gc.disable()"]
)
def test_the_gc_check_fails_when_an_import_touches_the_gc(tmp_path: Path, touch: str) -> None:
    (tmp_path / "touches_gc.py").write_text(f"import gc\n{touch}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", GC_UNCHANGED_BY_IMPORT, "touches_gc"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "the import changed the GC" in done.stderr


def rejected_count(reason: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("model_rejected_requests_total", {"reason": reason}) or 0.0


BAD_INPUTS = {
    # name: (body, extra headers, status, reason, words in the answer)
    "invalid UTF-8": (b'{"records": [{"job": "\xff\xfe"}]}', {}, 400, "bad_encoding", "UTF-8"),
    "unknown top-level key": (None, {}, 400, "extra_field", "unknown key"),
    "repeated key": (b'{"records": [], "records": []}', {}, 400, "duplicate_key", "twice"),
    "not gzip": (b'{"records": []}', {"content-encoding": "gzip"}, 400, "bad_encoding", "gzip"),
    "brotli": (b"{}", {"content-encoding": "br"}, 415, "unsupported_encoding", "gzip"),
    "zip bomb": ("bomb", {"content-encoding": "gzip"}, 413, "body_too_large", "decompressed"),
    "declared too large": (b"{}", {"content-length": "900000000"}, 413, "body_too_large", "limit"),
    "text/plain": (b"{}", {"content-type": "text/plain"}, 415, "unsupported_media_type", "JSON"),
    "empty body": (b"", {}, 400, "malformed_json", "not valid JSON"),
    "a list": (b"[]", {}, 400, "malformed_json", "JSON object"),
    "NaN": (b'{"records": [NaN]}', {}, 400, "wrong_type", "records.0"),
    "deep nesting": (b"[" * 50_000, {}, 400, "malformed_json", "nested"),
    "huge integer": (b'{"records": [' + b"9" * 5000 + b"]}", {}, 400, "malformed_json", "JSON"),
    "empty records": (b'{"records": []}', {}, 400, "empty_batch", "problem"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_matrix_gets_4xx_counted_and_leaves_answers_unchanged(
    case: str, test_records: list[dict[str, Any]], http: TestClient, packaged_folder: Path
) -> None:
    import gzip

    body, headers, status, reason, words = BAD_INPUTS[case]
    if body is None:
        body = json.dumps({"records": test_records[:1], "extra": 1}).encode()
    if body == "bomb":
        limit = packaged_module.read_packaged(packaged_folder).settings.max_body_bytes
        body = gzip.compress(b" " * (limit + 1))
    valid = {"records": test_records[:3]}
    before = http.post("/predict", json=valid).json()
    counted = rejected_count(reason)
    answer = http.post(
        "/predict", content=body, headers={"content-type": "application/json", **headers}
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"], answer.text
    assert "x-request-id" in answer.headers
    assert rejected_count(reason) == counted + 1
    assert http.post("/predict", json=valid).json() == before


def test_a_utf8_byte_order_mark_and_gzip_are_accepted(
    test_records: list[dict[str, Any]], http: TestClient
) -> None:
    import gzip

    plain = json.dumps({"records": test_records[:3]}).encode()
    expected = http.post("/predict", json={"records": test_records[:3]}).json()
    for body, headers in [
        (b"\xef\xbb\xbf" + plain, {}),
        (gzip.compress(plain), {"content-encoding": "gzip"}),
    ]:
        answer = http.post(
            "/predict", content=body, headers={"content-type": "application/json", **headers}
        )
        assert answer.json() == expected


@pytest.mark.parametrize("case", ["unseen level", "text for a number"])
def test_a_rejection_is_one_warning_line_without_traceback(
    case: str,
    test_records: list[dict[str, Any]],
    http: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name, value, reason = bad_value(case)
    caplog.set_level(logging.DEBUG)
    time.sleep(1.0)  # refills the rejection log for one line (1 a second after a burst of 10)
    answer = http.post(
        "/explain",
        json={"records": [{**test_records[0], name: value}]},
        headers={"x-request-id": "abc-123"},
    )
    assert answer.status_code == 400
    ours = [r for r in caplog.records if "abc-123" in r.getMessage()]
    assert len(ours) == 1
    assert ours[0].levelno == logging.WARNING
    assert reason in ours[0].getMessage()
    assert f"records.0.{name}" in ours[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_an_unexpected_error_in_the_model_path_is_a_500_logged_with_its_traceback(
    test_records: list[dict[str, Any]],
    http: TestClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug is not a rejection: the quiet logging of bad input must not swallow it."""
    import traceback

    def broken(self: Any, records: Any) -> Any:
        raise RuntimeError("the model path broke")

    valid = {"records": test_records[:2]}
    before = http.post("/predict", json=valid).json()
    caplog.set_level(logging.DEBUG)
    with monkeypatch.context() as patch:
        patch.setattr(performance.ScoringModels, "outputs", broken)
        answer = http.post("/predict", json=valid)
    assert answer.status_code == 500
    assert "the model path broke" not in answer.text, "internals stay in the log"
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged, "the 500 is logged at ERROR with its traceback"
    text = "".join(traceback.format_exception(*logged[0].exc_info))
    assert "RuntimeError: the model path broke" in text
    assert "outputs" in text or "broken" in text
    assert http.post("/predict", json=valid).json() == before


def test_the_model_card_is_served_as_markdown_and_as_json(
    pipeline_repo: Path, http: TestClient
) -> None:
    markdown = (pipeline_repo / "reports" / "model_card.md").read_text(encoding="utf-8")
    card = json.loads((pipeline_repo / "reports" / "model_card.json").read_text())
    plain = http.get("/card")
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/markdown")
    assert plain.text == markdown
    as_json = http.get("/card", headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert as_json.json() == card
    assert as_json.json()["lineage"]["model_md5"] == http.get("/metadata").json()["model_md5"]
