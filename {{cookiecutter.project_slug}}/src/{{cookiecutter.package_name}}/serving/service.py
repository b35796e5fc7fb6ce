"""The online service (BentoML): `/predict`, `/explain`, `/metadata`, `/card` (the model card).

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
import logging
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from ..compat import replace_request_timeout
from ..stages.package import MODEL_NAME
from . import performance, prometheus
from .drain import Drain
from .entry import build_info, model_tag, service_options
from .inference_log import InferenceLog
from .packaged import PackagedModel, read_from_store
from .request_check import RequestCheck
from .request_deadline import RequestDeadline
from .request_guard import RequestGuard

log = logging.getLogger(__name__)


class Prediction(TypedDict):
    """Classification: the predicted class and the probability of each class.

    binary: positive when its probability >= the model's threshold; multiclass: the most
    probable class.
    """

    label: str
    probabilities: dict[str, float]


class Regression(TypedDict):
    """Regression: the predicted value."""

    prediction: float


class Explanation(TypedDict):
    """Per-feature contributions in log-odds; `base_value` plus their sum is the logit.

    multiclass: of the predicted (most probable) class, whose probability `probability` is.
    """

    base_value: float
    contributions: dict[str, float]
    probability: float


class RegressionExplanation(TypedDict):
    """Per-feature contributions; `base_value` plus their sum is `prediction`."""

    base_value: float
    contributions: dict[str, float]
    prediction: float


class Metadata(BaseModel):
    """What is being served, and how it was evaluated."""

    model_name: str
    model_version: str
    model_md5: str
    git_commit: str
    git_dirty: bool | None
    training_data_md5: str | None
    task: str
    threshold: float | None
    classes: list[str]
    positive_class: str | None
    features: list[str]
    test_metrics: dict[str, Any]
    gate: dict[str, Any]
    limits: dict[str, int]
    card: str = "/card"  # the model card (GET /card: Markdown, or JSON with Accept)
    audit: dict[str, Any] = {}  # lineage summary, the fields of the audit records


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
        task=spec.task,
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
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from ..model.scoring import contributions, decide, predictions
    from .request_schema import records_columns, records_ids

    settings, spec = packaged.settings, packaged.model.spec
    models = performance.scoring_models(packaged.model, settings)
    threshold = packaged.threshold
    classes = list(spec.classes)
    value_buckets = prometheus.value_buckets(packaged.model.metadata)
    ids = packaged.data.id_columns
    metadata = metadata_of(packaged).model_dump()
    records_type = Annotated[
        list[packaged.record_type],  # type: ignore[name-defined]
        Field(min_length=1, max_length=settings.max_records),
    ]

    async def get_metadata(request: Request) -> JSONResponse:
        return JSONResponse(metadata)

    async def get_card(request: Request) -> Response:
        """The model card: Markdown, or JSON when the client accepts `application/json`."""
        if packaged.card_markdown is None or packaged.card is None:
            return JSONResponse({"error": "this model was packaged without a model card"}, 404)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(packaged.card)
        return Response(packaged.card_markdown, media_type="text/markdown; charset=utf-8")

    # GET /metadata and /card (BentoML's API methods answer POST only).
    metadata_app = Starlette(
        routes=[
            Route("/metadata", get_metadata, methods=["GET"]),
            Route("/card", get_card, methods=["GET"]),
        ]
    )

    def classified(self: Any, records: list[Any]) -> list[Prediction]:
        prometheus.observe_batch(len(records))
        columns = records_columns(records, spec)
        outputs = predictions(models.for_rows(len(records)), columns)
        labels = decide(spec, outputs, threshold).tolist()
        if spec.task == "binary":
            scores = outputs
            negative = next(c for c in classes if c != spec.positive_class)
            answers: list[Prediction] = [
                {"label": label, "probabilities": {negative: 1.0 - s, spec.positive_class: s}}
                for label, s in zip(labels, outputs.tolist(), strict=True)
            ]
        else:
            scores = outputs.max(axis=1)  # the probability of the predicted class
            answers = [
                {"label": label, "probabilities": dict(zip(classes, row, strict=True))}
                for label, row in zip(labels, outputs.tolist(), strict=True)
            ]
        prometheus.observe_predictions(scores, np.asarray(labels))
        if self.inference_log is not None:
            self.inference_log.append(
                pd.DataFrame(columns), scores, labels, records_ids(records, spec, ids)
            )
        return answers

    def regressed(self: Any, records: list[Any]) -> list[Regression]:
        prometheus.observe_batch(len(records))
        columns = records_columns(records, spec)
        values = predictions(models.for_rows(len(records)), columns)
        prometheus.observe_values(values, value_buckets)
        if self.inference_log is not None:
            self.inference_log.append(
                pd.DataFrame(columns), values, None, records_ids(records, spec, ids)
            )
        return [{"prediction": v} for v in values.tolist()]

    def explained(self: Any, records: list[Any]) -> list[Any]:
        columns = records_columns(records, spec)
        values, base, outputs = contributions(models.small, columns)
        if spec.task == "multiclass":  # the predicted class's contributions
            chosen = np.argmax(outputs, axis=1)
            rows = np.arange(len(chosen))
            values, base = values[rows, chosen], base[rows, chosen]
            outputs = outputs[rows, chosen]
        answer = "prediction" if spec.task == "regression" else "probability"
        return [
            {
                "base_value": float(b),
                "contributions": dict(zip(spec.names, row.tolist(), strict=True)),
                answer: float(o),
            }
            for row, b, o in zip(values, base, outputs, strict=True)
        ]

    instances: list[Any] = []  # the Service that BentoML made in this process (direct_predict)

    class Service:
        """Scores raw records with the packaged model."""

        if packaged.tag is not None:
            model_ref = bentoml.models.BentoModel(packaged.tag)

        def __init__(self) -> None:
            config = settings.inference_log
            self.inference_log = InferenceLog(config) if config.enabled else None
            performance.tune_garbage_collector(settings)
            instances[:] = [self]

        # A coroutine runs on the event loop: scoring a batch takes well under a millisecond
        # per hundred records, less than BentoML's hand-off to a thread. Records arrive as rows
        # (fast decoding) or dicts (the pydantic schema). The answer's type follows the task.
        if spec.task == "regression":

            @bentoml.api(
                batchable=True,
                max_batch_size=settings.max_batch_size,
                max_latency_ms=settings.max_latency_ms,
            )
            async def predict(self, records: records_type) -> list[Regression]:
                """The predicted value for each record."""
                return regressed(self, records)

            @bentoml.api
            def explain(self, records: records_type) -> list[RegressionExplanation]:
                """Per-feature contributions (XGBoost `pred_contribs`) and the base value."""
                return explained(self, records)

        else:

            @bentoml.api(
                batchable=True,
                max_batch_size=settings.max_batch_size,
                max_latency_ms=settings.max_latency_ms,
            )
            async def predict(self, records: records_type) -> list[Prediction]:
                """Class and class probabilities for each record."""
                return classified(self, records)

            @bentoml.api
            def explain(self, records: records_type) -> list[Explanation]:
                """Per-feature contributions (XGBoost `pred_contribs`) and the base value."""
                return explained(self, records)

        @bentoml.on_shutdown
        def flush_log(self) -> None:
            if self.inference_log is not None:
                self.inference_log.flush()

    service = bentoml.asgi_app(metadata_app, path="/")(
        bentoml.service(**service_options(settings))(Service)
    )
    # BentoML's request timeout (`serve.timeout_s`), without a timer left behind per request.
    replace_request_timeout(RequestDeadline)
    service.add_asgi_middleware(Drain, drain_s=settings.drain_s)
    check = RequestCheck(packaged.data, spec, settings, packaged.decoder)
    scored = regressed if spec.task == "regression" else classified
    service.add_asgi_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        check=check.rows,
        checked_paths=[api.route for api in service.apis.values()],
        max_concurrency=settings.max_concurrency,
        direct=performance.direct_answers(
            settings, service.apis["predict"].route, lambda rows: scored(instances[0], rows)
        ),
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
