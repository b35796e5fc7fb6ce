"""The service image: built once from the baked project (`python -m <package> image`, what
`make image` runs) with podman, run for real, read layer by layer, and run again from the
rendered `dev` overlay with `podman kube play`.

No registry is reachable here, so the pinned base image (python:<3.11>-slim-bookworm@sha256:...,
bentofile.yaml) cannot be pulled: the build replaces it (build argument BASE_IMAGE) with a
TEST-ONLY STAND-IN made from Debian 12's own packages (Python 3.11, the default bake's minor
version), built with mmdebstrap and `podman import`, and kept in podman's image store under a
tag keyed by its inputs (a second session reuses it). Pip reaches the package index through
this machine's TLS-intercepting proxy: its CA bundle is mounted into the build (PIP_CERT).

Podman here: Debian's podman 4.3 with runc (crun fails on these hybrid cgroups) and explicit
ulimits, through a containers.conf that every podman call gets in CONTAINERS_CONF.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from serving_support import (
    DEFAULT_PACKAGE,
    clean_env,
    free_port,
    run,
    service_env,
    service_project,
    uv_run,
)

__all__ = ["service_project"]  # the fixture, used by name (built once: see serving_support)

pytestmark = pytest.mark.e2e  # the pipeline project's bento, an image build (minutes)

CHECKS = Path(__file__).with_name("project_checks.py")
TOOLS = ("podman", "runc", "mmdebstrap", "catatonit", "kubectl")
CONTAINERS_CONF = """\
[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
"""
# The stand-in base: Debian 12 (Python 3.11), the user tools the Dockerfile needs (groupadd,
# useradd), Python with venv/ensurepip. Its tag is keyed by these inputs.
STANDIN_SUITE = "bookworm"
STANDIN_PACKAGES = ("passwd", "python3", "python3-venv")
STANDIN_MIRROR = "http://deb.debian.org/debian"
IMAGE = "localhost/term-deposit-model"
RUNTIME_UID = 1034  # BentoML's bento user, numeric in the image (USER 1034:1034)
READY_TIMEOUT_S = 120
_BUILT: dict[str, object] = {}


def podman(
    env: dict[str, str], *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="session")
def podman_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of every podman call: runc and ulimits that work on this machine."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (`make system-tools` installs them)")
    if "podman_env" not in _BUILT:
        conf = tmp_path_factory.mktemp("podman") / "containers.conf"
        conf.write_text(CONTAINERS_CONF, encoding="utf-8")
        _BUILT["podman_env"] = clean_env({"CONTAINERS_CONF": str(conf)})
    return dict(_BUILT["podman_env"])  # type: ignore[arg-type]


def standin_tag() -> str:
    """The stand-in base's tag in podman's store, keyed by what goes into it."""
    inputs = json.dumps([STANDIN_SUITE, STANDIN_PACKAGES, STANDIN_MIRROR, "minbase"])
    return (
        f"localhost/gitops-ml-test-python:3.11-{hashlib.sha256(inputs.encode()).hexdigest()[:12]}"
    )


def start_standin_rootfs() -> tuple[subprocess.Popen[bytes], Path]:
    """Start mmdebstrap making the stand-in's root filesystem: (the process, its tar file)."""
    folder = Path(tempfile.mkdtemp(prefix="gitops-ml-standin-"))
    root = folder / "rootfs.tar"
    excluded = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "locale")]
    command = [
        "mmdebstrap", "--variant=minbase", "--include=" + ",".join(STANDIN_PACKAGES),
        *excluded, STANDIN_SUITE, str(root), STANDIN_MIRROR,
    ]  # fmt: skip
    with (folder / "mmdebstrap.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    return process, root


def prepare_in_background() -> subprocess.Popen[bytes] | None:
    """Called once after collection when a test of this module is selected (conftest.py): the
    stand-in base's root filesystem, mostly downloads and waits (measured: 2 min wall, 30 s of
    CPU), is made while the other tests run. Nothing starts when the tools are missing (the
    tests skip, naming them) or podman already holds the image."""
    if any(shutil.which(tool) is None for tool in TOOLS):
        return None
    present = subprocess.run(
        ["podman", "image", "exists", standin_tag()], capture_output=True, check=False
    )
    if present.returncode == 0 or "standin_rootfs" in _BUILT:
        return None
    _BUILT["standin_rootfs"] = start_standin_rootfs()
    return _BUILT["standin_rootfs"][0]  # type: ignore[index]


@pytest.fixture(scope="session")
def standin_base(podman_env: dict[str, str]) -> str:
    """The test-only stand-in of the pinned base image (see the module's docstring)."""
    tag = standin_tag()
    if podman(podman_env, "image", "exists", tag, check=False).returncode != 0:
        started = _BUILT.pop("standin_rootfs", None) or start_standin_rootfs()
        process, root = started  # type: ignore[misc]
        returncode = process.wait(timeout=900)
        log = root.with_name("mmdebstrap.log").read_text(encoding="utf-8", errors="replace")
        assert returncode == 0, log[-4000:]
        podman(podman_env, "import", "--change", 'CMD ["python3"]', str(root), tag)
        shutil.rmtree(root.parent)
    return tag


@pytest.fixture(scope="session")
def service_image(
    service_project: Path, standin_base: str, podman_env: dict[str, str]
) -> dict[str, str]:
    """The image built from the service project's bento: its tag, ID and digest."""
    if "service_image" not in _BUILT:
        options = []
        ca_bundle = Path(ssl.get_default_verify_paths().cafile or "/nonexistent")
        if ca_bundle.is_file():  # this machine's proxy CA, for pip inside the build
            options = [
                "--opt", "build-arg=PIP_CERT=/build-ca/ca.crt",
                "--opt", f"volume={ca_bundle}:/build-ca/ca.crt:ro",
            ]  # fmt: skip
        tag = f"{IMAGE}:test"
        env = service_env(service_project) | {"CONTAINERS_CONF": podman_env["CONTAINERS_CONF"]}
        started = time.monotonic()
        built = uv_run(
            service_project, "python", "-m", DEFAULT_PACKAGE, "image", "--tag", tag,
            "--base-image", standin_base, *options, env=env, timeout=1500,
        )  # fmt: skip
        seconds = time.monotonic() - started
        print(f"image built in {seconds:.0f} s")  # measured: shown with -s / in the report
        inspected = json.loads(podman(podman_env, "image", "inspect", tag).stdout)[0]
        assert built.stdout.strip() == inspected["Id"]  # what `make image` prints
        assert (service_project / "build" / "image_id.txt").read_text().strip() == inspected["Id"]
        _BUILT["service_image"] = {
            "tag": tag,
            "id": inspected["Id"],
            "digest": inspected["Digest"],
            "seconds": f"{seconds:.0f}",
        }
    return dict(_BUILT["service_image"])  # type: ignore[arg-type]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_ready(env: dict[str, str], name: str, url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if get(url)[0] == 200:
                return
        state = podman(env, "inspect", name, "--format", "{{.State.Status}}", check=False)
        if state.stdout.strip() in {"exited", "stopped"}:
            break
        time.sleep(1)
    logs = podman(env, "logs", name, check=False)
    pytest.fail(f"{url} not ready:\n{logs.stdout[-4000:]}{logs.stderr[-4000:]}")


@pytest.fixture(scope="module")
def container(service_image: dict[str, str], podman_env: dict[str, str]) -> Iterator[dict]:
    """The image running with a read-only root filesystem (writable: podman's /tmp tmpfs)."""
    name = f"gitops-ml-test-service-{free_port()}"
    port = free_port()
    podman(
        podman_env, "run", "--detach", "--name", name, "--read-only",
        "--publish", f"127.0.0.1:{port}:3000", service_image["tag"],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(podman_env, name, f"{url}/readyz")
        yield {"name": name, "url": url}
    finally:
        podman(podman_env, "rm", "--force", "--time", "5", name, check=False)


def in_image(env: dict[str, str], image: str, script: str, user: str = "0") -> str:
    """Run a shell script in a throw-away container of `image`; its stdout."""
    result = podman(env, "run", "--rm", "--user", user, "--entrypoint", "sh", image, "-c", script)
    return result.stdout


# --- running it ----------------------------------------------------------------------------


def test_the_container_answers_what_the_model_answers_in_process(
    container: dict, service_project: Path, tmp_path: Path
) -> None:
    assert get(f"{container['url']}/livez")[0] == 200
    checks = uv_run(
        service_project, "python", str(CHECKS), "consistency",
        container["url"], DEFAULT_PACKAGE, str(tmp_path),
    )  # fmt: skip
    summary = json.loads(checks.stdout)
    assert summary["http_rows"] == summary["rows"] > 0
    assert summary["http_equals_evaluation"], summary  # bit for bit, as the evaluation scored
    assert summary["large_request_equals_evaluation"], summary
    assert summary["labels_agree"], summary
    status, metrics = get(f"{container['url']}/metrics")
    assert status == 200
    served = re.findall(
        r'^bentoml_service_request_total\{[^}]*endpoint="/predict"[^}]*http_response_code="200"'
        r"[^}]*\} ([0-9.]+)$",
        metrics,
        re.MULTILINE,
    )
    assert served, metrics[:2000]
    assert sum(float(value) for value in served) >= 2  # the two /predict calls above
    assert re.search(r"^model_predictions_total\{.*\} [1-9]", metrics, re.MULTILINE)


def test_it_runs_as_a_non_root_user_on_a_read_only_root_filesystem(
    container: dict, podman_env: dict[str, str]
) -> None:
    name = container["name"]
    assert podman(podman_env, "exec", name, "id", "-u").stdout.strip() == str(RUNTIME_UID)
    for target in ("/app/.venv/written", "/home/bentoml/bento/written", "/written"):
        result = podman(podman_env, "exec", name, "touch", target, check=False)
        assert result.returncode != 0
        assert "Read-only file system" in result.stderr + result.stdout
    assert podman(podman_env, "exec", name, "touch", "/tmp/scratch").returncode == 0


def test_sigterm_stops_it_cleanly(container: dict, podman_env: dict[str, str]) -> None:
    name = container["name"]
    started = time.monotonic()
    podman(podman_env, "stop", "--time", "30", name)  # SIGTERM, SIGKILL after 30 s
    assert time.monotonic() - started < 25
    state = json.loads(podman(podman_env, "inspect", name).stdout)[0]["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0)
    logs = podman(podman_env, "logs", name)
    assert "Service instance cleanup finalized" in logs.stdout + logs.stderr


# --- reading it ----------------------------------------------------------------------------


def test_the_image_is_hardened(
    service_image: dict[str, str], service_project: Path, podman_env: dict[str, str]
) -> None:
    image = service_image["tag"]
    inspected = json.loads(podman(podman_env, "image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == f"{RUNTIME_UID}:{RUNTIME_UID}"
    healthcheck = inspected.get("Healthcheck") or config.get("Healthcheck")  # podman / docker
    assert "/readyz" in " ".join(healthcheck["Test"])
    assert not any(variable.startswith("PIP_") for variable in config["Env"])  # build-only
    # No compiler, no git, no pip in the final image.
    found = in_image(
        podman_env, image,
        "for tool in gcc cc c++ g++ make git pip pip3; do command -v $tool; done; "
        "ls /app/.venv/bin | grep -E '^pip' || true; "
        "ls /usr/bin | grep -E '^(gcc|g\\+\\+|git)' || true",
    )  # fmt: skip
    assert found.strip() == ""
    # Everything of the application belongs to root and is read-only for the runtime user.
    owners = in_image(
        podman_env, image, "find /app /home/bentoml/bento ! -user root -o ! -group root | head"
    )
    assert owners.strip() == ""
    writable = in_image(
        podman_env, image, "find /app /home/bentoml/bento -writable | head", user=str(RUNTIME_UID)
    )
    assert writable.strip() == ""
    # Every installed distribution came from a hashed line of the bento's requirements.
    bento = service_env(service_project)["BENTOML_HOME"]
    tag = (service_project / "build" / "bento_tag.txt").read_text().strip()
    name, version = tag.split(":")
    requirements = (
        Path(bento) / "bentos" / name / version / "env" / "python" / "requirements.txt"
    ).read_text()
    entries = [  # a requirement line, then its indented `--hash=` lines
        e for e in re.split(r"\n(?=\S)", requirements) if e.strip() and not e.startswith("#")
    ]
    unhashed = [e.strip() for e in entries if "--hash=sha256:" not in e]
    full_version = in_image(
        podman_env, image, "python3 -c 'import platform; print(platform.python_version())'"
    ).strip()
    environment = {
        "python_full_version": full_version,
        "python_version": full_version.rsplit(".", 1)[0],
    }
    expected = {}
    for entry in entries:
        if "--hash=sha256:" not in entry:
            continue
        requirement, _, marker = entry.splitlines()[0].rstrip(" \\").partition(";")
        if marker.strip() and not Marker(marker).evaluate(environment):
            continue
        package, pinned = requirement.strip().split("==")
        expected[canonicalize_name(package)] = pinned
    # BentoML's own pin is the one line without a hash, and repeats the lock's version.
    assert unhashed == [f"bentoml=={expected['bentoml']}"]
    installed = {}
    for dist_info in in_image(
        podman_env,
        image,
        "ls /app/.venv/lib/python3*/site-packages | grep -E '[.](dist|egg)-info$'",
    ).split():
        # name-version.dist-info, or name-version.egg-info (an sdist that setup.py installed)
        package, found = re.sub(r"[.](dist|egg)-info$", "", dist_info).split("-")[:2]
        installed[canonicalize_name(package)] = found
    assert installed == expected  # exactly the hashed lines that apply here: nothing else, no pip
    # The history: a hash-checked install, nothing installed with apt, the base by digest.
    history = json.loads(
        podman(podman_env, "history", "--no-trunc", "--format", "json", image).stdout
    )
    steps = " ".join(str(layer.get("created_by", layer.get("CreatedBy", ""))) for layer in history)
    assert "pip install --require-hashes --no-deps" not in steps  # the build stage's, not here
    assert "apt-get install" not in steps
    assert "build-essential" not in steps
    dockerfile = (
        Path(bento) / "bentos" / name / version / "env" / "docker" / "Dockerfile"
    ).read_text()
    assert "pip install --require-hashes --no-deps" in dockerfile
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base, dockerfile[:1000]
    bentofile = yaml.safe_load((service_project / "bentofile.yaml").read_text())
    assert base[1] == bentofile["docker"]["base_image"]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base[1])
    # The stand-in has the pinned base's Python minor version.
    version_line = in_image(podman_env, image, "python3 --version")
    assert version_line.startswith("Python 3.11."), version_line


def other_bentoml_pin(requirements: str) -> str:
    """BentoML appended a version the lock does not pin."""
    return re.sub(r"^bentoml==\S+$", "bentoml==0.0.1", requirements, flags=re.M)


def no_hashed_bentoml(requirements: str) -> str:
    """The lock's hashed bentoml line is gone: only BentoML's unhashed pin is left."""
    return re.sub(r"^bentoml==\S+ \\\n(\s+--hash=\S+( \\)?\n)+", "", requirements, flags=re.M)


@pytest.mark.parametrize("edit", [other_bentoml_pin, no_hashed_bentoml])
def test_the_build_stage_refuses_an_unhashed_bentoml_pin(
    service_image: dict[str, str],
    service_project: Path,
    standin_base: str,
    podman_env: dict[str, str],
    tmp_path: Path,
    edit,
) -> None:
    """The bento's own Dockerfile, its build stage only, on edited requirements: it stops
    before pip (no download)."""
    bento = Path(service_env(service_project)["BENTOML_HOME"]) / "bentos"
    name, version = (service_project / "build" / "bento_tag.txt").read_text().strip().split(":")
    source = bento / name / version / "env"
    original = (source / "python" / "requirements.txt").read_text()
    edited = edit(original)
    assert edited != original
    requirements = tmp_path / "env" / "python" / "requirements.txt"
    requirements.parent.mkdir(parents=True)
    requirements.write_text(edited, encoding="utf-8")
    result = podman(
        podman_env, "build", "--target", "build", "--build-arg", f"BASE_IMAGE={standin_base}",
        "--file", str(source / "docker" / "Dockerfile"), str(tmp_path), check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "to the requirements, but uv.lock pins another bentoml" in result.stdout + result.stderr


# --- the dev overlay, played --------------------------------------------------------------


def test_the_dev_overlay_runs_with_podman_kube_play(
    service_image: dict[str, str],
    service_project: Path,
    podman_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # The GitOps way: pin the built image's digest into (a copy of) the dev overlay, render it.
    shutil.copytree(service_project / "deploy", tmp_path / "deploy")
    uv_run(
        service_project, "python", "-m", DEFAULT_PACKAGE, "deploy", "--root", str(tmp_path),
        "pin", "--stage", "dev", "--image", IMAGE, "--digest", service_image["digest"],
    )  # fmt: skip
    rendered = run(["kubectl", "kustomize", str(tmp_path / "deploy/overlays/dev")], tmp_path)
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    (deployment,) = [doc for doc in docs if doc["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{IMAGE}@{service_image['digest']}"
    # podman plays Pods and Deployments (not Services, PDBs, HPAs): the Deployment, unchanged.
    played = tmp_path / "dev-deployment.yaml"
    played.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    podman(podman_env, "kube", "play", str(played))
    name = f"{deployment['metadata']['name']}-pod-0-{container['name']}"
    ask = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:3000/readyz').status)"
    try:
        deadline, answer = time.monotonic() + READY_TIMEOUT_S, None
        while time.monotonic() < deadline and answer != "200":
            time.sleep(2)
            answer = podman(
                podman_env, "exec", name, "python3", "-c", ask, check=False
            ).stdout.strip()
        assert answer == "200", podman(podman_env, "logs", name, check=False).stderr[-4000:]
        inspected = json.loads(podman(podman_env, "inspect", name).stdout)[0]
        assert inspected["Config"]["User"].split(":")[0] == str(RUNTIME_UID)
        assert inspected["HostConfig"]["ReadonlyRootfs"] is True
        assert "no-new-privileges" in inspected["HostConfig"]["SecurityOpt"]
    finally:
        podman(podman_env, "kube", "down", str(played), check=False)
