"""Shared helpers for the benchmarks: bake a project, sync it, time commands, summarise."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import bake, clean_env, ensure_git_repository  # noqa: E402

__all__ = [
    "bake",
    "baked_project",
    "ensure_git_repository",
    "free_port",
    "median",
    "start",
    "stop",
    "timed",
]


def baked_project(**context: str) -> Path:
    """A default bake in a new temporary directory, as a git repository, with .venv synced."""
    project = bake(Path(tempfile.mkdtemp(prefix="bench-")), **context)
    ensure_git_repository(project)
    timed(["uv", "sync", "--frozen", "--extra", "cpu", "--quiet"], project)
    return project


def timed(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command (fails loudly if the command fails)."""
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=clean_env(env), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed


def peak_rss_mb(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """(wall seconds, peak resident memory in MB) of one command and its descendants.

    A fresh wrapper process runs the command, so the peak is this command's alone
    (a process's RUSAGE_CHILDREN only ever grows).
    """
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    command: list[str], cwd: Path, env: dict[str, str], port: int, log: Path | None = None
) -> subprocess.Popen:
    """Start a server in its own process group (output to `log`, if given); wait for /readyz."""
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit(f"server did not start: {command}" + (f"; see {log}" if log else ""))


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it drains, then stops); SIGKILL it after 20 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
