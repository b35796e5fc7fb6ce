"""Progress lines of long work: n/total, share, elapsed and time left, rounded; a bar on request."""

from __future__ import annotations

import logging
import re

import pytest

from helpers import module

progress = module("text.progress")
log = logging.getLogger("progress-test")


def collected(total: int | None, steps: list[tuple[int, float]], interval_s: float = 5.0) -> list:
    lines: list[str] = []
    counter = progress.Progress("predict", total, "rows", log, interval_s, bar=False,
                                emit=lines.append, started=0.0)  # fmt: skip
    for rows, now in steps:
        counter.advance(rows, now=now)
    counter.close(now=steps[-1][1])
    return lines


def test_one_line_per_step_with_the_time_left() -> None:
    lines = collected(1_000_000, [(200_000, 2.0), (200_000, 4.0), (600_000, 12.0)], 0)
    assert lines == [
        "predict: 200,000/1,000,000 rows (20%); 2 s elapsed, about 8 s left",
        "predict: 400,000/1,000,000 rows (40%); 4 s elapsed, about 6 s left",
        "predict: 1,000,000/1,000,000 rows (100%); 12 s elapsed, about 0 s left",
    ]


def test_lines_are_spaced_by_the_interval_and_the_last_is_always_shown() -> None:
    steps = [(10, 1.0), (10, 2.0), (10, 3.0), (10, 7.0), (10, 8.0)]
    lines = collected(50, steps, interval_s=5.0)
    assert [line.split(";")[0] for line in lines] == [
        "predict: 10/50 rows (20%)",
        "predict: 40/50 rows (80%)",  # 6 s after the first
        "predict: 50/50 rows (100%)",
    ]


def test_an_unknown_total_counts_and_closes_with_the_final_count() -> None:
    lines = collected(None, [(500, 1.0), (500, 2.0), (300, 65.0)], interval_s=100.0)
    assert lines == ["predict: 500 rows; 1 s elapsed", "predict: 1,300 rows; 1 min 05 s elapsed"]


def test_no_raw_floats_in_any_line() -> None:
    lines = collected(3, [(1, 0.123456), (1, 0.7777777), (1, 1.333333)], 0)
    assert lines
    for line in lines:
        assert not re.search(r"\d\.\d{3,}", line), line


def test_a_bar_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.Progress("predict", 10, "rows", log, bar=True) as bar:
        bar.advance(10)
    assert "predict: 100%" in capsys.readouterr().err
