"""A clean drain on SIGTERM, against a real `bentoml serve` with kept-alive clients."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import module
from served import serving

files = module("model.files")


def one_record_body(pipeline_repo: Path, rows: int = 1) -> bytes:
    models = pipeline_repo / "models"
    names = files.load_model(models / "model.ubj", models / "metadata.json").spec.names
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")
    records = json.loads(test[names].head(rows).to_json(orient="records"))
    return json.dumps({"records": records}).encode()


def post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, str, bytes]:
    """One request on a kept-alive connection: status, Connection header, body."""
    connection.request("POST", path, body, {"content-type": "application/json"})
    answer = connection.getresponse()
    return answer.status, (answer.getheader("connection") or "").lower(), answer.read()


def test_sigterm_drains_readyz_503_no_request_reset_connections_closed(
    pipeline_repo: Path, tmp_path: Path
) -> None:
    body = one_record_body(pipeline_repo)
    large = one_record_body(pipeline_repo, rows=2000)
    drain_s = module("settings.params").ServeConfig.model_fields["drain_s"].default
    with serving(pipeline_repo, tmp_path) as served:
        connect = lambda: http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)  # noqa: E731
        expected = post(connect(), "/predict", body)[2]
        idle = [connect() for _ in range(4)]
        for connection in idle:  # kept alive, then idle across the signal
            assert post(connection, "/predict", body)[0] == 200
        signalled = threading.Event()
        results: list[dict[str, Any]] = []
        lock = threading.Lock()

        def busy() -> None:
            """Send requests back to back on one kept-alive connection until refused."""
            connection = connect()
            while True:
                sent_after = signalled.is_set()
                started = time.monotonic()
                try:
                    status, closing, answer = post(connection, "/predict", body)
                    outcome: dict[str, Any] = {"status": status, "close": closing == "close"}
                    outcome["same"] = answer == expected
                except (ConnectionError, http.client.HTTPException, OSError) as error:
                    outcome = {"error": repr(error)}
                with lock:
                    results.append({"after": sent_after, "at": started, **outcome})
                if "error" in outcome or (sent_after and outcome.get("close")):
                    if time.monotonic() > signal_time[0] + drain_s + 1 or "error" in outcome:
                        return
                    connection = connect()  # told to close: a new connection, as clients do

        signal_time = [float("inf")]
        in_flight: dict[str, Any] = {}

        def slow_request() -> None:
            connection = connect()
            started = time.monotonic()
            in_flight["answer"] = post(connection, "/explain", large)
            in_flight["seconds"] = time.monotonic() - started

        workers = [threading.Thread(target=busy) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        slow = threading.Thread(target=slow_request)
        slow.start()
        time.sleep(0.05)
        signal_time[0] = time.monotonic()
        os.kill(served.process.pid, signal.SIGTERM)  # as a container runtime does: the main process
        signalled.set()
        # The main process passes the signal on to the worker: poll until it has (bounded below).
        while True:
            ready = connect()
            ready.request("GET", "/readyz")
            readyz = ready.getresponse()
            readyz.read()
            readyz_seconds = time.monotonic() - signal_time[0]
            if readyz.status != 200 or readyz_seconds >= 2.0:
                break
            time.sleep(0.02)
        time.sleep(drain_s / 3)
        after_signal = [post(connection, "/predict", body) for connection in idle[:2]]
        for worker in [*workers, slow]:
            worker.join(timeout=drain_s + 30)
        time.sleep(drain_s)
        closed = []
        for connection in idle[2:]:  # never used after the signal: closed cleanly by the server
            assert connection.sock is not None
            connection.sock.settimeout(10)
            try:
                closed.append(connection.sock.recv(1))
            except ConnectionResetError:
                closed.append("reset")
        served.process.wait(timeout=30)

    assert readyz.status == 503
    assert readyz_seconds < 2.0
    before = [r for r in results if not r["after"]]
    assert before
    assert all(r.get("status") == 200 and r["same"] for r in before), before
    assert not [r for r in before if "error" in r]
    assert in_flight["answer"][0] == 200, in_flight
    during = [r for r in results if r["after"] and r["at"] < signal_time[0] + drain_s - 0.5]
    assert during
    assert all(r.get("status") == 200 for r in during), during
    # The worker drains once the main process has passed the signal on: a request sent in
    # between is answered as before (kept alive); once /readyz said 503, every answer closes.
    draining = [r for r in during if r["at"] >= signal_time[0] + readyz_seconds]
    assert draining
    assert all(r["close"] for r in draining), draining
    assert [(status, closing) for status, closing, _ in after_signal] == [(200, "close")] * 2
    assert closed == [b"", b""], "idle kept-alive connections get a clean close, not a reset"
    assert served.process.returncode is not None
    assert "Traceback" not in served.log.read_text()
