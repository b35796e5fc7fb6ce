"""Tuning progress: one line per trial with n/total, the best so far and the time left."""

from __future__ import annotations

from helpers import module

progress = module("tuning.progress")


def test_each_line_counts_trials_keeps_the_best_and_estimates_the_time_left() -> None:
    counter = progress.TrialProgress(4, "roc_auc", maximise=True, started=100.0)
    first = counter.line(0, "complete", 0.8123456789, now=110.0)
    assert first == (
        "tune: trial 1/4 (#0) complete, roc_auc 0.8123; best 0.8123 (trial 0); "
        "10 s elapsed, about 30 s left"
    )
    assert "best 0.8123 (trial 0)" in counter.line(1, "complete", 0.70, now=120.0)
    pruned = counter.line(2, "pruned", None, now=190.0)
    assert pruned == (
        "tune: trial 3/4 (#2) pruned; best 0.8123 (trial 0); 1 min 30 s elapsed, about 30 s left"
    )
    assert "best 0.9 (trial 3)" in counter.line(3, "complete", 0.9, now=200.0)


def test_a_loss_keeps_the_lowest_and_nothing_is_best_before_a_complete_trial() -> None:
    counter = progress.TrialProgress(2, "logloss", maximise=False, started=0.0)
    assert "best none yet" in counter.line(0, "fail", None, now=1.0)
    assert "best 0.25 (trial 1)" in counter.line(1, "complete", 0.25, now=2.0)


def test_values_are_shortened_for_the_log() -> None:
    assert progress.short(0.2763318203891137) == "0.2763"
    assert progress.short({"model.eta": 0.2763318203891137, "model.depth": 4}) == (
        "model.eta=0.2763, model.depth=4"
    )
    assert progress.duration(3725) == "1 h 02 min"
