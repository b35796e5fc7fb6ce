"""Rejected requests are logged one line each, then at a bounded rate under a flood."""

from __future__ import annotations

import logging

import pytest

from helpers import module

rejection_log = module("serving.rejection_log")
RejectionError = module("serving.request_body").RejectionError


def test_a_flood_is_logged_at_a_bounded_rate(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    log = rejection_log.RejectionLog(lines_per_second=3, clock=lambda: now[0])
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
