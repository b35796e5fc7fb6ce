"""The packaged model in the BentoML store, and the service's options.

Shared by the main process's shell (`entry.py`) and the service (`service.py`) without
importing either, and light: no XGBoost, scikit-learn or pandas.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..errors import PipelineError
from ..settings.params import ServeConfig


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
    return (
        os.environ.get("MODEL_TAG") or build_info().get("model_tag") or f"{paths.MODEL_NAME}:latest"
    )


def service_options(settings: ServeConfig) -> dict[str, Any]:
    """The options of `bentoml.service` for a service with `settings` (shared with the shell)."""
    return {
        "name": paths.MODEL_NAME.replace("_", "-"),
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
