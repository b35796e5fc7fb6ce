"""The online service (BentoML): `/predict`, `/explain`, `/metadata`, from the packaged model.

`bentoml serve <package>.serving.service:Service` asks this module for `Service`: only then is
the model read from the BentoML store (tag `<package>:latest`, or `$MODEL_TAG`, imported there
by `make bento` / `make serve` from `models/service.bentomodel`) and the service built around
it. Importing the module does nothing else. `build_service` builds one from any packaged
model (the generated tests use it in-process). The request schema is generated from the
model's metadata, and records are scored through `model.scoring`: the preprocessing that
training and evaluation used. Bad input is answered 4xx naming the field by the request
guard (`request_guard.py`) before BentoML sees it. Speed settings:
`performance.py`.
"""

# No `from __future__ import annotations`: BentoML reads the API methods' annotations, which
# refer to the request type built for each model inside `build_service`.

import functools
import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from ..stages.package import MODEL_NAME
from . import performance, prometheus
from .inference_log import InferenceLog
from .packaged import PackagedModel, model_tag, read_from_store
from .request_check import RequestCheck
from .request_guard import RequestGuard

log = logging.getLogger(__name__)


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
    git_dirty: bool | None
    training_data_md5: str | None
    threshold: float
    classes: list[str]
    positive_class: str
    features: list[str]
    test_metrics: dict[str, Any]
    gate: dict[str, Any]
    limits: dict[str, int]
    card: str = "/card"  # the model card (GET /card: Markdown, or JSON with Accept)
    audit: dict[str, Any] = {}  # lineage summary, the fields of the audit records


def build_info() -> dict[str, Any]:
    """What `build_info.json` next to the package says of the build (commit, dirty), if any."""
    for folder in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = folder / "build_info.json"
        if candidate.is_file():
            return dict(json.loads(candidate.read_text(encoding="utf-8")))
    return {"git_commit": os.environ.get("GIT_COMMIT", "unknown"), "git_dirty": None}


def metadata_of(packaged: PackagedModel) -> Metadata:
    info, spec, settings = packaged.info, packaged.model.spec, packaged.settings
    build = build_info()
    return Metadata(
        model_name=info["model_name"],
        model_version=info["model_version"],
        model_md5=info["model_md5"],
        git_commit=str(build.get("git_commit")),
        git_dirty=build.get("git_dirty"),
        training_data_md5=info.get("training_data_md5"),
        threshold=packaged.threshold,
        classes=list(spec.classes),
        positive_class=spec.positive_class,
        features=spec.names,
        test_metrics=info["test_metrics"],
        gate=info["gate"],
        limits={"max_records": settings.max_records, "max_body_bytes": settings.max_body_bytes},
        audit={
            "commit": str(build.get("git_commit")),
            "dirty": build.get("git_dirty"),
            "data_md5": info.get("training_data_md5"),
            "params_md5": build.get("params_md5"),
            "model_md5": info["model_md5"],
            "gate": "passed" if info["gate"].get("passed") else "failed",
            "version": build.get("registry_version"),
        },
    )


def build_service(packaged: PackagedModel) -> Any:
    """The BentoML service that scores records with `packaged`."""
    import bentoml
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from ..model.scoring import contributions, positive_scores
    from .request_schema import records_columns

    settings, spec = packaged.settings, packaged.model.spec
    models = performance.scoring_models(packaged.model, settings)
    positive = spec.positive_class
    negative = next(c for c in spec.classes if c != positive)
    threshold = packaged.threshold
    metadata = metadata_of(packaged).model_dump()
    records_type = Annotated[
        list[packaged.record_type],  # type: ignore[name-defined]
        Field(min_length=1, max_length=settings.max_records),
    ]

    async def get_metadata(request: Request) -> JSONResponse:
        return JSONResponse(metadata)

    # GET /metadata (BentoML's API methods answer POST only).
    metadata_app = Starlette(routes=[Route("/metadata", get_metadata, methods=["GET"])])

    class Service:
        """Scores raw records with the packaged model."""

        if packaged.tag is not None:
            model_ref = bentoml.models.BentoModel(packaged.tag)

        def __init__(self) -> None:
            config = settings.inference_log
            self.inference_log = InferenceLog(config) if config.enabled else None
            performance.tune_garbage_collector(settings)

        @bentoml.api(
            batchable=True,
            max_batch_size=settings.max_batch_size,
            max_latency_ms=settings.max_latency_ms,
        )
        async def predict(self, records: records_type) -> list[Prediction]:
            """Class and class probabilities for each record.

            Records arrive as rows (fast decoding) or dicts (the pydantic schema).
            """
            # A coroutine runs on the event loop: scoring a batch takes well under a
            # millisecond per hundred records, less than BentoML's hand-off to a thread.
            columns = records_columns(records, spec)
            scores = positive_scores(models.for_rows(len(records)), columns)
            labels = np.where(scores >= threshold, positive, negative)
            prometheus.observe_predictions(scores, labels)
            if self.inference_log is not None:
                self.inference_log.append(pd.DataFrame(columns), scores, labels.tolist())
            return [
                {"label": label, "probabilities": {negative: 1.0 - score, positive: score}}
                for label, score in zip(labels.tolist(), scores.tolist(), strict=True)
            ]

        @bentoml.api
        def explain(self, records: records_type) -> list[Explanation]:
            """Per-feature contributions (XGBoost `pred_contribs`) and the base value per record."""
            columns = records_columns(records, spec)
            values, base, scores = contributions(models.small, columns)
            return [
                {
                    "base_value": float(b),
                    "contributions": dict(zip(spec.names, row.tolist(), strict=True)),
                    "probability": float(s),
                }
                for row, b, s in zip(values, base, scores, strict=True)
            ]

        @bentoml.on_shutdown
        def flush_log(self) -> None:
            if self.inference_log is not None:
                self.inference_log.flush()

    service = bentoml.asgi_app(metadata_app, path="/")(
        bentoml.service(
            name=MODEL_NAME.replace("_", "-"),
            workers=settings.workers,
            traffic={"timeout": settings.timeout_s},
            logging={"access": {"enabled": settings.access_log}},
            # BentoML always wraps requests in OpenTelemetry spans; excluding every URL skips them.
            tracing={} if settings.tracing else {"excluded_urls": ["."]},
        )(Service)
    )
    check = RequestCheck(packaged.data, spec, settings, packaged.decoder)
    service.add_asgi_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        check=check.rows,
        checked_paths=[api.route for api in service.apis.values()],
        max_concurrency=settings.max_concurrency,
    )
    performance.install_codecs(service, packaged.decoder, settings)
    return service


@functools.cache
def _served() -> Any:
    # `bentoml serve` asks for `Service` in its main process before it starts the server:
    # the metrics of this instance go to a folder of its own, never shared with another
    # service of the same BENTOML_HOME.
    prometheus.own_multiprocess_folder(MODEL_NAME)
    return build_service(read_from_store(model_tag()))


def __getattr__(name: str) -> Any:
    """`Service`: the service of the packaged model in the store, built when first asked for."""
    if name == "Service":
        return _served()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
