"""Shared helpers for the benchmarks: bake a project, sync it, time commands, summarise."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import bake, clean_env, ensure_git_repository  # noqa: E402

__all__ = [
    "bad_record",
    "bake",
    "baked_project",
    "data_config",
    "descendants",
    "ensure_git_repository",
    "free_port",
    "median",
    "package_of",
    "proc_stats",
    "start",
    "stop",
    "timed",
    "write_bodies",
]

NOT_A_NUMBER = "not-a-number"
UNKNOWN_FIELD = "no_such_field"


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


def proc_stats() -> dict[int, list[str]]:
    """Each process's /proc/<pid>/stat fields after the command name (state, ppid, ...)."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    return stats


def descendants(root: int, stats: dict[int, list[str]]) -> set[int]:
    """`root` and every process below it, by the parent ids in `stats` (`proc_stats()`)."""
    family, grew = {root}, True
    while grew:
        children = {pid for pid, fields in stats.items() if int(fields[1]) in family} - family
        family |= children
        grew = bool(children)
    return family


def package_of(project: Path) -> str:
    """The generated project's package name (`src/<package>/`)."""
    return next(p.parent.name for p in (project / "src").glob("*/__init__.py"))


def data_config(project: Path) -> dict[str, Any]:
    """The project's configured data (`params.yaml`'s `data`: path, target, columns, roles)."""
    return yaml.safe_load((project / "params.yaml").read_text())["data"]


def feature_records(project: Path, rows: int) -> list[dict[str, Any]]:
    """`rows` request records of the project's configured data: its feature columns only.

    The project's own `python -m <package> example` picks them (rows of `data.path` with every
    feature present; the target, id, timestamp, dropped and personal-data columns left out by
    the data config); a table with fewer complete rows is repeated to make up `rows`.
    """
    python = project / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", package_of(project), "example", "--rows", str(rows)],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{package_of(project)} example failed in {project}:\n{done.stderr}")
    records = json.loads(done.stdout)["records"]
    if not records:
        raise SystemExit(f"{project}'s configured data gave no example record")
    return list(islice(cycle(records), rows))


def bad_record(record: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`record` made invalid by a rule that holds for any table, and what the rule did.

    A text value in the first numeric feature; with no numeric feature, an unseen level in the
    first category feature; the service must refuse either with a 4xx naming the field.
    """
    columns = data["columns"]
    numeric = [name for name in record if columns[name]["dtype"] in ("int", "float")]
    if numeric:
        return {**record, numeric[0]: NOT_A_NUMBER}, f"text {NOT_A_NUMBER!r} in {numeric[0]!r}"
    name = next(name for name in record if columns[name]["dtype"] == "category")
    levels = {str(level) for level in columns[name].get("categories") or []}
    unseen = next(v for v in ("no-such-level", "no-such-level-2") if v not in levels)
    return {**record, name: unseen}, f"unseen level {unseen!r} in {name!r}"


def write_bodies(project: Path, folder: Path, rows: int = 1000) -> dict[str, Path]:
    """Request bodies (`{"records": [...]}`) for `project`'s service, written under `folder`.

    Valid: `one` (one record), `many` (`rows` records). Bad, each one record: `bad_value`
    (see `bad_record`), `unknown_field` (a field the schema does not declare) and `malformed`
    (truncated JSON). Built from the project's configured data, so they fit any table and task.
    """
    records = feature_records(project, rows)
    bad, rule = bad_record(records[0], data_config(project))
    bodies = {
        "one": {"records": records[:1]},
        "many": {"records": records},
        "bad_value": {"records": [bad]},
        "unknown_field": {"records": [{**records[0], UNKNOWN_FIELD: "red"}]},
    }
    written = {}
    for name, body in bodies.items():
        written[name] = folder / f"{name}.json"
        written[name].write_text(json.dumps(body))
    written["malformed"] = folder / "malformed.json"
    written["malformed"].write_bytes(written["one"].read_bytes()[:-3])
    print(f"bodies from {data_config(project)['path']}; bad_value: {rule}", file=sys.stderr)
    return written
