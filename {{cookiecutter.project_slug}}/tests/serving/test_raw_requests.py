"""Requests a client library would refuse to send, over raw sockets to a real `bentoml serve`.

Each case gets a 4xx from the service, or from the HTTP server itself a 400 or a clean close
(no reset); never a 5xx, never past its timeout; and the next valid request gets the same
answer as before.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers import module
from served import Served, serving

files = module("model.files")
ServeConfig = module("settings.params").ServeConfig

TIMEOUT_S = 15.0  # more than serve.body_timeout_s: the 408 cases wait for it


@pytest.fixture(scope="module")
def served(pipeline_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(pipeline_repo, tmp_path_factory.mktemp("raw")) as running:
        yield running


@pytest.fixture(scope="module")
def record(pipeline_repo: Path) -> dict[str, Any]:
    models = pipeline_repo / "models"
    names = files.load_model(models / "model.ubj", models / "metadata.json").spec.names
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")
    return json.loads(test[names].head(1).to_json(orient="records"))[0]


def exchange(port: int, raw: bytes, pause_after: int | None = None) -> tuple[list[int], str]:
    """Send `raw`; read until the server closes. Returns the statuses seen and how it ended."""
    statuses: list[int] = []
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
        sock.sendall(raw if pause_after is None else raw[:pause_after])  # else the rest never
        ended = "closed"
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            ended = "reset"
        except TimeoutError:
            ended = "timeout"
    for line in received.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 "):
            statuses.append(int(line.split()[1]))
    return statuses, ended + " " + received.decode("latin-1")[-600:]


def request(body: bytes, *headers: str, close: bool = True) -> bytes:
    """A POST /predict; with `close`, the server closes the connection after its answer."""
    head = ["POST /predict HTTP/1.1", "Host: 127.0.0.1", *headers]
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def json_request(body: bytes, *headers: str, close: bool = True) -> bytes:
    length = f"Content-Length: {len(body)}"
    return request(body, "Content-Type: application/json", length, *headers, close=close)


def cases(record: dict[str, Any]) -> dict[str, tuple[bytes, int | None, set[int], str]]:
    """name: (raw bytes, bytes to send before stalling or None, statuses allowed, text)."""
    valid = json.dumps({"records": [record]}).encode()
    name = next(iter(record))
    number = next((k for k, v in record.items() if isinstance(v, float)), None)
    long_key = json.dumps({"records": [{**record, "k" * 200_000: 1}]}).encode()
    return {
        "broken chunk size": (
            request(
                b"zz\r\n{}\r\n0\r\n\r\n",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            ),
            None,
            {400},
            "",
        ),
        "chunk longer than its size": (
            request(
                b"2\r\n{}}}}\r\n0\r\n\r\n",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            ),
            None,
            {400},
            "",
        ),
        "header without body": (
            json_request(valid),
            len(json_request(valid)) - len(valid),
            {408},
            "did not arrive within",
        ),
        "body shorter than Content-Length": (
            json_request(valid),
            len(json_request(valid)) - 10,
            {408},
            "did not arrive within",
        ),
        "body longer than Content-Length": (
            request(valid, "Content-Type: application/json", "Content-Length: 10"),
            None,
            {400},
            "JSON",
        ),
        "Content-Length and chunked": (
            request(
                b"0\r\n\r\n",
                "Content-Type: application/json",
                "Content-Length: 5",
                "Transfer-Encoding: chunked",
            ),
            None,
            {400},
            "",
        ),
        "two Content-Lengths": (
            request(
                valid,
                "Content-Type: application/json",
                f"Content-Length: {len(valid)}",
                "Content-Length: 3",
            ),
            None,
            {400},
            "",
        ),
        "negative Content-Length": (
            request(valid, "Content-Type: application/json", "Content-Length: -1"),
            None,
            {400},
            "",
        ),
        "bare LF line ends": (
            json_request(valid).replace(b"\r\n", b"\n"),
            None,
            {200, 400},
            "",
        ),
        "NUL in the request line": (
            request(valid, "Content-Type: application/json").replace(b"/predict", b"/pre\0dict"),
            None,
            {400, 404},
            "",
        ),
        "huge header": (
            json_request(valid, "X-Filler: " + "a" * 200_000),
            None,
            {200, 400, 431},
            "",
        ),
        "pipelined garbage after a valid request": (
            json_request(valid, close=False) + b"GARBAGE\r\n\r\n",
            None,
            {200, 400},
            "",
        ),
        "content type with a suffix": (
            request(valid, "Content-Type: application/jsonx", f"Content-Length: {len(valid)}"),
            None,
            {415},
            "Content-Type: application/json",
        ),
        "two content types": (
            request(
                valid,
                "Content-Type: text/plain",
                "Content-Type: application/json",
                f"Content-Length: {len(valid)}",
            ),
            None,
            {415},
            "Content-Type: application/json",
        ),
        "media type in capitals, with a charset": (
            request(
                valid,
                "Content-Type: Application/JSON; charset=utf-8",
                f"Content-Length: {len(valid)}",
            ),
            None,
            {200},
            "",
        ),
        "NUL byte in a JSON string": (
            json_request(valid.replace(b'"', b'"\x00', 1)),
            None,
            {400},
            "JSON",
        ),
        "number 1e999": (
            json_request(
                valid.replace(json.dumps(record[number]).encode(), b"1e999", 1)
                if number
                else b'{"records": [1e999]}'
            ),
            None,
            {400},
            "",
        ),
        "very long key": (json_request(long_key), None, {400}, "kkk...: unknown key"),
        "not a record": (
            json_request(json.dumps({"records": [[name]]}).encode()),
            None,
            {400},
            "records.0",
        ),
    }


CASE_NAMES = list(cases({"a": 1.0}))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_raw_bad_request_gets_4xx_or_a_clean_close_and_changes_nothing(
    served: Served, record: dict[str, Any], case: str
) -> None:
    raw, stall_after, allowed, text = cases(record)[case]
    valid = json_request(json.dumps({"records": [record]}).encode())
    before = exchange(served.port, valid)
    started = time.monotonic()
    statuses, ended = exchange(served.port, raw, stall_after)
    seconds = time.monotonic() - started
    after = exchange(served.port, valid)
    print(case, statuses, ended[:300])
    assert not [s for s in statuses if s >= 500], ended
    assert seconds < TIMEOUT_S, ended
    assert not ended.startswith(("reset", "timeout")), ended
    assert statuses, f"no answer: {ended}"
    assert set(statuses) <= allowed | {200}, (statuses, ended)
    assert statuses[-1] in allowed, (statuses, ended)
    assert text in ended, ended
    assert before[0] == after[0] == [200]
    assert before[1].split("\r\n\r\n")[-1] == after[1].split("\r\n\r\n")[-1]
