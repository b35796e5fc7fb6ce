"""The online service (BentoML): `/predict`, `/explain`, `/metadata`, from the packaged model.

The model comes from the BentoML store (tag `<package>:latest`, or `$MODEL_TAG`), where
`make bento` / `make serve` import `models/service.bentomodel` (the `package` stage). The
request schema is generated from the model's metadata, and records are scored through
`scoring.positive_scores`: the preprocessing that training and evaluation used.
Bad input is answered 4xx with the offending field named; see the README's "Serving".
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import bentoml
import msgspec
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import TypedDict

from ..errors import PipelineError
from ..model.files import LoadedModel, load_model
from ..model.scoring import contributions, positive_scores
from ..settings.params import DataConfig, ServeConfig
from ..stages.package import MODEL_NAME, SERVICE_INFO
from . import prometheus
from .inference_log import InferenceLog
from .request_schema import RowDecoder, record_model, records_columns

log = logging.getLogger(__name__)
MODEL_TAG = os.environ.get("MODEL_TAG", f"{MODEL_NAME}:latest")
MODEL_REF = bentoml.models.BentoModel(MODEL_TAG)


def _load_packaged() -> tuple[LoadedModel, dict[str, Any]]:
    stored = MODEL_REF.stored
    if stored is None:
        raise PipelineError(
            f"model {MODEL_TAG} is not in the BentoML store: run `make bento` (imports "
            "models/service.bentomodel, written by the `package` stage)"
        )
    folder = Path(stored.path)
    model = load_model(folder / "model.ubj", folder / "metadata.json")
    info = json.loads((folder / SERVICE_INFO).read_text(encoding="utf-8"))
    return model, info


MODEL, INFO = _load_packaged()
SETTINGS = ServeConfig.model_validate(INFO["serve"])
# One XGBoost thread per call for small batches: starting OpenMP threads for each call costs
# far more than it saves once the cores are busy (measured: 0.7 ms instead of 15-30 ms per
# single-row call on a loaded 2-core machine). Scale with `serve.workers`. Batches of
# LARGE_BATCH_ROWS rows or more use `serve.large_batch_threads` (a copy of the booster):
# 1,000 rows take 0.51 ms with 2 threads instead of 0.83 ms with one.
MODEL.booster.set_param({"nthread": 1})
LARGE_BATCH_ROWS = 1000
LARGE_BATCH_MODEL = dataclasses.replace(MODEL, booster=MODEL.booster.copy())
LARGE_BATCH_MODEL.booster.set_param({"nthread": SETTINGS.large_batch_threads})
DATA = DataConfig.model_validate(MODEL.metadata["params"]["data"])
CLASSES = MODEL.spec.classes
POSITIVE = MODEL.spec.positive_class
NEGATIVE = next(c for c in CLASSES if c != POSITIVE)
THRESHOLD = float(INFO["threshold"])

Record = record_model(DATA, MODEL.spec)
Records = Annotated[
    list[Record],  # type: ignore[valid-type]
    Field(min_length=1, max_length=SETTINGS.max_records),
]
ROWS = RowDecoder(DATA, MODEL.spec, SETTINGS.max_records)


class Prediction(TypedDict):
    """The predicted class (positive when its probability >= the threshold) and probabilities."""

    label: str
    probabilities: dict[str, float]


class Explanation(TypedDict):
    """Per-feature contributions in log-odds; `base_value` plus their sum is the logit."""

    base_value: float
    contributions: dict[str, float]
    probability: float


class Metadata(BaseModel):
    """What is being served, and how it was evaluated."""

    model_name: str
    model_version: str
    model_md5: str
    git_commit: str
    training_data_md5: str | None
    threshold: float
    classes: list[str]
    positive_class: str
    features: list[str]
    test_metrics: dict[str, Any]
    gate: dict[str, Any]
    limits: dict[str, int]


def git_commit() -> str:
    """The commit the service was built from (`build_info.json` next to the package), if known."""
    for folder in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = folder / "build_info.json"
        if candidate.is_file():
            return str(json.loads(candidate.read_text(encoding="utf-8")).get("git_commit"))
    return os.environ.get("GIT_COMMIT", "unknown")


METADATA = Metadata(
    model_name=INFO["model_name"],
    model_version=INFO["model_version"],
    model_md5=INFO["model_md5"],
    git_commit=git_commit(),
    training_data_md5=INFO.get("training_data_md5"),
    threshold=THRESHOLD,
    classes=list(CLASSES),
    positive_class=POSITIVE,
    features=MODEL.spec.names,
    test_metrics=INFO["test_metrics"],
    gate=INFO["gate"],
    limits={"max_records": SETTINGS.max_records, "max_body_bytes": SETTINGS.max_body_bytes},
)


async def _metadata(request: Request) -> JSONResponse:
    return JSONResponse(METADATA.model_dump())


# GET /metadata (BentoML's API methods answer POST only).
metadata_app = Starlette(routes=[Route("/metadata", _metadata, methods=["GET"])])


@bentoml.asgi_app(metadata_app, path="/")
@bentoml.service(
    name=MODEL_NAME.replace("_", "-"),
    workers=SETTINGS.workers,
    traffic={"timeout": SETTINGS.timeout_s},
    logging={"access": {"enabled": SETTINGS.access_log}},
    # BentoML always wraps requests in OpenTelemetry spans; excluding every URL skips them.
    tracing={} if SETTINGS.tracing else {"excluded_urls": ["."]},
)
class Service:
    """Scores raw records with the packaged model."""

    model_ref = MODEL_REF

    def __init__(self) -> None:
        self.model = MODEL
        config = SETTINGS.inference_log
        self.inference_log = InferenceLog(config) if config.enabled else None
        # The garbage collector's passes stalled requests for 100+ ms. Move everything loaded
        # so far (pandas, XGBoost, BentoML, the schema) out of its reach, and collect the
        # young generations less often: a single-record request allocates a few hundred
        # objects, a 1,000-record one ~25,000 that are still alive when a pass would scan them.
        # Measured: p99 at concurrency 32 from ~170 ms to under 20 ms; 1,000-record requests
        # 20-30% faster with 100,000 than with 20,000 (docs/benchmarks.md of the template).
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 10, 10)

    @bentoml.api(
        batchable=True,
        max_batch_size=SETTINGS.max_batch_size,
        max_latency_ms=SETTINGS.max_latency_ms,
    )
    async def predict(self, records: Records) -> list[Prediction]:
        """Class and class probabilities for each record.

        Over HTTP the records arrive as rows (see `_parse_records`); a Python caller may pass dicts.
        """
        # A coroutine runs on the event loop: scoring a batch takes well under a millisecond
        # per hundred records, less than BentoML's hand-off to a worker thread.
        columns = records_columns(records, MODEL.spec)
        model = LARGE_BATCH_MODEL if len(records) >= LARGE_BATCH_ROWS else self.model
        scores = positive_scores(model, columns)
        labels = np.where(scores >= THRESHOLD, POSITIVE, NEGATIVE)
        prometheus.observe_predictions(scores, labels)
        if self.inference_log is not None:
            self.inference_log.append(pd.DataFrame(columns), scores, labels.tolist())
        return [
            {"label": label, "probabilities": {NEGATIVE: 1.0 - score, POSITIVE: score}}
            for label, score in zip(labels.tolist(), scores.tolist(), strict=True)
        ]

    @bentoml.api
    def explain(self, records: Records) -> list[Explanation]:
        """Per-feature contributions (XGBoost `pred_contribs`) and the base value per record."""
        columns = records_columns(records, MODEL.spec)
        values, base, scores = contributions(self.model, columns)
        names = MODEL.spec.names
        return [
            {
                "base_value": float(b),
                "contributions": dict(zip(names, row.tolist(), strict=True)),
                "probability": float(s),
            }
            for row, b, s in zip(values, base, scores, strict=True)
        ]

    @bentoml.on_shutdown
    def flush_log(self) -> None:
        if self.inference_log is not None:
            self.inference_log.flush()


Service.add_asgi_middleware(prometheus.RequestGuard, max_body_bytes=SETTINGS.max_body_bytes)  # type: ignore[attr-defined]


async def _parse_records(cls: Any, request: Request, serde: Any) -> Any:
    """The request's records as rows: msgspec's fast path, else the pydantic schema.

    BentoML validates every body with the pydantic model (4.6 ms for 1,000 records, half of
    such a request). `ROWS` decodes bodies that the model accepts unchanged in 0.5 ms; the
    rest (other spellings, bad input) go through the model as before, whose ValidationError
    BentoML answers with a 400 naming the field.
    """
    body = await request.body()
    rows = ROWS.decode(body)
    if rows is None:
        rows = ROWS.rows(cls.model_validate_json(body or b"{}").records)
    return cls.model_construct(records=rows)


async def _json_answer(cls: type, answer: Any, serde: Any) -> Response:
    """The API's answer as JSON, encoded by msgspec in one call (NaN and infinity as null).

    The methods answer plain lists, dicts, strings and floats; msgspec encodes 1,000
    predictions in 0.12 ms (pydantic-core: 0.29 ms).
    """
    return Response(content=msgspec.json.encode(answer), media_type="application/json")


# BentoML turns each answer into a response by validating it against the output type again,
# dumping it twice and encoding it with the standard library's json, after deriving the media
# type by building the output's JSON schema (38% of a single-record request; py-spy, BentoML
# 1.4). Our answers are built by the methods above with the declared types and are always
# JSON: encode them directly. The declared types still document them in /docs.json.
for _api in Service.apis.values():  # type: ignore[attr-defined]
    _api.input_spec.from_http_request = classmethod(_parse_records)
    _api.output_spec.media_type = "application/json"
    _api.output_spec.to_http_response = classmethod(_json_answer)
