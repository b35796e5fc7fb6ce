"""What `make serve` runs: `bentoml serve <package>.serving.entry:Service`, a faster start.

`bentoml serve` asks for `Service` in its main process, which only reads the service's
options (name, workers, traffic) to start its worker processes, and again in each worker,
which serves. Building the service imports XGBoost, scikit-learn (through XGBoost) and pandas
and loads the model: seconds on 2 cores. The main process gets a shell instead: a service with
the same options and no API, built from the packaged `serve` settings in the BentoML store
without those imports. A worker gets the service of `service.py`, as does anything else
(`bentoml build`, the bento's `bentoml serve`, tests use `service.py` directly).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ..artifacts import paths
from ..compat import bentoml_worker_index
from ..settings.params import ServeConfig
from .http.prometheus import own_multiprocess_folder
from .store import model_tag, service_options, stored_path


def service_shell(tag: str) -> Any:
    """A service with the options of the packaged model `tag` and no API (the main process's)."""
    import bentoml

    info = json.loads((stored_path(tag) / paths.SERVICE_INFO).read_text(encoding="utf-8"))
    settings = ServeConfig.model_validate(info["serve"])

    class Service:
        """The main process's view of the service: its options only."""

    return bentoml.service(**service_options(settings))(Service)


@functools.cache
def _entry() -> Any:
    if bentoml_worker_index() is None:  # the main process of `bentoml serve`
        own_multiprocess_folder(paths.MODEL_NAME)
        return service_shell(model_tag())
    from .service import Service

    return Service


def __getattr__(name: str) -> Any:
    """`Service`: a shell in the main process of `bentoml serve`, the service in a worker."""
    if name == "Service":
        return _entry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
