"""Per-class metric names spell their class as the data config writes it."""

from __future__ import annotations

from helpers import module

classes = module("text.classes")

INCOME = {"<=50k": "<=50K", ">50k": ">50K"}
GRADES = {"class a": "Class A", "class b": "class b", "a": "A", "ab": "ab"}


def test_per_class_metric_names_take_the_written_spelling() -> None:
    text = "| recall_>50k | precision_<=50k ↓ | selection_rate_>50k | class_shares.>50k |"
    assert classes.spell_class_metrics(text, INCOME) == (
        "| recall_>50K | precision_<=50K ↓ | selection_rate_>50K | class_shares.>50K |"
    )


def test_only_whole_class_names_after_a_per_class_metric_change() -> None:
    text = "recall_class a, recall_class b, recall_ab, recall_a, f1_macro, class a, xrecall_a"
    assert classes.spell_class_metrics(text, GRADES) == (
        "recall_Class A, recall_class b, recall_ab, recall_A, f1_macro, class a, xrecall_a"
    )


def test_nothing_changes_when_classes_are_written_as_compared() -> None:
    text = "recall_setosa and precision_setosa"
    assert classes.spell_class_metrics(text, {"setosa": "setosa"}) == text
