"""Atomic outputs: all files replaced together, or none, and no temporary files left."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import module

atomic = module("artifacts.atomic")


def test_commit_replaces_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old")
    with atomic.staged_outputs() as staged:
        staged.write_text(tmp_path / "a.json", "new")
        staged.write_json(tmp_path / "sub" / "b.json", {"x": 1})
        assert (tmp_path / "a.json").read_text() == "old"
    assert (tmp_path / "a.json").read_text() == "new"
    assert (tmp_path / "sub" / "b.json").read_text() == '{\n  "x": 1\n}\n'
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.json", "sub"]


def test_failure_keeps_previous_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old")

    def failing_stage() -> None:
        with atomic.staged_outputs() as staged:
            staged.write_text(tmp_path / "a.json", "new")
            staged.write_text(tmp_path / "b.json", "new")
            raise RuntimeError("stage failed half-way")

    with pytest.raises(RuntimeError):
        failing_stage()
    assert (tmp_path / "a.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_temporary_path_keeps_the_suffix(tmp_path: Path) -> None:
    staged = atomic.StagedOutputs()
    assert staged.path(tmp_path / "model.ubj").suffix == ".ubj"
    staged.discard()
    assert list(tmp_path.iterdir()) == []


def test_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON"):
        atomic.write_json(tmp_path / "m.json", {"x": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_mode_of_an_ordinary_write(tmp_path: Path) -> None:
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    atomic.write_json(tmp_path / "staged.json", {"x": 1})
    assert (tmp_path / "staged.json").stat().st_mode & 0o777 == ordinary.stat().st_mode & 0o777
