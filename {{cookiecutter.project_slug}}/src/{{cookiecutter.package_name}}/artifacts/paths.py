"""Where each stage writes its outputs (the same paths as in dvc.yaml; a test checks).

Also the names inside the packaged model (`BENTO_MODEL`), defined once for the package stage,
the service and the bento build.
"""

from pathlib import Path

from .. import PACKAGE

PREPARED_DIR = Path("data/prepared")
TRAIN_DATA = PREPARED_DIR / "train.parquet"
TEST_DATA = PREPARED_DIR / "test.parquet"
DATA_REPORT = Path("reports/data.json")

MODEL_DIR = Path("models")
MODEL_FILE = MODEL_DIR / "model.ubj"
METADATA_FILE = MODEL_DIR / "metadata.json"
TRAIN_METRICS = Path("metrics/train.json")
DVCLIVE_DIR = Path("dvclive/train")

EVALUATE_METRICS = Path("metrics/evaluate.json")
GATE_FILE = Path("reports/gate.json")
TEST_PREDICTIONS = Path("reports/test_predictions.parquet")
PLOTS_DIR = Path("plots")
FAIRNESS_REPORT = Path("reports/fairness.json")
ATTRIBUTIONS_REPORT = Path("reports/attributions.json")
MODEL_CARD = Path("reports/model_card.md")
MODEL_CARD_JSON = Path("reports/model_card.json")

DRIFT_METRICS = Path("metrics/drift.json")  # the headline figures that `dvc metrics` compares
DRIFT_REPORT = Path("reports/drift.json")  # the whole summary, per column
DRIFT_MARKDOWN = Path("reports/drift.md")
DRIFT_HTML = Path("reports/drift.html")
MONITOR_DIR = Path("reports/monitor")
BENTO_MODEL = MODEL_DIR / "service.bentomodel"
# Inside BENTO_MODEL: the BentoML model's name, and the service's settings file beside
# MODEL_FILE, METADATA_FILE, MODEL_CARD and MODEL_CARD_JSON (by file name).
MODEL_NAME = PACKAGE
SERVICE_INFO = "service.json"
