"""deploy/: every overlay rendered with `kubectl kustomize`, validated against the Kubernetes API
schemas (kubernetes-validate, strict: an unknown field is an error), and held to a policy
(digest-only images, probes, resources, non-root, read-only root filesystem, no privilege
escalation); the Argo CD and Flux examples point at the overlays that exist.

Bakes only (no pipeline, no environment): seconds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from serving_support import bake

STAGES = ("dev", "staging", "prod")
# The oldest Kubernetes minor still supported upstream when this was written, and the newest
# the validator knows: the manifests use only APIs that both serve.
KUBERNETES_VERSIONS = ("1.32.0", kubernetes_validate.latest_version())
DIGEST_IMAGE = re.compile(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}")
KINDS = {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is missing (it renders the overlays)"
)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The default bake (ghcr) and a Docker Hub bake."""
    root = tmp_path_factory.mktemp("deploy-manifests")
    return {
        "ghcr": bake(root / "ghcr"),
        "dockerhub": bake(root / "dockerhub", container_registry="dockerhub"),
    }


def render(project: Path, stage: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(project / "deploy" / "overlays" / stage)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def policy_violations(docs: list[dict[str, Any]]) -> list[str]:
    """What the policy refuses in rendered manifests, one line per finding."""
    found = []
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        name = doc["metadata"]["name"]
        pod = doc["spec"]["template"]["spec"]
        if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
            found.append(f"{name}: pod runAsNonRoot is not true")
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            if not DIGEST_IMAGE.fullmatch(container["image"]):
                found.append(f"{where}: image {container['image']!r} is not name@sha256:digest")
            security = container.get("securityContext", {})
            for key, wanted in (
                ("readOnlyRootFilesystem", True),
                ("allowPrivilegeEscalation", False),
                ("runAsNonRoot", True),
            ):
                if security.get(key) is not wanted:
                    found.append(f"{where}: securityContext.{key} is not {wanted}")
            if "ALL" not in security.get("capabilities", {}).get("drop", []):
                found.append(f"{where}: capabilities are not all dropped")
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in container.get("resources", {}).get(kind, {}):
                        found.append(f"{where}: no {kind}.{resource}")
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
                if container.get(probe, {}).get("httpGet", {}).get("path") != path:
                    found.append(f"{where}: {probe} does not ask {path}")
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_every_overlay_renders_and_validates_against_the_api_schemas(
    projects: dict[str, Path], stage: str
) -> None:
    docs = render(projects["ghcr"], stage)
    assert {doc["kind"] for doc in docs} == KINDS
    for doc in docs:
        assert doc["metadata"]["namespace"] == f"term-deposit-model-{stage}"
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)  # raises on any mismatch


def test_the_validation_catches_a_misspelt_field(projects: dict[str, Path]) -> None:
    (deployment,) = [d for d in render(projects["ghcr"], "dev") if d["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("stage", STAGES)
def test_every_overlay_passes_the_policy(projects: dict[str, Path], stage: str) -> None:
    docs = render(projects["ghcr"], stage)
    assert policy_violations(docs) == []
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    image, digest = container["image"].split("@")
    assert image == "ghcr.io/your-github-user/term-deposit-model"  # .github/image.env
    assert digest == "sha256:" + "0" * 64  # nothing promoted yet: a digest nobody can pull
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    selected = deployment["spec"]["selector"]["matchLabels"]
    for doc in docs:
        if doc["kind"] == "Service":
            assert doc["spec"]["selector"] == selected
        if doc["kind"] == "PodDisruptionBudget":
            assert doc["spec"]["selector"]["matchLabels"] == selected
        if doc["kind"] == "HorizontalPodAutoscaler":
            assert doc["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
            assert doc["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    assert selected.items() <= pods.items()
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])


def test_stages_grow_from_dev_to_prod(projects: dict[str, Path]) -> None:
    replicas = []
    for stage in STAGES:
        (deployment,) = [d for d in render(projects["ghcr"], stage) if d["kind"] == "Deployment"]
        replicas.append(deployment["spec"]["replicas"])
    assert replicas == sorted(replicas)
    assert replicas[0] < replicas[-1]


def test_the_policy_refuses_what_it_should(projects: dict[str, Path]) -> None:
    docs = render(projects["ghcr"], "prod")
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "ghcr.io/your-github-user/term-deposit-model:latest"
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["securityContext"]["allowPrivilegeEscalation"] = True
    del container["resources"]["limits"]
    del container["livenessProbe"]
    deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    found = "\n".join(policy_violations(docs))
    for expected in (
        "is not name@sha256:digest",
        "readOnlyRootFilesystem is not True",
        "allowPrivilegeEscalation is not False",
        "no limits.cpu",
        "livenessProbe does not ask /livez",
        "pod runAsNonRoot is not true",
    ):
        assert expected in found


def test_the_overlays_name_the_published_image_of_either_registry(
    projects: dict[str, Path],
) -> None:
    for registry, project in projects.items():
        env = dict(
            line.split("=", 1)
            for line in (project / ".github" / "image.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        for stage in STAGES:
            (deployment,) = [d for d in render(project, stage) if d["kind"] == "Deployment"]
            image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            assert image.split("@")[0] == f"{env['REGISTRY']}/{env['IMAGE_NAME']}", registry


def test_argo_cd_and_flux_follow_each_overlay_on_main(projects: dict[str, Path]) -> None:
    project = projects["ghcr"]
    agents = project / "deploy" / "agents"
    argo = list(yaml.safe_load_all((agents / "argocd-applications.yaml").read_text()))
    flux = list(yaml.safe_load_all((agents / "flux-kustomizations.yaml").read_text()))
    repository = "https://github.com/your-github-user/term-deposit-model.git"
    assert {a["spec"]["source"]["path"] for a in argo} == {f"deploy/overlays/{s}" for s in STAGES}
    for application in argo:
        source, stage = application["spec"]["source"], application["spec"]["source"]["path"]
        assert (source["repoURL"], source["targetRevision"]) == (repository, "main")
        assert (project / stage / "kustomization.yaml").is_file()
        namespace = application["spec"]["destination"]["namespace"]
        assert namespace == f"term-deposit-model-{stage.rsplit('/', 1)[1]}"
        automated = "automated" in application["spec"].get("syncPolicy", {})
        assert automated == (not stage.endswith("prod"))  # prod syncs when a person says so
    (source,) = [d for d in flux if d["kind"] == "GitRepository"]
    assert (source["spec"]["url"], source["spec"]["ref"]) == (repository, {"branch": "main"})
    paths = {d["spec"]["path"] for d in flux if d["kind"] == "Kustomization"}
    assert paths == {f"./deploy/overlays/{s}" for s in STAGES}
    for path in paths:
        assert (project / path / "kustomization.yaml").is_file()
