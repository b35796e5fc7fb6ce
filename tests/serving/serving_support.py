"""Helpers for the serving tests: servers on free loopback ports, always stopped.

Not a conftest: a second module named `conftest` would shadow the root one for other areas'
`from conftest import ...`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _root_conftest():
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_template_conftest_for_serving", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


_root = _root_conftest()
DEFAULT_PACKAGE: str = _root.DEFAULT_PACKAGE
SKIP_TEARDOWN: str = _root.SKIP_TEARDOWN
bake = _root.bake
clean_env = _root.clean_env
clone_project = _root.clone_project
run = _root.run
uv_run = _root.uv_run

READY_TIMEOUT_S = 180

# Built once per session: a session fixture imported into several test modules (this one is,
# by test_serving.py and test_image.py) would otherwise be built once per module.
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def service_project(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the pipeline project with its model imported and its bento built offline.

    Offline: uv may not reach an index and any proxied connection fails.
    """
    if "service_project" not in _BUILT:
        project = clone_project(pipeline_project, tmp_path_factory.mktemp("serving") / "project")
        offline = {
            **service_env(project),
            "UV_OFFLINE": "1",
            "PIP_NO_INDEX": "1",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        uv_run(project, "python", "-m", DEFAULT_PACKAGE, "bento", env=offline)
        _BUILT["service_project"] = project
    return _BUILT["service_project"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers 200; fail with the server's log on timeout or exit."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited {process.returncode}:\n{log.read_text()[-6000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    pytest.fail(f"{url} not ready after {READY_TIMEOUT_S} s:\n{log.read_text()[-6000:]}")


@contextlib.contextmanager
def running(command: list[str], cwd: Path, env: dict[str, str], ready_url: str, log: Path):
    """Start a server in its own process group; yield it once ready; stop the whole group."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(ready_url, process, log)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def service_env(project: Path) -> dict[str, str]:
    """Environment of the service: a private BentoML home, no telemetry."""
    return clean_env({"BENTOML_HOME": str(project.parent / "bentoml-home")})


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def worker_rss_kib(root: int) -> int:
    """Resident memory (VmRSS, KiB) of the BentoML worker processes among `root`'s descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    family, grew = {root}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    total = 0
    for pid in family:
        with contextlib.suppress(OSError):
            if b"_bentoml_impl.worker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total
