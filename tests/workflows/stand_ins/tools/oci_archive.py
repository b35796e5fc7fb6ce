"""OCI image archives (`oci-archive:` in skopeo, `type=oci` in buildx): a tar of an OCI image
layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as the image-spec v1.1 defines it.
Used by the docker stand-in (buildx's oci exporter) and the skopeo stand-in (`copy
oci-archive:...`)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


class ArchiveError(Exception):
    """The archive is not a valid single-image OCI archive."""


def _blob(content: bytes, media_type: str) -> tuple[dict, bytes]:
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    return {"mediaType": media_type, "digest": digest, "size": len(content)}, content


def write(path: Path, layer: bytes, labels: dict[str, str], ref_name: str) -> str:
    """Write a one-image archive whose single layer is `layer`; return the manifest digest."""
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels, "User": "bentoml"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    config, config_bytes = _blob(json.dumps(config_doc, sort_keys=True).encode(), CONFIG)
    layer_desc, layer_bytes = _blob(layer, LAYER)
    manifest_doc = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config,
                    "layers": [layer_desc]}  # fmt: skip
    manifest, manifest_bytes = _blob(json.dumps(manifest_doc, sort_keys=True).encode(), MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{**manifest, "annotations": {"org.opencontainers.image.ref.name": ref_name}}],
    }
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(index).encode(),
    }
    for desc, content in ((config, config_bytes), (layer_desc, layer_bytes),
                          (manifest, manifest_bytes)):  # fmt: skip
        files["blobs/sha256/" + desc["digest"].split(":")[1]] = content
    with tarfile.open(path, "w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return manifest["digest"]


def read_manifest_digest(path: Path) -> str:
    """The digest of the archive's one image manifest, after checking every blob's content
    against its digest (as skopeo does when it reads an image)."""
    try:
        with tarfile.open(path) as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError) as error:
        raise ArchiveError(f"reading {path}: {error}") from error
    if "index.json" not in files or "oci-layout" not in files:
        raise ArchiveError(f"{path} is not an OCI layout (no index.json / oci-layout)")
    manifests = json.loads(files["index.json"]).get("manifests", [])
    if len(manifests) != 1:
        raise ArchiveError("more than one image in oci, choose an image")

    def blob(descriptor: dict) -> bytes:
        digest = descriptor["digest"]
        content = files.get("blobs/sha256/" + digest.split(":", 1)[1])
        if content is None:
            raise ArchiveError(f"blob {digest} is missing")
        if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
            raise ArchiveError(f"Digest did not match, expected {digest}")
        return content

    manifest = json.loads(blob(manifests[0]))
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob(descriptor)
    return manifests[0]["digest"]
