"""Every use of another library's private API, in one place (shared by several concerns).

Each function below touches one private API and says which. `CHECKED` holds the versions each
library was checked against; `outside_checked_versions()` names any installed library outside
its range, and the generated test `tests/test_compat.py` fails on it, so an upgrade that could
break one of these is noticed before it ships. After checking a new version, widen its range.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# distribution -> (lowest version checked, first version not checked); "a|b": whichever of
# the distributions is installed (XGBoost comes as xgboost-cpu or, with CUDA, xgboost)
CHECKED: dict[str, tuple[str, str]] = {
    "bentoml": ("1.4.40", "1.5"),
    "prometheus-client": ("0.21", "0.27"),
    "dvclive": ("3.48", "3.50"),
    "evidently": ("0.7.10", "0.8"),
    "xgboost-cpu|xgboost": ("3.0", "3.3"),
}


def _release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version string (`1.4.40.post1` -> (1, 4, 40))."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def installed_version(name: str) -> str | None:
    """The installed version of distribution `name` (of the first installed in `a|b`), or None."""
    for distribution in name.split("|"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def outside_checked_versions() -> list[str]:
    """`name version (checked: low to below high)` for each installed library out of range."""
    found = []
    for name, (low, high) in CHECKED.items():
        installed = installed_version(name)
        if installed is None:
            continue
        if not _release(low) <= _release(installed) < _release(high):
            found.append(f"{name} {installed} (checked: {low} to below {high})")
    return found


def temporary_bentoml_model_store(folder: str | Path) -> Any:
    """A BentoML model store in `folder` (private: `bentoml._internal.models.ModelStore`).

    The `package` stage writes its model through one, so that it never touches the user's
    store (`~/bentoml`); BentoML's public API takes it as `_model_store=`.
    """
    from bentoml._internal.models import ModelStore

    return ModelStore(str(folder))


def set_prometheus_folder(folder: str) -> None:
    """Make BentoML's server keep prometheus_client's multi-process files in `folder`.

    Private: `BentoMLContainer.prometheus_multiproc_dir` (BentoML 1.4's configuration
    container), which `serve_http` reads, empties and hands to its workers as
    `PROMETHEUS_MULTIPROC_DIR`. Its default, `$BENTOML_HOME/prometheus_multiproc_dir`, is
    shared by every service of that home: a second one wipes or mixes the first one's counters.
    """
    from bentoml._internal.configuration.containers import BentoMLContainer

    BentoMLContainer.prometheus_multiproc_dir.set(folder)


def replace_request_timeout(replacement: type) -> None:
    """Make BentoML's servers time requests out with `replacement` (a middleware class taking
    `(app, timeout)`, as BentoML's own: `serving.http.request_deadline.RequestDeadline`).

    Private: `bentoml._internal.server.http.traffic.TimeoutMiddleware`, which BentoML 1.4's
    app factory (`BaseAppFactory.middlewares`) imports by name from that module each time it
    builds an app: the replacement takes its place for every app built afterwards. BentoML's
    own keeps a timer alive for `timeout` after every request (see `request_deadline`).
    """
    from bentoml._internal.server.http import traffic

    traffic.TimeoutMiddleware = replacement


def xgboost_collective_args(client: Any, workers: int) -> dict[str, Any]:
    """Start XGBoost's collective tracker for `workers` Dask workers of `client`'s cluster (on
    its scheduler, as `xgboost.dask` does); the arguments each worker's communicator joins with.

    Private: `xgboost.dask._get_rabit_args` and `_get_dask_config` (XGBoost 3.x), which
    `xgboost.dask.train` runs before it trains; they pick the tracker's address (the
    scheduler's host, or `dask.config`'s `xgboost.scheduler_address`).
    """
    from xgboost import dask as xgboost_dask

    args = xgboost_dask._get_rabit_args
    return dict(client.sync(args, client, workers, xgboost_dask._get_dask_config()))


def bentoml_worker_index() -> int | None:
    """The index of the BentoML server worker this process is (from 1); `None` elsewhere.

    Private: `bentoml._internal.context.server_context.worker_index`, which BentoML 1.4's
    worker (`_bentoml_impl.worker.service`) sets before it loads the service; the main
    process of `bentoml serve`, `bentoml build` and plain Python leave it `None`.
    """
    from bentoml._internal.context import server_context

    return server_context.worker_index


def replace_http_codecs(
    service: Any,
    decode: Callable[..., Any] | None,
    encode: Callable[..., Any] | None,
) -> None:
    """Replace how every API of a BentoML service reads requests and writes answers.

    Private: each API's `input_spec.from_http_request` and `output_spec.to_http_response` /
    `media_type` (BentoML 1.4's IO descriptors). `decode(cls, request, serde)` and
    `encode(cls, answer, serde)` are async, as BentoML calls them; `None` keeps BentoML's own.
    """
    for api in service.apis.values():
        if decode is not None:
            api.input_spec.from_http_request = classmethod(decode)
        if encode is not None:
            api.output_spec.media_type = "application/json"
            api.output_spec.to_http_response = classmethod(encode)


def observe_histogram_many(histogram: Any, values: np.ndarray) -> None:
    """`histogram.observe(v)` for every v, in one pass per bucket instead of one per value.

    Private: prometheus_client's `Histogram._upper_bounds`, `_sum` and `_buckets`, used the
    way `Histogram.observe` does (a value falls in the first bucket whose upper bound is >=
    it). Per-value calls cost ~10 us each in BentoML's multi-process mode.
    """
    if len(values) == 0:
        return
    if len(values) == 1:  # a lone record: as `Histogram.observe` does it, without numpy
        value = float(values[0])
        histogram._sum.inc(value)
        histogram._buckets[bisect.bisect_left(histogram._upper_bounds, value)].inc(1)
        return
    bounds = np.asarray(histogram._upper_bounds)
    counts = np.bincount(np.searchsorted(bounds, values, side="left"), minlength=len(bounds))
    histogram._sum.inc(float(np.sum(values)))
    for bucket, count in zip(histogram._buckets, counts.tolist(), strict=True):
        if count:
            bucket.inc(count)


# The array interface `inplace_predict` passes for a C-contiguous float32 matrix.
INTERFACE = (
    b'{"data": [%d, false], "shape": [%d, %d], "strides": null, "typestr": "<f4", "version": 3}'
)


class DensePredictor:
    """`np.asarray(booster.inplace_predict(matrix), dtype=np.float64)` for a C-contiguous
    float32 matrix, in a third of the time for a few rows.

    Private: XGBoost 3's `_LIB.XGBoosterPredictFromDense`, `_check_call` and `make_jcargs`,
    called with the arguments `inplace_predict` passes by default (output values, all trees,
    NaN as missing, no base margin). The wrapper rebuilds them, inspects the input's type
    against eight data libraries and wraps the result in three numpy steps on every call:
    ~90 us of its ~160 us for one row. The C call is the same, so the values are the same.
    """

    def __init__(self, booster: Any) -> None:
        import ctypes

        from xgboost import core

        self._ctypes = ctypes
        self._booster = booster  # keeps the handle alive
        self._predict = core._LIB.XGBoosterPredictFromDense
        self._check = core._check_call
        self._ulong = core.c_bst_ulong
        self._args = core.make_jcargs(
            type=0,
            training=False,
            iteration_begin=0,
            iteration_end=0,
            missing=np.nan,
            strict_shape=False,
            cache_id=0,
        )

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        ctypes = self._ctypes
        if matrix.dtype != np.float32 or matrix.ndim != 2 or not matrix.flags.c_contiguous:
            raise ValueError("DensePredictor takes a C-contiguous 2-d float32 matrix")
        rows, columns = matrix.shape
        interface = INTERFACE % (matrix.ctypes.data, rows, columns)
        shape = ctypes.POINTER(self._ulong)()
        dims = self._ulong()
        values = ctypes.POINTER(ctypes.c_float)()
        self._check(
            self._predict(
                self._booster.handle,
                interface,
                self._args,
                ctypes.c_void_p(),
                ctypes.byref(shape),
                ctypes.byref(dims),
                ctypes.byref(values),
            )
        )
        sizes = [int(shape[axis]) for axis in range(dims.value)]
        count = math.prod(sizes)
        if count == 0:
            return np.empty(sizes, dtype=np.float64)
        flat = np.ctypeslib.as_array(values, shape=(count,)).astype(np.float64)
        return flat.reshape(sizes)


def file_only_dvclive(directory: str | Path) -> Any:
    """A DVCLive logger that writes its files only (learning curves and summary).

    Private: overrides `Live._init_dvc`. With `dvcyaml=None` and no experiment saving, DVCLive's
    repository discovery serves nothing, yet it costs seconds of start-up in every train run
    and fails in a repository with no commit (DVCLive 3.49). DVC tracks the files itself.
    """
    from dvclive import Live

    class FileOnlyLive(Live):
        def _init_dvc(self) -> None:
            return None

    return FileOnlyLive(dir=str(directory), dvcyaml=None, report=None, save_dvc_exp=False)


def evidently_drift_score(method: str, kind: str) -> Callable[[Any, Any], float]:
    """Evidently's score function for a drift `method` on a `numeric` or `category` column.

    Private: the stat-test registry under `evidently.legacy.calculations.stattests`
    (`get_stattest(...).func`), the code Evidently's own column drift runs, so a score computed
    here equals the one in its report.
    """
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical

    def score(reference: Any, current: Any) -> float:
        test = get_stattest(reference, current, column_type, method)
        return float(test.func(reference, current, column_type, 0.0)[0])

    return score


def evidently_column_drift(
    reference: Any, current: Any, kind: str, method: str, threshold: float
) -> tuple[float, bool]:
    """One column's drift score and verdict, as Evidently's `ValueDrift` computes them.

    Private: the steps of `evidently.legacy.calculations.data_drift.get_one_column_drift`
    (infinities as missing, missing values dropped, the stat test from the registry called
    with the threshold), without the plots and tables its report builds around them.
    """
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
    ref = reference.replace([-np.inf, np.inf], np.nan).dropna()
    cur = current.replace([-np.inf, np.inf], np.nan).dropna()
    result = get_stattest(ref, cur, column_type, method)(ref, cur, column_type, threshold)
    return float(result.drift_score), bool(result.drifted)
