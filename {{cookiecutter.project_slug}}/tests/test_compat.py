"""The one module that uses other libraries' private APIs: versions in range, and each use right."""

from __future__ import annotations

import math
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from helpers import module

compat = module("compat")


def test_installed_versions_are_the_checked_ones() -> None:
    outside = compat.outside_checked_versions()
    assert not outside, (
        f"installed outside the versions compat.py was checked against: {outside}; check each "
        "private API use in compat.py against the new version, then widen CHECKED"
    )


def test_every_checked_library_is_installed() -> None:
    for name in compat.CHECKED:
        assert compat.installed_version(name), name


@pytest.mark.parametrize(
    ("installed", "inside"),
    [("1.4.40", True), ("1.4.99", True), ("1.5.0", False), ("1.4.39", False), ("2.0", False)],
)
def test_range_check_compares_release_numbers(monkeypatch, installed: str, inside: bool) -> None:
    monkeypatch.setattr(compat, "CHECKED", {"bentoml": ("1.4.40", "1.5")})
    monkeypatch.setattr(compat.metadata, "version", lambda name: installed)
    assert (compat.outside_checked_versions() == []) is inside


def test_a_library_with_two_distributions_is_found_under_either(monkeypatch) -> None:
    installed = {"xgboost": "3.2.0"}

    def version(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(compat.metadata, "version", version)
    assert compat.installed_version("xgboost-cpu|xgboost") == "3.2.0"
    assert compat.installed_version("xgboost-cpu") is None
    monkeypatch.setattr(compat, "CHECKED", {"xgboost-cpu|xgboost": ("3.0", "3.2")})
    assert compat.outside_checked_versions() == [
        "xgboost-cpu|xgboost 3.2.0 (checked: 3.0 to below 3.2)"
    ]


def test_temporary_model_store_is_not_the_users(tmp_path, monkeypatch) -> None:
    import bentoml

    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "home"))
    store = compat.temporary_bentoml_model_store(tmp_path / "store")
    with bentoml.models.create("scratch:v1", _model_store=store) as model:
        (Path(model.path) / "file.txt").write_text("x")
    assert list((tmp_path / "store").rglob("file.txt"))
    assert not list((tmp_path / "home").rglob("file.txt"))


def test_file_only_dvclive_writes_where_told_without_a_repository(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    live = compat.file_only_dvclive(tmp_path / "live")
    live.log_metric("loss", 0.5)
    live.next_step()
    live.end()
    assert (tmp_path / "live" / "metrics.json").is_file()


def test_observing_many_scores_equals_observing_them_one_by_one() -> None:
    from prometheus_client import CollectorRegistry, Histogram

    scores = np.concatenate([np.random.default_rng(1).random(500), [0.0, 0.05, 0.95, 1.0]])
    bounds = [i / 20 for i in range(1, 20)]
    samples = []
    for bulk in (True, False):
        registry = CollectorRegistry()
        histogram = Histogram("score", "test", buckets=bounds, registry=registry)
        if bulk:
            compat.observe_histogram_many(histogram, scores)
        else:
            for score in scores.tolist():
                histogram.observe(score)
        buckets = [
            registry.get_sample_value("score_bucket", {"le": str(b)}) for b in [*bounds, "+Inf"]
        ]
        samples.append((buckets, registry.get_sample_value("score_sum")))
    (bulk_buckets, bulk_sum), (single_buckets, single_sum) = samples
    assert bulk_buckets == single_buckets
    assert bulk_buckets[0] == np.sum(scores <= 0.05)
    assert bulk_buckets[-1] == len(scores)
    assert math.isclose(bulk_sum, single_sum, rel_tol=1e-12)
