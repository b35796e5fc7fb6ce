"""The packaged model as the service uses it: the model, its settings and its request schema.

Read from a folder holding `model.ubj`, `metadata.json` and the `package` stage's service
info: the BentoML store's copy of `models/service.bentomodel` when serving, any folder in tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..model.files import LoadedModel, load_model
from ..settings.params import DataConfig, ServeConfig
from .http.fast_decoding import RowDecoder
from .http.request_schema import record_model
from .store import stored_path


@dataclass(frozen=True)
class PackagedModel:
    """Everything the service needs, derived once from the packaged files."""

    model: LoadedModel
    info: dict[str, Any]
    settings: ServeConfig
    data: DataConfig
    record_type: Any
    decoder: RowDecoder
    tag: str | None = None
    card_markdown: str | None = None  # the model card, when the model was packaged with one
    card: dict[str, Any] | None = None

    @property
    def threshold(self) -> float | None:
        """The binary decision threshold; None for multiclass and regression models."""
        value = self.info.get("threshold")
        return None if value is None else float(value)


def read_packaged(folder: str | Path, tag: str | None = None) -> PackagedModel:
    """The packaged model in `folder`."""
    folder = Path(folder)
    model = load_model(folder / "model.ubj", folder / "metadata.json")
    info = json.loads((folder / paths.SERVICE_INFO).read_text(encoding="utf-8"))
    settings = ServeConfig.model_validate(info["serve"])
    data = DataConfig.model_validate(model.metadata["params"]["data"])
    return PackagedModel(
        model=model,
        info=info,
        settings=settings,
        data=data,
        record_type=record_model(data, model.spec),
        decoder=RowDecoder(data, model.spec, settings.max_records),
        tag=tag,
        card_markdown=_text(folder / paths.MODEL_CARD.name),
        card=json.loads(_text(folder / paths.MODEL_CARD_JSON.name) or "null"),
    )


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def read_from_store(tag: str) -> PackagedModel:
    """The packaged model from the BentoML store (where `make bento` imports it)."""
    return read_packaged(stored_path(tag), tag)
