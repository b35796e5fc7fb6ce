"""The typed schema of `params.yaml` (composed from `conf/`), and its loader.

Every stage validates the whole file first, so a wrong key or value fails before any work,
with a message that names the key.
"""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import PipelineError

PARAMS_FILE = Path("params.yaml")

MetricName = Literal[
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier",
    "f1_macro", "f1_weighted", "roc_auc_ovr", "rmse", "mae", "r2", "mape",
]  # fmt: skip
Task = Literal["binary", "multiclass", "regression"]
# The metrics each task reports (per-class precision/recall of multiclass come on top).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier"),
    "multiclass": ("accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr"),
    "regression": ("rmse", "mae", "r2", "mape"),
}
# XGBoost's evaluation metrics per task; `auto` is the task's proper score (the first).
TASK_EVAL_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("logloss", "auc", "aucpr", "error"),
    "multiclass": ("mlogloss", "merror"),
    "regression": ("rmse", "mae"),
}


def normalise_category(value: str) -> str:
    """The canonical spelling of a category level: stripped and lower-cased."""
    return value.strip().lower()


def level_text(value: object) -> str:
    """A level as written in YAML or data (text, a whole number, a boolean), normalised."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_category(str(value))


def spelled_level(value: object) -> str:
    """A level as written in YAML or data, as text: stripped, its case kept."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


Level = str | int | float | bool
Role = Literal["feature", "target", "id", "timestamp", "outcome_time", "drop", "pii"]
NON_FEATURE_DTYPES = frozenset({"string", "datetime"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """Schema of one input column.

    Category levels may be spelled as in the data (any case, numbers, booleans): they are
    compared stripped and lower-cased, and kept in that canonical spelling.
    """

    dtype: Literal["int", "float", "category", "string", "datetime"]
    role: Role = "feature"
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    missing_values: list[int | float | str] = Field(default_factory=list)
    on_missing: Literal["keep", "drop_row", "fill"] = "keep"
    fill_value: int | float | str | None = None
    # Personal data (role pii): `drop` never leaves `prepare`; `hash` is replaced by a keyed
    # hash (HMAC-SHA256, data/pii.py) before anything is written.
    pii: Literal["drop", "hash"] | None = None
    # datetime columns: how values are written (strftime, e.g. '%d-%m-%Y %H:%M', ISO8601,
    # epoch_s or epoch_ms); none: pandas infers it.
    format: str | None = None

    @field_validator("categories", mode="before")
    @classmethod
    def _canonical_levels(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        spelled = [level_text(v) for v in value]
        twice = sorted({v for v in spelled if spelled.count(v) > 1})
        if twice:
            raise ValueError(
                f"'categories' lists a level twice (levels are compared stripped and "
                f"lower-cased): {twice}"
            )
        return spelled

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.dtype == "category":
            if not self.categories:
                raise ValueError("a category column needs a non-empty 'categories' list")
            if self.min is not None or self.max is not None:
                raise ValueError("'min'/'max' apply to int and float columns only")
        elif self.categories is not None:
            raise ValueError("'categories' applies to category columns only")
        if self.dtype in NON_FEATURE_DTYPES and self.role in ("feature", "target"):
            raise ValueError(
                f"dtype {self.dtype} is for id, timestamp or drop columns; a {self.role} "
                "column is int, float or category"
            )
        if self.format is not None and self.dtype != "datetime":
            raise ValueError("'format' applies to datetime columns only")
        if self.role == "timestamp" and self.dtype in ("string", "category"):
            raise ValueError(
                f"a timestamp column declared as {self.dtype} would be ordered as text; declare "
                "it `dtype: datetime` with the `format` its values are written in (e.g. "
                "format: '%d-%m-%Y'), or int/float if it is a number that orders time"
            )
        if self.role == "outcome_time" and self.dtype in ("string", "category"):
            raise ValueError(
                "role outcome_time (when the outcome became known) is compared as a time: "
                "declare it `dtype: datetime` with its `format`, or int/float"
            )
        if (self.role == "pii") != (self.pii is not None):
            raise ValueError("role pii goes with 'pii: drop' or 'pii: hash', and only it")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is above 'max' ({self.max})")
        if (self.on_missing == "fill") != (self.fill_value is not None):
            raise ValueError("'fill_value' is required with on_missing: fill, and only then")
        return self


class DataConfig(_Strict):
    """Where the raw data is, what it must look like, and the task."""

    path: str
    separator: str = ","
    thousands: str | None = None
    task: Task = "binary"
    target: str
    # binary: the class counted as positive; not used by the other tasks.
    positive_class: str | None = None
    # binary and multiclass: the target's levels (binary: negative first); regression: none.
    classes: tuple[str, ...] = ()
    # The classes spelled as `classes` is written (stripped): what answers say. `classes`
    # itself holds the compared spelling (lower-cased). Filled from `classes` when not given.
    class_labels: tuple[str, ...] = ()
    drop_columns: list[str] = Field(default_factory=list)
    min_rows: int = Field(default=100, ge=1)
    drop_duplicates: bool = True
    columns: dict[str, ColumnSpec]

    @model_validator(mode="before")
    @classmethod
    def _class_spelling(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("class_labels"):
            classes = value.get("classes")
            if isinstance(classes, (list, tuple)):
                value = {**value, "class_labels": [spelled_level(c) for c in classes]}
        return value

    @field_validator("positive_class", mode="before")
    @classmethod
    def _canonical_positive(cls, value: Any) -> Any:
        return level_text(value) if isinstance(value, (str, int, float, bool)) else value

    @field_validator("classes", mode="before")
    @classmethod
    def _canonical_classes(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [level_text(v) if isinstance(v, (str, int, float, bool)) else v for v in value]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DataConfig:
        if self.target not in self.columns:
            raise ValueError(f"the target '{self.target}' is not one of 'columns'")
        target = self.columns[self.target]
        self._check_target(target)
        if target.role not in ("feature", "target"):
            raise ValueError(f"column '{self.target}' is the target but has role {target.role}")
        others = [n for n, c in self.columns.items() if c.role == "target" and n != self.target]
        if others:
            raise ValueError(f"only data.target ('{self.target}') may have role target: {others}")
        unknown = [c for c in self.drop_columns if c not in self.columns]
        if unknown:
            raise ValueError(f"'drop_columns' names columns not in 'columns': {unknown}")
        if self.target in self.drop_columns:
            raise ValueError("'drop_columns' must not drop the target")
        if [level_text(c) for c in self.class_labels] != list(self.classes):
            raise ValueError(
                f"'class_labels' {list(self.class_labels)} must spell 'classes' "
                f"{list(self.classes)} (compared stripped and lower-cased)"
            )
        if len(self.timestamp_columns) > 1:
            raise ValueError(
                f"at most one column may have role timestamp: {self.timestamp_columns}"
            )
        outcome = [n for n, c in self.columns.items() if c.role == "outcome_time"]
        if len(outcome) > 1:
            raise ValueError(f"at most one column may have role outcome_time: {outcome}")
        kinds = {self.columns[n].dtype == "datetime" for n in [*outcome, *self.timestamp_columns]}
        if len(kinds) > 1:
            raise ValueError(
                "the outcome_time and timestamp columns are compared as times: declare both "
                "dtype: datetime, or both int/float"
            )
        return self

    def _check_target(self, target: ColumnSpec) -> None:
        if self.task == "regression":
            if self.classes or self.positive_class is not None:
                raise ValueError(
                    "task regression has no 'classes' and no 'positive_class': remove them"
                )
            if target.dtype not in ("int", "float"):
                raise ValueError(
                    f"task regression needs a numeric target: column '{self.target}' is "
                    f"{target.dtype}, not int or float (or choose task binary or multiclass)"
                )
            return
        wanted = "exactly 2" if self.task == "binary" else "at least 2"
        if len(self.classes) < 2 or (self.task == "binary" and len(self.classes) != 2):
            raise ValueError(f"task {self.task} needs {wanted} 'classes', got {list(self.classes)}")
        if target.dtype != "category" or list(target.categories or []) != list(self.classes):
            raise ValueError(
                f"column '{self.target}' (the target) must be a category column whose "
                f"categories are exactly 'classes' {list(self.classes)}"
            )
        if self.task == "binary":
            if self.positive_class is None:
                raise ValueError("task binary needs 'positive_class' (one of 'classes')")
            if self.positive_class not in self.classes:
                raise ValueError(
                    f"'positive_class' {self.positive_class!r} is not one of {list(self.classes)}"
                )
        elif self.positive_class is not None:
            raise ValueError("'positive_class' applies to task binary only: remove it")

    @property
    def feature_columns(self) -> list[str]:
        """Model inputs, in the declared order: role feature, not the target, not dropped."""
        return [
            name
            for name, column in self.columns.items()
            if column.role == "feature" and name != self.target and name not in self.drop_columns
        ]

    @property
    def label_spelling(self) -> dict[str, str]:
        """Each class (compared spelling) -> as `classes` writes it."""
        return dict(zip(self.classes, self.class_labels, strict=True))

    @property
    def id_columns(self) -> list[str]:
        """Columns that identify a record (never features)."""
        return [name for name, column in self.columns.items() if column.role == "id"]

    @property
    def pii_columns(self) -> dict[str, str]:
        """Personal-data columns and what happens to them: `drop` or `hash`."""
        return {name: str(column.pii) for name, column in self.columns.items() if column.pii}

    @property
    def hashed_columns(self) -> list[str]:
        """Personal-data columns kept under a keyed hash (so they still join and group)."""
        return [name for name, how in self.pii_columns.items() if how == "hash"]

    @property
    def outcome_time(self) -> str | None:
        """The column that says when each row's outcome became known (role outcome_time)."""
        return next((n for n, c in self.columns.items() if c.role == "outcome_time"), None)

    @property
    def timestamp_columns(self) -> list[str]:
        """The column that orders records in time, if any (a list of at most one)."""
        return [name for name, column in self.columns.items() if column.role == "timestamp"]


class SplitConfig(_Strict):
    """How prepared rows are split into train and test."""

    method: Literal["stratified", "time"]
    test_size: float = Field(gt=0, lt=1)


class ModelConfig(_Strict):
    """XGBoost hyper-parameters."""

    n_estimators: int = Field(ge=1)
    learning_rate: float = Field(gt=0, le=1)
    max_depth: int = Field(ge=1)
    min_child_weight: float = Field(ge=0)
    subsample: float = Field(gt=0, le=1)
    colsample_bytree: float = Field(gt=0, le=1)
    reg_lambda: float = Field(ge=0)
    reg_alpha: float = Field(ge=0)
    gamma: float = Field(ge=0)
    max_cat_to_onehot: int = Field(ge=1)
    tree_method: Literal["hist", "approx", "exact"]
    device: Literal["cpu", "cuda"]
    scale_pos_weight: float = Field(gt=0)


class ThresholdConfig(_Strict):
    """How the binary decision threshold is chosen (on out-of-fold predictions) or fixed."""

    method: Literal["max_f1", "cost", "fixed"] = "max_f1"
    value: float = Field(default=0.5, gt=0, lt=1)
    fp_cost: float = Field(default=1.0, gt=0)


class DaskConfig(_Strict):
    """Where `train.engine: dask` and `predict --engine dask` run."""

    address: str | None = None  # a scheduler (tcp://host:8786); null: a local cluster
    workers: int = Field(default=2, ge=1, le=1024)  # local cluster only
    threads_per_worker: int = Field(default=1, ge=1, le=256)  # local cluster only
    processes: bool = True  # local cluster: workers as processes (False: threads of this one)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    partition_rows: int = Field(default=1_000_000, ge=1)
    # dask engine: each worker streams its own batches through XGBoost's external memory
    # (memory per worker bounded by partition_rows, not by its share of the table).
    external_memory: bool = False


class TrainConfig(_Strict):
    """Cross-validation, early stopping, the decision threshold and threads."""

    cv_folds: int = Field(ge=0, le=20)
    validation_size: float = Field(gt=0, lt=1)
    early_stopping_rounds: int = Field(ge=1)
    # auto: the task's proper score (logloss, mlogloss or rmse); see TASK_EVAL_METRICS.
    eval_metric: Literal[
        "auto", "logloss", "auc", "aucpr", "error", "mlogloss", "merror", "rmse", "mae"
    ]
    threshold: ThresholdConfig = Field(default_factory=ThresholdConfig)
    n_jobs: int = Field(ge=1)
    # Training rows evaluated each round for the final fit's learning curves (DVCLive's
    # `train`): above this many, a seeded sample of this many (evaluating every row of a large
    # table each round cost more than the training; the validation curve is always whole).
    curve_rows: int = Field(default=100_000, ge=1)
    # local: this process, k-fold CV; dask: a Dask cluster, holdout (validation_size);
    # external_memory: XGBoost's external-memory matrix from Parquet batches, holdout.
    engine: Literal["local", "dask", "external_memory"] = "local"
    dask: DaskConfig = Field(default_factory=DaskConfig)


class GateRule(_Strict):
    """One absolute quality-gate rule: a metric with a lower or an upper limit."""

    metric: MetricName
    min: float | None = None
    max: float | None = None
    use: Literal["point", "ci_low", "ci_high"] = "point"

    @model_validator(mode="after")
    def _one_limit(self) -> GateRule:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of 'min' or 'max'")
        return self


class ComparisonConfig(_Strict):
    """How the pull-request report compares the working tree with a baseline git ref."""

    baseline: str = Field(default="main", min_length=1)
    metrics: list[MetricName] = Field(min_length=1)
    tolerance: float = Field(ge=0, le=1)
    reproduce_baseline: bool = True
    plots: Literal["mermaid", "images"] = "mermaid"

    @model_validator(mode="after")
    def _distinct(self) -> ComparisonConfig:
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError("'metrics' lists a metric twice")
        return self


class GateConfig(_Strict):
    """The quality gate: beat the trivial model with confidence, plus optional absolute limits.

    `beat_trivial: auto` is the task's proper score and its threshold metric (see
    `model.gate.TRIVIAL_DEFAULTS`); a list names the metrics instead; `[]` turns the rule off.
    """

    beat_trivial: Literal["auto"] | list[MetricName] = "auto"
    absolute: list[GateRule] = Field(default_factory=list)


FairnessMeasure = Literal["demographic_parity", "equalized_odds", "error_gap"]
# The fairness measures each task has (governance/fairness.py).
FAIRNESS_MEASURES = {
    "binary": ("demographic_parity", "equalized_odds", "error_gap"),
    "multiclass": ("demographic_parity", "error_gap"),
    "regression": ("error_gap",),
}


class FairnessGroup(_Strict):
    """A column whose values (or bins of values) define the groups compared."""

    column: str = Field(min_length=1)
    bins: list[float] | None = None

    @field_validator("bins")
    @classmethod
    def _increasing(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (
            len(value) < 2 or any(b <= a for a, b in itertools.pairwise(value))
        ):
            raise ValueError("'bins' needs at least two edges, strictly increasing")
        return value


class FairnessRule(_Strict):
    """A gate rule: the largest difference of a measure between two groups stays below a limit.

    `use` picks what is compared with the limit: `ci_low` (default: the rule fails only when
    the difference is above the limit with confidence), `point` or `ci_high` (stricter).
    """

    measure: FairnessMeasure
    max_difference: float = Field(gt=0)
    use: Literal["point", "ci_low", "ci_high"] = "ci_low"


class FairnessConfig(_Strict):
    """Fairness by group on the test split (reported; gated only by the rules in `gate`)."""

    groups: list[FairnessGroup] = Field(default_factory=list)
    min_group_size: int = Field(default=30, ge=1)
    gate: list[FairnessRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> FairnessConfig:
        columns = [g.column for g in self.groups]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise ValueError(f"'groups' lists a column twice: {twice}")
        return self


class AttributionsConfig(_Strict):
    """Global feature attributions (XGBoost `pred_contribs`) on the test split."""

    enabled: bool = True
    max_rows: int = Field(default=10_000, ge=100)


class EvaluateConfig(_Strict):
    """Test-set evaluation, the quality gate, and the comparison with the baseline."""

    bootstrap_resamples: int = Field(ge=100, le=100_000)
    confidence_level: float = Field(gt=0.5, lt=1)
    curve_points: int = Field(ge=10, le=10_000)
    calibration_bins: int = Field(ge=2, le=100)
    gate: GateConfig
    comparison: ComparisonConfig
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    attributions: AttributionsConfig = Field(default_factory=AttributionsConfig)


NumericDriftMethod = Literal["wasserstein", "ks", "psi", "jensenshannon", "hellinger", "kl_div"]
CategoryDriftMethod = Literal["jensenshannon", "chisquare", "psi", "hellinger", "kl_div"]


class PerformanceFloor(_Strict):
    """The lowest acceptable value of one metric on a labelled batch."""

    metric: MetricName
    min: float


class DriftConfig(_Strict):
    """Drift methods and thresholds (stage and monitor), sampling, alarm settings."""

    num_method: NumericDriftMethod
    num_threshold: float = Field(gt=0)
    cat_method: CategoryDriftMethod
    cat_threshold: float = Field(gt=0)
    drift_share: float = Field(gt=0, le=1)
    prediction_threshold: float = Field(gt=0)
    target_threshold: float = Field(gt=0)
    min_values: int = Field(ge=1)
    chance_splits: int = Field(default=20, ge=0, le=1000)
    sample_rows: int = Field(ge=0)
    incoming_dir: str
    performance: PerformanceFloor
    retrain_pr: bool

    @field_validator("sample_rows")
    @classmethod
    def _sample_is_large_enough(cls, value: int) -> int:
        if 0 < value < 1000:
            raise ValueError("give 0 (no sampling) or at least 1000 rows")
        return value


class InferenceLogConfig(_Strict):
    """Optional log of the service's inputs and outputs, in rotated local Parquet files."""

    enabled: bool = False
    directory: str = "logs/inference"
    rotate_rows: int = Field(default=10_000, ge=1)
    keep_files: int = Field(default=20, ge=1)


class ServeConfig(_Strict):
    """Limits and batching of the online service; chunking of batch scoring."""

    max_records: int = Field(ge=1, le=1_000_000)
    max_body_bytes: int = Field(ge=1024)
    max_batch_size: int = Field(ge=1)
    max_latency_ms: int = Field(ge=1)
    workers: int = Field(ge=1, le=64)
    timeout_s: int = Field(default=10, ge=1, le=3600)
    body_timeout_s: float = Field(default=5.0, gt=0, le=3600)
    max_error_details: int = Field(default=20, ge=1, le=1000)
    max_concurrency: int = Field(default=64, ge=1, le=100_000)
    drain_s: float = Field(default=3.0, ge=0, le=600)
    large_batch_threads: int = Field(default=2, ge=1, le=256)
    chunk_rows: int = Field(ge=1)
    access_log: bool = False
    tracing: bool = False
    # Speed settings (serving/performance.py); each can be turned off, answers stay the same.
    gc_tuning: bool = True
    thread_tuning: bool = True
    fast_decoding: bool = True
    direct_encoding: bool = True
    direct_predict: bool = True
    inference_log: InferenceLogConfig = Field(default_factory=InferenceLogConfig)

    @model_validator(mode="after")
    def _one_request_fits_a_batch(self) -> ServeConfig:
        if self.max_batch_size < self.max_records:
            raise ValueError(
                f"'max_batch_size' ({self.max_batch_size}) must be at least 'max_records' "
                f"({self.max_records}): a request larger than a batch cannot be served"
            )
        if self.max_latency_ms >= self.timeout_s * 1000:
            raise ValueError(
                f"'max_latency_ms' ({self.max_latency_ms}) must be below 'timeout_s' "
                f"({self.timeout_s} s): a request may wait that long for its batch"
            )
        return self


class CardConfig(_Strict):
    """What the model card says that the pipeline cannot know (conf/card/): fill it in."""

    enabled: bool = True
    model_description: str = ""
    intended_use: str = ""
    out_of_scope_use: str = ""
    limitations: list[str] = Field(default_factory=list)
    column_notes: dict[str, str] = Field(default_factory=dict)
    license: str | None = None


class RegistryConfig(_Strict):
    """The model registry in git (GTO-format tags): the model's name, stages, version bump."""

    model: str = Field(default="model", pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
    bump: Literal["major", "minor", "patch"] = "minor"
    stages: list[str] = Field(default_factory=lambda: ["dev", "staging", "prod"], min_length=1)

    @field_validator("stages")
    @classmethod
    def _stage_names(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", s)]
        if bad or len(set(value)) != len(value):
            raise ValueError(
                f"stages are distinct lower-case names (letters, digits, '-'): {value}"
            )
        return value


class Params(_Strict):
    """The whole of `params.yaml`."""

    seed: int = Field(ge=0)
    data: DataConfig
    split: SplitConfig
    model: ModelConfig
    train: TrainConfig
    evaluate: EvaluateConfig
    drift: DriftConfig
    serve: ServeConfig
    card: CardConfig = Field(default_factory=CardConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)

    @model_validator(mode="after")
    def _fairness_columns(self) -> Params:
        """Fairness groups name known, usable columns; measures fit the task."""
        for index, group in enumerate(self.evaluate.fairness.groups):
            where = f"evaluate.fairness.groups.{index}"
            column = self.data.columns.get(group.column)
            if column is None:
                raise ValueError(
                    f"{where}.column: '{group.column}' is not one of data.columns "
                    f"({sorted(self.data.columns)})"
                )
            if group.column == self.data.target:
                raise ValueError(f"{where}.column: '{group.column}' is the target")
            if self.data.pii_columns.get(group.column) == "drop":
                raise ValueError(
                    f"{where}.column: '{group.column}' is personal data dropped in prepare "
                    "(pii: drop); use pii: hash to group by it"
                )
            if column.dtype == "datetime":
                raise ValueError(f"{where}.column: '{group.column}' is a datetime column")
            if group.bins is not None and column.dtype not in ("int", "float"):
                raise ValueError(
                    f"{where}.bins: '{group.column}' is a {column.dtype} column; bins apply "
                    "to int and float columns"
                )
        allowed = FAIRNESS_MEASURES[self.data.task]
        for index, rule in enumerate(self.evaluate.fairness.gate):
            if rule.measure not in allowed:
                raise ValueError(
                    f"evaluate.fairness.gate.{index}.measure: {rule.measure} does not apply "
                    f"to task {self.data.task}; choose among {list(allowed)}"
                )
        return self

    @model_validator(mode="after")
    def _fits_the_task(self) -> Params:
        task = self.data.task
        allowed = TASK_EVAL_METRICS[task]
        if self.train.eval_metric not in ("auto", *allowed):
            raise ValueError(
                f"train.eval_metric {self.train.eval_metric!r} does not fit task {task}: "
                f"choose auto or one of {list(allowed)}"
            )
        return self

    @property
    def eval_metric(self) -> str:
        """XGBoost's early-stopping metric: the configured one, or the task's proper score."""
        chosen = self.train.eval_metric
        return TASK_EVAL_METRICS[self.data.task][0] if chosen == "auto" else chosen


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate `params.yaml`; raise `PipelineError` naming every bad key."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(
            f"{path} not found. It is composed from conf/ by `dvc exp run`; "
            "run `make params` to compose it without running the pipeline."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path} is not valid YAML: {exc}") from exc
    return parse_params(raw, source=str(path))


def parse_params(raw: Any, source: str = "params") -> Params:
    """Validate a params mapping; raise `PipelineError` naming every bad key."""
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping of settings, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise PipelineError(
            f"{source}: {len(problems)} invalid setting(s):\n  - " + "\n  - ".join(problems)
        ) from None


def _describe(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    if not key:  # a rule across settings: its message names the keys
        return error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        known = _known_keys(error["loc"][:-1])
        hint = difflib.get_close_matches(loc[-1], known, n=1)
        suggestion = f" (did you mean '{'.'.join([*loc[:-1], hint[0]])}'?)" if hint else ""
        return f"key '{key}' is not a known setting{suggestion}"
    if error["type"] == "missing":
        return f"key '{key}' is required but missing"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, (dict, list)) else f", got {got!r}"
    return f"key '{key}': {message}{shown}"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Params
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _inner_model(field.annotation) if field else None
    return list(getattr(model, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
