"""Rejected requests are logged one line each, then at a bounded rate under a flood."""

from __future__ import annotations

import logging

import pytest

from helpers import module

rejection_log = module("serving.http.rejection_log")
RejectionError = module("serving.http.request_body").RejectionError


def test_a_flood_is_logged_at_a_bounded_rate(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    log = rejection_log.RejectionLog(lines_per_second=1, burst=3, clock=lambda: now[0])
    bad = RejectionError(400, "malformed_json", "the body is not valid JSON")
    caplog.set_level(logging.WARNING)
    for i in range(1000):
        now[0] = 100.0 + i / 1000  # 1,000 rejections in one second
        log.record(bad, f"r{i}")
    now[0] = 101.5
    log.record(RejectionError(413, "body_too_large", "too large"), "last")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 + 1 + 1
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in caplog.records)
    assert "r0" in lines[0]
    assert "malformed_json" in lines[0]
    assert lines[3].startswith("997 more rejected requests")
    assert "malformed_json 997" in lines[3]
    assert "last" in lines[4]


def test_a_long_flood_writes_about_two_lines_a_second_and_counts_every_rejection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """100 bad requests a second for a minute: the burst, then one line and one summary a
    second (the soak's log stays small however long it runs); no rejection goes uncounted."""
    now = [0.0]
    log = rejection_log.RejectionLog(lines_per_second=1, burst=10, clock=lambda: now[0])
    bad = RejectionError(400, "schema", "not a number")
    caplog.set_level(logging.WARNING)
    for i in range(6000):
        now[0] = 50.0 + i / 100
        log.record(bad, f"r{i}")
    now[0] = 200.0
    log.record(bad, "after")  # writes the last second's summary, then its own line
    lines = [r.getMessage() for r in caplog.records]
    single = [line for line in lines if line.startswith("rejected")]
    summaries = [line for line in lines if "not logged one by one" in line]
    assert len(single) == 10 + 59 + 1  # the burst, one a second after the first, "after"
    assert len(summaries) == 60  # one per second of the flood
    left_out = sum(int(line.split()[0]) for line in summaries)
    assert left_out + len(single) == 6000 + 1
