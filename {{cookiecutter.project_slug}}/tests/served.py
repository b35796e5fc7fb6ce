"""A real `bentoml serve` of the pipeline's packaged model, for tests that need the HTTP server.

Not a conftest: a helper the tests call. The model is imported into a scratch BentoML home;
the server runs in its own process group and is always stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import PACKAGE, module

READY_TIMEOUT_S = 120


@dataclass
class Served:
    """A running service: its process, port and log file."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def import_model(pipeline_repo: Path, home: Path) -> str:
    """Import the pipeline's `models/service.bentomodel` into the store of BentoML home `home`."""
    import bentoml

    store = module("compat").temporary_bentoml_model_store(home / "models")
    source = pipeline_repo / "models" / "service.bentomodel"
    return str(bentoml.models.import_model(str(source), _model_store=store).tag)


@contextlib.contextmanager
def serving(pipeline_repo: Path, folder: Path) -> Iterator[Served]:
    """`bentoml serve` the pipeline's model (home and log in `folder`); yield it once ready."""
    home = folder / "bentoml-home"
    tag = import_model(pipeline_repo, home)
    env = {
        **os.environ,
        "BENTOML_HOME": str(home),
        "BENTOML_DO_NOT_TRACK": "True",
        "MODEL_TAG": tag,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    log = folder / "service.log"
    command = [
        *(sys.executable, "-m", "bentoml", "serve"),
        f"{PACKAGE}.serving.entry:Service",  # as `make serve`
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(process, port, log)
    try:
        wait_ready(served)
        yield served
    finally:
        stop(process)


def wait_ready(served: Served) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"the server exited:\n{served.log.read_text()[-5000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(served.url + "/readyz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"not ready in {READY_TIMEOUT_S} s:\n{served.log.read_text()[-5000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group; SIGKILL it if it has not exited after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
