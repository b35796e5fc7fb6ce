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
import os
from pathlib import Path
from typing import Any

from .. import PACKAGE
from ..compat import bentoml_worker_index
from ..errors import PipelineError
from ..settings.params import ServeConfig
from .prometheus import own_multiprocess_folder

MODEL_NAME = PACKAGE  # as in stages/package.py, which imports XGBoost
SERVICE_INFO = "service.json"


def build_info() -> dict[str, Any]:
    """What `build_info.json` of the build context says (commit, dirty, the model's tag), if any.

    Looked for in the working directory (`make serve` runs `bentoml serve --working-dir
    build/bento`), then beside the package (the bento's root, in the image).
    """
    for folder in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = folder / "build_info.json"
        if candidate.is_file():
            return dict(json.loads(candidate.read_text(encoding="utf-8")))
    return {"git_commit": os.environ.get("GIT_COMMIT", "unknown"), "git_dirty": None}


def model_tag() -> str:
    """The BentoML model to serve: `$MODEL_TAG`, else the model the build context was assembled
    for (`build_info.json`), else `<package>:latest`.

    Not `latest` first: one BentoML store (`~/bentoml` by default) holds the models of every
    clone, branch and experiment with this package name, and `latest` is the most recently
    packaged of them, not necessarily this checkout's.
    """
    return os.environ.get("MODEL_TAG") or build_info().get("model_tag") or f"{MODEL_NAME}:latest"


def service_options(settings: ServeConfig) -> dict[str, Any]:
    """The options of `bentoml.service` for a service with `settings` (shared with the shell)."""
    return {
        "name": MODEL_NAME.replace("_", "-"),
        "workers": settings.workers,
        "traffic": {"timeout": settings.timeout_s},
        "logging": {"access": {"enabled": settings.access_log}},
        # BentoML always wraps requests in OpenTelemetry spans; excluding every URL skips them.
        "tracing": {} if settings.tracing else {"excluded_urls": ["."]},
    }


def stored_path(tag: str) -> Path:
    """The folder of the packaged model `tag` in the BentoML store; a clear error if absent."""
    import bentoml

    stored = bentoml.models.BentoModel(tag).stored
    if stored is None:
        raise PipelineError(
            f"model {tag} is not in the BentoML store: run `make bento` (imports "
            "models/service.bentomodel, written by the `package` stage)"
        )
    return Path(stored.path)


def service_shell(tag: str) -> Any:
    """A service with the options of the packaged model `tag` and no API (the main process's)."""
    import bentoml

    info = json.loads((stored_path(tag) / SERVICE_INFO).read_text(encoding="utf-8"))
    settings = ServeConfig.model_validate(info["serve"])

    class Service:
        """The main process's view of the service: its options only."""

    return bentoml.service(**service_options(settings))(Service)


@functools.cache
def _entry() -> Any:
    if bentoml_worker_index() is None:  # the main process of `bentoml serve`
        own_multiprocess_folder(MODEL_NAME)
        return service_shell(model_tag())
    from .service import Service

    return Service


def __getattr__(name: str) -> Any:
    """`Service`: a shell in the main process of `bentoml serve`, the service in a worker."""
    if name == "Service":
        return _entry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
