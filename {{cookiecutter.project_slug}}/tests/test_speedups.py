"""The performance tricks (`speedups`) change no answer: each is run on and off and compared.

Equality here is exact (`==` on floats): a trick may only skip work, never change arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from helpers import module

speedups = module("speedups")
metrics = module("model.metrics")
comparison = module("model.comparison")
fairness = module("governance.fairness")
chance = module("drift.chance")
features = module("model.features")
row_input = module("model.row_input")
compat = module("compat")
files = module("model.files")
performance = module("serving.performance")
params = module("settings.params")
request_schema = module("serving.http.request_schema")
check = module("drift.check")
config = module("settings.params")
paths = module("artifacts.paths")
prepare = module("stages.prepare")
train = module("stages.train")

RESAMPLES = 200
SEED = 7


def binary_case(rows: int = 1500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = (rng.random(rows) < 0.3).astype(np.int64)
    scores = np.clip(0.3 * labels + rng.random(rows) * 0.7, 0, 1).round(2)  # many tied scores
    groups = rng.choice(np.array(["north", "south", "east"], dtype=object), size=rows)
    return labels, scores, groups


def evaluate_like(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> tuple:
    """What the evaluate stage asks of the metrics: intervals, trivial comparisons, fairness."""
    intervals = metrics.task_intervals(
        "binary",
        labels,
        scores,
        threshold=0.5,
        classes=("no", "yes"),
        resamples=RESAMPLES,
        confidence_level=0.95,
        seed=SEED,
    )
    trivial = np.full(len(labels), labels.mean())
    compared = [
        comparison.paired_comparison(
            labels,
            scores,
            trivial,
            [metric],
            threshold=0.5,
            baseline_threshold=cut,
            resamples=RESAMPLES,
            confidence_level=0.95,
            seed=SEED,
        )
        for metric, cut in (("f1", 0.0), ("roc_auc", 0.5))
    ]
    outcomes = fairness.Outcomes(
        "binary", labels.astype(float), (scores >= 0.5).astype(float), scores, ("no", "yes")
    )
    fair = fairness.assess_columns({"region": groups}, outcomes, 30, RESAMPLES, 0.95, SEED)
    return intervals, compared, fair


def test_shared_bootstrap_gives_the_same_evaluation_from_one_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = []
    real = metrics._draw_weights

    def counted(*args: int):
        draws.append(args)
        return real(*args)

    monkeypatch.setattr(metrics, "_draw_weights", counted)
    case = binary_case()
    with speedups.disabled("shared_bootstrap"):
        plain = evaluate_like(*case)
    plain_draws = len(draws)
    draws.clear()
    fast = evaluate_like(*case)
    assert fast == plain
    assert plain_draws == 4  # intervals, two comparisons, fairness: each drew the same weights
    assert len(draws) == 1


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_shared_bootstrap_gives_the_same_intervals_for_other_tasks(task: str) -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 900)
    if task == "multiclass":
        outputs = rng.dirichlet(np.ones(3), size=900)
    else:
        labels = labels.astype(np.float64) + 1.0
        outputs = labels + rng.normal(size=900)

    def both() -> tuple:
        compute = metrics.task_values(task, labels, outputs, classes=("a", "b", "c"))
        baseline = metrics.task_values(task, labels, outputs[::-1].copy(), classes=("a", "b", "c"))
        return (
            metrics.intervals_of(compute, len(labels), RESAMPLES, 0.9, SEED),
            comparison.paired_of(
                compute,
                baseline,
                len(labels),
                ["accuracy" if task == "multiclass" else "rmse"],
                resamples=RESAMPLES,
                confidence_level=0.9,
                seed=SEED,
            ),
        )

    with speedups.disabled():
        plain = both()
    assert both() == plain


def test_shared_draws_are_read_only() -> None:
    (weights,) = list(metrics.bootstrap_weights(50, 10, seed=3))
    with pytest.raises(ValueError, match="read-only"):
        weights[0, 0] = 1.0


def floors(reference: pd.Series, current: pd.Series, kind: str, method: str) -> list[float]:
    return [chance.chance_floor(reference, current, kind, method, 20, seed) for seed in (0, 1, 2)]


def numeric_sides(rows: int, seed: int) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    values = pd.Series(rng.normal(size=rows).round(1))  # ties
    values[rng.random(rows) < 0.05] = np.nan
    return values[: rows * 3 // 4], pd.Series(rng.integers(-2, 3, rows // 3)).astype("Int64")


def category_sides(rows: int, seed: int) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    names = np.array([f"value {i}" for i in range(40)] + ["rare"], dtype=object)
    weights = np.r_[np.full(40, 0.999 / 40), 0.001]
    reference = pd.Series(rng.choice(names, size=rows, p=weights))
    reference[rng.random(rows) < 0.05] = None
    current = pd.Series(rng.choice(names[:30], size=rows // 4)).astype("category")
    return reference, current


@pytest.mark.parametrize("rows", [60, 700, 5000])
def test_counted_chance_floor_equals_evidentlys_scores(rows: int) -> None:
    ref, cur = numeric_sides(rows, rows)
    with speedups.disabled("counted_chance_floor"):
        plain_numeric = floors(ref, cur, "numeric", "wasserstein")
    fast_numeric = floors(ref, cur, "numeric", "wasserstein")
    ref_c, cur_c = category_sides(rows, rows)
    with speedups.disabled("counted_chance_floor"):
        plain_category = floors(ref_c, cur_c, "category", "jensenshannon")
    fast_category = floors(ref_c, cur_c, "category", "jensenshannon")
    # Equal up to the last bits: numpy's pairwise sums may round differently with the data's
    # memory alignment, so the same arithmetic can differ by an ulp between two processes.
    assert fast_numeric == pytest.approx(plain_numeric, rel=1e-12, abs=0)
    assert fast_category == pytest.approx(plain_category, rel=1e-12, abs=0)
    assert min(plain_numeric + plain_category) > 0  # the floors compared are real scores


MARKER = 999
SERVICE_SPEC = features.FeatureSpec(
    features=(
        features.Feature("amount", "numeric", missing_values=(MARKER, -1.5, "n/a")),
        features.Feature("colour", "category", ("red", "green", "blue"), ("unknown",)),
        features.Feature("count", "numeric"),
    ),
    target="bought",
    classes=("no", "yes"),
    positive_class="yes",
)


def plain_matrix(rows: list[tuple]) -> np.ndarray:
    return features.preprocess(request_schema.records_columns(rows, SERVICE_SPEC), SERVICE_SPEC)


def same_bits(left: np.ndarray, right: np.ndarray) -> bool:
    return left.shape == right.shape and left.tobytes() == right.tobytes()


def test_row_input_gives_preprocess_matrix_bit_for_bit() -> None:
    build = row_input.RowInput(SERVICE_SPEC)
    rows = [
        (12.5, "red", 3),
        (MARKER, "unknown", None),  # markers and null: missing
        (-1.5, None, 2**60 + 1),  # an integer float32 must round
        (None, "blue", float("nan")),
        (0.1 + 0.2, "green", -0.0),  # floats float32 rounds
        (3.4028234e38, "red", 16777217),  # the float32 maximum; 2**24 + 1
        (1e-46, "red", 7, "id-1"),  # beyond float32's smallest; an id value after the features
    ]
    for part in (rows[:1], rows, rows[2:5]):
        fast = build.matrix(part)
        assert fast is not None
        assert same_bits(fast, plain_matrix(part))
    assert np.isnan(build.matrix(rows[1:2])).all()


@pytest.mark.parametrize(
    "rows",
    [
        [(True, "red", 1)],  # a bool: preprocess's rules
        [("12", "red", 1)],  # text in a numeric column
        [(1.0, "  RED ", 1)],  # another spelling: preprocess normalises it
        [(1.0, "purple", 1)],  # an unseen level: preprocess makes it missing
        [(1e39, "red", 1)],  # beyond float32: preprocess names it
        [(10**400, "red", 1)],  # beyond float64
        [(1.0, "red")],  # too short
        [{"amount": 1.0, "colour": "red", "count": 1}],  # a dict: preprocess's path
        [(1.0, "red", 1)] * (row_input.MAX_ROWS + 1),  # too many rows to be worth it
        [],
    ],
)
def test_row_input_hands_anything_else_to_preprocess(rows: list) -> None:
    assert row_input.RowInput(SERVICE_SPEC).matrix(rows) is None


def tiny_booster(task: str) -> xgb.Booster:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(300, 3)).astype(np.float32)
    matrix[:, 1] = rng.integers(0, 3, 300)
    matrix[rng.random((300, 3)) < 0.1] = np.nan
    labels = {
        "binary": rng.integers(0, 2, 300),
        "multiclass": rng.integers(0, 3, 300),
        "regression": rng.normal(size=300),
    }[task]
    objective = {"binary": "binary:logistic", "multiclass": "multi:softprob"}
    config = {"objective": objective.get(task, "reg:squarederror"), "max_depth": 3}
    if task == "multiclass":
        config["num_class"] = 3
    data = xgb.DMatrix(matrix, labels, feature_types=["q", "c", "q"], enable_categorical=True)
    return xgb.train(config, data, num_boost_round=8)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_lean_predict_gives_inplace_predicts_values(task: str) -> None:
    booster = tiny_booster(task)
    predict = compat.DensePredictor(booster)
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(50, 3)).astype(np.float32)
    matrix[:, 1] = rng.integers(0, 4, 50)  # 3: a level the model never saw
    matrix[::7] = np.nan
    for rows in (matrix[:1], matrix[:7], matrix):
        plain = np.asarray(booster.inplace_predict(rows), dtype=np.float64)
        assert same_bits(predict(rows), plain)
    assert predict(matrix).shape == ((50, 3) if task == "multiclass" else (50,))
    with pytest.raises(ValueError, match="C-contiguous 2-d float32"):
        predict(matrix.astype(np.float64))


def test_service_outputs_are_the_same_with_the_small_request_speedups_off() -> None:
    booster = tiny_booster("binary")
    model = files.LoadedModel(booster, SERVICE_SPEC, {})
    serve = params.ServeConfig(
        max_records=100, max_body_bytes=4096, max_batch_size=100, max_latency_ms=5, workers=1,
        chunk_rows=100,
    )  # fmt: skip
    models = performance.scoring_models(model, serve)
    requests = [
        [(1.5, "red", 2)],
        [(None, "blue", 0), (MARKER, "unknown", 5)],
        [(2.0, "  RED ", 1)],  # preprocess's path in both modes
        [(1.5, "red", 2), (None, "green", 1)] * 600,  # the large model's (1,200 records)
    ]
    for rows in requests:
        fast = models.outputs(rows)
        with speedups.disabled("row_input", "lean_predict"):
            plain = models.outputs(rows)
        with speedups.disabled("lean_predict"):
            half = models.outputs(rows)
        assert same_bits(fast, plain)
        assert same_bits(half, plain)
        assert fast.dtype == np.float64
        assert fast.shape == (len(rows),)


def test_verdicts_before_report_give_the_summary_of_evidentlys_report(workspace) -> None:
    workspace()
    params = config.load_params()
    prepare.prepare(params)
    train.train(params, log_with_dvclive=False)
    model = files.load_model()
    reference, current = pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)
    numeric = [f.name for f in model.spec.features if f.kind == "numeric"]
    # One column moved by three standard deviations, another with a tenth of its values missing.
    moved, holed = numeric[0], numeric[-1]
    current[moved] = current[moved].astype("float64") + 3 * reference[moved].std()
    current.loc[current.index[: len(current) // 10], holed] = None
    drifted = set()
    for methods in ({}, {"num_method": "ks", "cat_method": "psi"}):
        settings = params.drift.model_copy(update={"chance_splits": 3, **methods})
        quick = check.run_check(reference, current, model, settings, params.seed)
        assert quick.built is None  # no report until the HTML is asked for
        with speedups.disabled("verdicts_before_report"):
            plain = check.run_check(reference, current, model, settings, params.seed)
        assert quick.summary == plain.summary
        # The report built afterwards for the HTML says the same as the summary.
        reported = check._column_results(quick.snapshot.dict(), check._column_kinds(model))
        assert {name: reported[name] for name in quick.summary["per_column"]} == (
            quick.summary["per_column"]
        )
        drifted |= {n for n, r in quick.summary["per_column"].items() if r["drifted"]}
    # A caller that writes the HTML gets the report at once, and its verdicts.
    reported = check.run_check(reference, current, model, settings, params.seed, with_report=True)
    assert reported.built is not None
    assert reported.summary == quick.summary
    assert moved in drifted  # verdicts both ways were compared
    assert set(numeric) - drifted


def test_speedups_switch_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEEDUPS", "off:counted_chance_floor")
    assert speedups.enabled("shared_bootstrap")
    assert not speedups.enabled("counted_chance_floor")
    monkeypatch.setenv("SPEEDUPS", "off")
    assert not speedups.enabled("shared_bootstrap")
    monkeypatch.setenv("SPEEDUPS", "fast")
    with pytest.raises(ValueError, match="SPEEDUPS='fast': expected 'on', 'off'"):
        speedups.enabled("shared_bootstrap")
    monkeypatch.delenv("SPEEDUPS")
    with pytest.raises(ValueError, match="unknown speed-up 'warp'"):
        speedups.enabled("warp")
