"""The service's speed settings, all in one place, each switched by a key under `serve:`.

Every setting changes speed only, never an answer (a generated test serves the same requests
with all of them on and all off). Measured on 2 cores with BentoML 1.4:
- `gc_tuning`: the garbage collector's passes stalled requests for 100+ ms. Everything loaded
  at start-up is frozen out of its reach and the young generation is collected after 100,000
  allocations: a 1,000-record request keeps ~25,000 objects alive, so a pass ran in nearly
  every request. p99 at concurrency 32 went from ~170 ms to under 20 ms.
- `thread_tuning`: one XGBoost thread per model call for small batches (starting OpenMP
  threads cost 15-30 ms per single-row call on busy cores, instead of 0.7 ms), and
  `large_batch_threads` for calls of `LARGE_BATCH_ROWS` rows or more (1,000 rows: 0.51 ms with
  2 threads, 0.83 ms with one). Keep workers x threads at most the cores.
- `fast_decoding`: request bodies that the pydantic schema would accept unchanged are decoded
  by msgspec (`fast_decoding.RowDecoder`): 0.5 ms instead of 4.6 ms for 1,000 records.
- `direct_encoding`: answers are encoded by msgspec in one call; BentoML would build the
  output's JSON schema for every response, validate the answer again and dump it twice.
- `direct_predict`: `/predict` is answered by the request guard, which has already checked
  the body, scoring the requests of one event-loop turn together (`http/direct_predict.py`),
  instead of handing each request to BentoML's API and batching dispatcher. Single-record
  requests at concurrency 32: 322 us of the worker's CPU each instead of 643, 1.9x the
  requests/s (1.4x the bare baseline's). `/explain` keeps BentoML's path.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from .. import speedups
from ..compat import DensePredictor, replace_http_codecs
from ..model.features import preprocess
from ..model.files import LoadedModel
from ..model.row_input import RowInput
from ..model.scoring import predictions
from ..settings.params import ServeConfig
from .http.direct_predict import MicroBatcher, Score
from .http.fast_decoding import RowDecoder
from .http.request_guard import CHECKED_ROWS, Answer
from .http.request_schema import Row, records_columns

LARGE_BATCH_ROWS = 1000
GC_YOUNG_THRESHOLD = 100_000


@dataclasses.dataclass(frozen=True)
class ScoringModels:
    """The model for small calls and the one for calls of `LARGE_BATCH_ROWS` rows or more."""

    small: LoadedModel
    large: LoadedModel
    row_input: RowInput | None = None
    small_predictor: DensePredictor | None = None
    large_predictor: DensePredictor | None = None

    def for_rows(self, rows: int) -> LoadedModel:
        return self.large if rows >= LARGE_BATCH_ROWS else self.small

    def outputs(self, records: Sequence[Any]) -> np.ndarray:
        """`scoring.predictions` of validated records (rows or dicts), with the speed-ups
        `row_input` (up to 16 records) and `lean_predict` (`speedups.py`) when they are on."""
        model = self.for_rows(len(records))
        matrix = None
        if self.row_input is not None and speedups.enabled("row_input"):
            matrix = self.row_input.matrix(records)
        if matrix is None:
            if not records:
                return predictions(model, records_columns(records, model.spec))
            matrix = preprocess(records_columns(records, model.spec), model.spec)
        predictor = self.large_predictor if model is self.large else self.small_predictor
        if predictor is not None and speedups.enabled("lean_predict"):
            return predictor(matrix)
        return np.asarray(model.booster.inplace_predict(matrix), dtype=np.float64)


def scoring_models(model: LoadedModel, settings: ServeConfig) -> ScoringModels:
    """With `thread_tuning`, copies of the booster with their thread counts; else the model.
    With either, what the speed-ups for small requests need (built once)."""
    if settings.thread_tuning:
        small = dataclasses.replace(model, booster=model.booster.copy())
        small.booster.set_param({"nthread": 1})
        large = dataclasses.replace(model, booster=model.booster.copy())
        large.booster.set_param({"nthread": settings.large_batch_threads})
    else:
        small = large = model
    return ScoringModels(
        small,
        large,
        RowInput(model.spec),
        DensePredictor(small.booster),
        DensePredictor(large.booster),
    )


def tune_garbage_collector(settings: ServeConfig) -> None:
    """With `gc_tuning`, freeze what is loaded and collect the young generation less often."""
    if not settings.gc_tuning:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def install_codecs(service: Any, decoder: RowDecoder, settings: ServeConfig) -> None:
    """Install the fast request decoding and the direct answer encoding that are switched on."""

    async def parse_records(cls: Any, request: Request, serde: Any) -> Any:
        """The request's records as rows: msgspec's fast path, else the pydantic schema.

        Bodies the fast path does not take (other spellings, bad input) go through the
        pydantic model as before, whose ValidationError BentoML answers with a 400.
        """
        checked = request.scope.get(CHECKED_ROWS)
        if checked is not None:  # the request guard checked the body already
            return cls.model_construct(records=checked[1])
        body = await request.body()
        rows = decoder.decode(body)
        if rows is None:
            rows = decoder.rows(cls.model_validate_json(body or b"{}").records)
        return cls.model_construct(records=rows)

    async def json_answer(cls: type, answer: Any, serde: Any) -> Response:
        """The answer as JSON, encoded by msgspec in one call (NaN and infinity as null)."""
        return Response(content=msgspec.json.encode(answer), media_type="application/json")

    replace_http_codecs(
        service,
        decode=parse_records if settings.fast_decoding else None,
        encode=json_answer if settings.direct_encoding else None,
    )


def direct_answers(settings: ServeConfig, route: str, score: Score) -> dict[str, Answer]:
    """With `direct_predict`, {route: the JSON answer to checked rows} for the request guard;
    `score(rows)` is the API's own scoring. Else nothing: BentoML answers every request."""
    if not settings.direct_predict:
        return {}
    batcher = MicroBatcher(score, settings.max_batch_size)
    encode = msgspec.json.encode

    async def answer(rows: list[Row]) -> bytes:
        return encode(await batcher.submit(rows))

    return {route: answer}
