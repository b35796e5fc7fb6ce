"""The online service (BentoML): `/predict`, `/explain`, `/metadata`, `/card` (the model card).

`bentoml serve <package>.serving.service:Service` asks this module for `Service`: only then is
the model read from the BentoML store (tag `<package>:latest`, or `$MODEL_TAG`, imported there
by `make bento` / `make serve` from `models/service.bentomodel`) and the service built around
it. Importing the module does nothing else. `build_service` builds one from any packaged
model (the generated tests use it in-process). The request schema is generated from the
model's metadata, and records are scored through `model.scoring`: the preprocessing that
training and evaluation used. Bad input is answered 4xx naming the field by the request
guard (`http/request_guard.py`) before BentoML sees it. Speed settings:
`performance.py`.
"""

# No `from __future__ import annotations`: BentoML reads the API methods' annotations, which
# refer to the request type built for each model inside `build_service`.

import functools
import logging
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..artifacts import paths
from ..compat import replace_request_timeout
from . import performance
from .answers import Scorer, TaskApi, explainer, task_api
from .http import prometheus
from .http.drain import Drain
from .http.request_check import RequestCheck
from .http.request_deadline import RequestDeadline
from .http.request_guard import RequestGuard
from .inference_log import InferenceLog
from .packaged import PackagedModel, read_from_store
from .store import build_info, model_tag, service_options

log = logging.getLogger(__name__)


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
        classes=spec.spelled(spec.classes),  # as the data config writes them, as answers do
        positive_class=spec.spelled([spec.positive_class])[0] if spec.positive_class else None,
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


def metadata_app(packaged: PackagedModel) -> Any:
    """GET /metadata and /card (BentoML's API methods answer POST only)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    metadata = metadata_of(packaged).model_dump()

    async def get_metadata(request: Request) -> JSONResponse:
        return JSONResponse(metadata)

    async def get_card(request: Request) -> Response:
        """The model card: Markdown, or JSON when the client accepts `application/json`."""
        if packaged.card_markdown is None or packaged.card is None:
            return JSONResponse({"error": "this model was packaged without a model card"}, 404)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(packaged.card)
        return Response(packaged.card_markdown, media_type="text/markdown; charset=utf-8")

    return Starlette(
        routes=[
            Route("/metadata", get_metadata, methods=["GET"]),
            Route("/card", get_card, methods=["GET"]),
        ]
    )


def service_class(
    packaged: PackagedModel, api: TaskApi, explained: Scorer, instances: list[Any]
) -> type:
    """The BentoML service class: `/predict` and `/explain`, typed by `api` (defined once)."""
    import bentoml

    settings = packaged.settings
    records_type = Annotated[
        list[packaged.record_type],  # type: ignore[name-defined]
        Field(min_length=1, max_length=settings.max_records),
    ]
    answer_type, explanation_type = api.answer, api.explanation

    class Service:
        """Scores raw records with the packaged model."""

        if packaged.tag is not None:
            model_ref = bentoml.models.BentoModel(packaged.tag)

        def __init__(self) -> None:
            config = settings.inference_log
            self.inference_log = InferenceLog(config) if config.enabled else None
            performance.tune_garbage_collector(settings)
            instances[:] = [self]  # the Service that BentoML made in this process

        # A coroutine runs on the event loop: scoring a batch takes well under a millisecond
        # per hundred records, less than BentoML's hand-off to a thread. Records arrive as rows
        # (fast decoding) or dicts (the pydantic schema). The answer's type follows the task.
        async def predict(self, records: records_type) -> answer_type:
            return api.score(self, records)

        predict.__doc__ = api.predict_doc
        predict = bentoml.api(
            batchable=True,
            max_batch_size=settings.max_batch_size,
            max_latency_ms=settings.max_latency_ms,
        )(predict)

        @bentoml.api
        def explain(self, records: records_type) -> explanation_type:
            """Per-feature contributions (XGBoost `pred_contribs`) and the base value."""
            return explained(self, records)

        @bentoml.on_shutdown
        def flush_log(self) -> None:
            if self.inference_log is not None:
                self.inference_log.flush()

    return Service


def build_service(packaged: PackagedModel) -> Any:
    """The BentoML service that scores records with `packaged`."""
    import bentoml

    settings, spec = packaged.settings, packaged.model.spec
    models = performance.scoring_models(packaged.model, settings)
    api = task_api(packaged, models)
    instances: list[Any] = []  # the Service that BentoML made in this process (direct_predict)
    service = bentoml.asgi_app(metadata_app(packaged), path="/")(
        bentoml.service(**service_options(settings))(
            service_class(packaged, api, explainer(packaged, models), instances)
        )
    )
    # BentoML's request timeout (`serve.timeout_s`), without a timer left behind per request.
    replace_request_timeout(RequestDeadline)
    service.add_asgi_middleware(Drain, drain_s=settings.drain_s)
    check = RequestCheck(packaged.data, spec, settings, packaged.decoder)
    scored = api.score
    service.add_asgi_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        check=check.rows,
        checked_paths=[endpoint.route for endpoint in service.apis.values()],
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
    prometheus.own_multiprocess_folder(paths.MODEL_NAME)
    return build_service(read_from_store(model_tag()))


def __getattr__(name: str) -> Any:
    """`Service`: the service of the packaged model in the store, built when first asked for."""
    if name == "Service":
        return _served()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
