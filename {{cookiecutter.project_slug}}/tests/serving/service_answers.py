"""Run as a script: build the service from a packaged folder with some `serve` settings, send
it a fixed set of requests in-process, print the answers as JSON.

A script because BentoML registers its Prometheus metrics once per process: a second service
in the same process fails (`DuplicateTimeseries`). `python service_answers.py FOLDER
SETTINGS_JSON RECORDS_JSON_FILE`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from helpers import module

LARGE = module("serving.performance").LARGE_BATCH_ROWS


def respelled(record: dict[str, Any]) -> dict[str, Any]:
    """Category values spelled differently (upper case, padded): the schema's slow path."""
    return {**record, **{k: f" {v.upper()} " for k, v in record.items() if isinstance(v, str)}}


def answers(folder: Path, settings: dict[str, Any], records: list[dict[str, Any]]) -> dict:
    packaged = module("serving.packaged").read_packaged(folder)
    if settings:
        changed = packaged.settings.model_copy(update=settings)
        packaged = dataclasses.replace(packaged, settings=changed)
    service = module("serving.service").build_service(packaged)
    got: dict[str, Any] = {}
    with TestClient(service.to_asgi()) as http:
        for size in (1, 7, LARGE + 3):
            got[f"predict {size}"] = http.post("/predict", json={"records": records[:size]}).json()
        got["explain 3"] = http.post("/explain", json={"records": records[:3]}).json()
        again = [respelled(r) for r in records[:5]]
        got["predict respelled"] = http.post("/predict", json={"records": again}).json()
        bad = http.post("/predict", json={"records": [{**records[0], "unknown": 1}]})
        got["bad"] = [bad.status_code, bad.json()["detail"][0]["loc"]]
    return got


if __name__ == "__main__":
    folder, settings, records = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(answers(Path(folder), settings, json.loads(records.read_text()))))
