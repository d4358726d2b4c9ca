"""The generative family: a synthesizer fitted to a table, scored by its quality report.

No target is needed (one, if given, is what sampling is conditioned on and what the utility
figure predicts). Prepare splits the rows into training rows and held-out rows the generator
never sees; train fits the registry entry's :class:`~dl_core.generation.synthesizer.Synthesizer`
with live losses, a few fresh rows every few epochs and Stop; then it samples, scores the sample
with :func:`~dl_core.generation.quality.synthesis_report` and logs everything, including both row
sets, so a later generation (:mod:`dl_core.generation.generate`) is scored against the same ones.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_core.config import param, to_params, validate_fields
from dl_core.errors import DataError, TrainingError
from dl_core.training.callbacks import MetricBuffer, eta_seconds
from dl_core.training.spec import TrainingResult
from dl_core.training.trainers import Trainer, TrainingJob, register_trainer

#: The task logged for generative runs (they predict nothing).
GENERATION_TASK = "generation"
#: Artifact paths of what a generator run stores for later generations.
SYNTH_DIR = "synthesizer"
TRAIN_ROWS = "data/train.parquet"
HOLDOUT_ROWS = "data/holdout.parquet"
REPORT_FILE = "generation/report.json"
SAMPLES_FILE = "generation/samples.csv"
#: Rows in each live preview of fresh samples on the Train page.
PREVIEW_ROWS = 5
#: Figures of the report logged as metrics (None values are skipped).
REPORT_METRICS = ("quality", "column_shapes", "column_pairs", "diagnostic", "tstr_ratio",
                  "copies", "dcr_closer_to_train",
                  # image generators (dl_core.generation.image_quality)
                  "agreement", "frechet_distance", "frechet_floor", "frechet_ratio", "precision",
                  "recall", "memorisation_ratio")
#: The grid of the report sample an image generator's run stores.
GRID_FILE = "generation/grid.png"
#: The class of each of its rows, and the label column's name (the Runs page writes them beside
#: the grid).
GRID_ROWS_FILE = "generation/grid_rows.json"
#: Images per row of the live preview grid.
PREVIEW_PER_ROW = 8
_MIN_TRAIN_ROWS = 10


@dataclass(frozen=True)
class GenerativeTrainConfig:
    """How a generator is fitted and scored."""

    epochs: int = param(300, min=1, max=10000,
                        help="Passes over the training rows (ctgan: at least 16 batches each).")
    batch_size: int = param(
        500, min=2, max=65536,
        help="Rows (or images) per gradient step. The networks (tvae, ctgan, conv_vae, dcgan) "
             "cut it to a tenth of the training rows (at least 32; ctgan 100, ten pac groups) "
             "so a small table gets enough steps.")
    holdout_size: float = param(
        0.3, min=0.05, max=0.5, step=0.05, label="Held-out share",
        help="Share of rows the generator never sees; the privacy and utility figures compare "
             "synthetic rows with them.",
    )
    sample_size: int = param(
        0, min=0, max=1_000_000, label="Report sample size",
        help="Synthetic rows (or images) drawn for the report (0 = as many as the training "
             "rows).",
    )
    seed: int = param(42, min=0, max=2**31 - 1, help="Seed of the split, the fit and the sample.")

    def __post_init__(self) -> None:
        validate_fields(self)


@dataclass
class GenerativeData:
    """The rows a generator fits on and is scored against."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    #: The column sampling is conditioned on and utility predicts (None: no target).
    target: str | None
    condition_columns: tuple[str, ...]
    #: More keyword arguments of the synthesizer's fit (an image generator's ``shape``).
    fit_options: dict[str, Any] = field(default_factory=dict)


def holdout_rows(n_rows: int, holdout_size: float) -> int:
    """How many of ``n_rows`` rows :func:`split_rows` holds out (a share rounded up, as
    scikit-learn's ``train_test_split`` does); the Model page counts the training rows with it."""
    return math.ceil(holdout_size * n_rows)


def split_rows(df: pd.DataFrame, holdout_size: float, seed: int,
               target: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random split; stratified on a categorical target so rare classes are in both."""
    from sklearn.model_selection import train_test_split

    stratify = None
    if target is not None:
        counts = df[target].value_counts(dropna=False)
        if 1 < len(counts) <= 50 and counts.min() >= 2:
            stratify = df[target].astype("string").fillna("\x00missing").to_numpy(dtype=object)
    train, holdout = train_test_split(df, test_size=holdout_rows(len(df), holdout_size),
                                      random_state=seed,
                                      stratify=stratify)
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def preview_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-able records (dates as ISO text, missing as None)."""
    return json.loads(df.to_json(orient="records", date_format="iso"))


class GenerativeTrainer(Trainer):
    """Fits a synthesizer, then samples and reports fidelity, utility and privacy."""

    family = "generative"
    config_cls = GenerativeTrainConfig

    def prepare(self, job: TrainingJob) -> GenerativeData:
        from dl_core.generation.schema import is_class_column

        df, target, cfg = job.df, job.spec.target or None, job.train_cfg
        if target is not None and target not in df.columns:
            raise DataError(f"There is no column '{target}' in the table; columns: "
                            f"{', '.join(map(str, df.columns[:30]))}.")
        df = df.drop(columns=[c for c in job.spec.exclude if c in df.columns and c != target])
        n_holdout = holdout_rows(len(df), cfg.holdout_size)
        if len(df) - n_holdout < _MIN_TRAIN_ROWS or n_holdout < 2:
            raise DataError(
                f"A generator needs at least {_MIN_TRAIN_ROWS} training rows and 2 held-out "
                f"rows; the table has {len(df)} rows (held-out share {cfg.holdout_size})."
            )
        if job.spec.data_kind == "image":
            from dl_core.generation.images import ImageTable

            # Refuse a table that is not images before a run is recorded; the label (if any)
            # is what an image generator is conditioned on, whatever its dtype. The fit reads
            # the pixels in the shape checked here (the user's, when given: 4x16 is not 8x8).
            table = ImageTable.from_frame(df, target, job.spec.image_shape or None)
            train, holdout = split_rows(df, cfg.holdout_size, cfg.seed, target)
            return GenerativeData(train, holdout, target, (target,) if target else (),
                                  {"shape": table.shape})
        train, holdout = split_rows(df, cfg.holdout_size, cfg.seed, target)
        conditions = (target,) if target is not None and is_class_column(train, target) else ()
        return GenerativeData(train, holdout, target, conditions)

    def epochs(self, job: TrainingJob) -> int:
        # A one-pass synthesizer (the copula) reports one epoch, not the configured number.
        return int(job.train_cfg.epochs) if self._iterative(job) else 1

    def moot_params(self, job: TrainingJob) -> set[str]:
        # The copula's run logged "epochs 300, batch_size 500" for a fit that has neither.
        return set() if self._iterative(job) else {"epochs", "batch_size"}

    @staticmethod
    def _iterative(job: TrainingJob) -> bool:
        return getattr(job.entry.build(job.model_cfg), "iterative", True)

    def run_params(self, job: TrainingJob, data: GenerativeData) -> dict[str, Any]:
        return {"condition_columns": ",".join(data.condition_columns)}

    def run_tags(self, job: TrainingJob, data: GenerativeData) -> dict[str, Any]:
        return {"n_train": len(data.train), "n_holdout": len(data.holdout)}

    def train(self, job: TrainingJob, data: GenerativeData) -> TrainingResult:
        from dl_core import tracking

        cfg, run_id = job.train_cfg, job.run_id
        synth = job.entry.build(job.model_cfg)
        epochs = self.epochs(job)
        started = time.perf_counter()
        state = {"epoch": 0, "preview_s": 0.0}
        every = max(1, epochs // 10)
        metrics = MetricBuffer(run_id)

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            logs = {k: float(v) for k, v in logs.items()}
            state["epoch"] = epoch
            metrics.add(epoch, logs)
            elapsed = time.perf_counter() - started
            if epoch == 1:
                state["first_epoch_s"] = elapsed
            job.report({"type": "epoch", "epoch": epoch, "epochs": epochs, "logs": logs,
                        "elapsed_s": elapsed,
                        "eta_s": eta_seconds(elapsed, state.get("first_epoch_s"), epoch, epochs)})
            if epoch == 1 or epoch % every == 0:
                began = time.perf_counter()
                if is_image(synth):
                    self._preview_grid(job, synth, epoch, cfg.seed)
                    state["grid_epoch"] = epoch
                else:
                    self._preview(job, synth, epoch, cfg.seed)
                state["preview_s"] += time.perf_counter() - began

        try:
            history = synth.fit(data.train, condition_columns=data.condition_columns,
                                epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed,
                                on_epoch=on_epoch, stop=job.stop, **data.fit_options)
        except TrainingError:  # a diverged network: its epochs stay on the FAILED run
            metrics.close()
            raise
        metrics.close()
        # The Train page's previews are not the fit: fit_seconds compares with other libraries.
        fit_seconds = time.perf_counter() - started - state["preview_s"]
        status = "KILLED" if job.stop.is_set() else "FINISHED"
        epochs_run = state["epoch"]

        job.report({"type": "evaluating"})
        started = time.perf_counter()
        n = cfg.sample_size or len(data.train)
        synthetic = synth.sample(n, seed=cfg.seed)
        sample_seconds = time.perf_counter() - started
        report = score(data.train, synthetic, data.holdout, data.target, cfg.seed, synth=synth)
        job.report({"type": "samples", "epoch": epochs_run,
                    "rows": preview_rows(synthetic.head(PREVIEW_ROWS))})
        if is_image(synth) and state.get("grid_epoch") != epochs_run:  # the grid it ended with
            self._preview_grid(job, synth, epochs_run, cfg.seed)
        metrics = {**report_metrics(report), "fit_seconds": fit_seconds,
                   "sample_seconds": sample_seconds}
        tracking.log_metrics(run_id, {**metrics, "epochs_run": epochs_run})
        self.log(job, synth, data, synthetic, report, history)
        return TrainingResult(run_id, status, GENERATION_TASK, metrics, history, epochs_run)

    @staticmethod
    def _preview(job: TrainingJob, synth: Any, epoch: int, seed: int) -> None:
        # A glance at what the generator makes now; a synthesizer that cannot sample mid-fit
        # simply shows none.
        try:
            rows = synth.sample(PREVIEW_ROWS, seed=seed + epoch)
        except Exception:
            return
        job.report({"type": "samples", "epoch": epoch, "rows": preview_rows(rows)})

    @staticmethod
    def _preview_grid(job: TrainingJob, synth: Any, epoch: int, seed: int) -> None:
        # The keras-io "GAN monitor": the same noise every time, one row per class, so
        # successive grids show the generator learning.
        import base64

        from dl_core.generation.images import grid_png

        try:
            grid = synth.preview_grid(seed, per_row=PREVIEW_PER_ROW)
        except Exception:
            return
        job.report({"type": "image_grid", "epoch": epoch,
                    "png": base64.b64encode(grid_png(grid)).decode("ascii"),
                    "row_labels": synth.preview_labels()})

    @staticmethod
    def log(job: TrainingJob, synth: Any, data: GenerativeData, synthetic: pd.DataFrame,
            report: dict[str, Any], history: dict[str, list[float]]) -> None:
        """The synthesizer, both row sets, the report and the sample as the run's artifacts."""
        from dl_core import tracking
        from dl_core.export import to_safe_csv
        from dl_core.generation.synthesizer import save_synthesizer

        run_id = job.run_id
        with tempfile.TemporaryDirectory() as tmp:
            folder = save_synthesizer(synth, Path(tmp) / SYNTH_DIR, arch=job.spec.arch,
                                      config=to_params(job.model_cfg))
            log_folder(run_id, folder, SYNTH_DIR)
            rows = Path(tmp) / "data"
            rows.mkdir()
            data.train.to_parquet(rows / Path(TRAIN_ROWS).name, index=False)
            data.holdout.to_parquet(rows / Path(HOLDOUT_ROWS).name, index=False)
            tracking.log_files(run_id, sorted(rows.iterdir()), "data")
            samples = Path(tmp) / Path(SAMPLES_FILE).name
            samples.write_bytes(to_safe_csv(synthetic))
            files = [samples]
            if is_image(synth):
                files.extend(write_grid(synth.table, synthetic, Path(tmp)))
            tracking.log_files(run_id, files, str(Path(SAMPLES_FILE).parent))
        tracking.log_dict(run_id, report, REPORT_FILE)
        tracking.log_dict(run_id, history, "evaluation/history.json")  # where curves are read
        tracking.log_dict(run_id, {"target": data.target,
                                   "condition_columns": list(data.condition_columns),
                                   "columns": [str(c) for c in data.train.columns]},
                          "generation/meta.json")


def score(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
          target: str | None, seed: int, *, synth: Any = None,
          classifier_rows: pd.DataFrame | None = None) -> dict[str, Any]:
    """The quality report of ``synthetic`` by the generator's kind: an image generator's
    (:func:`~dl_core.generation.image_quality.image_report`; its reference classifier learns
    ``classifier_rows``, default ``train``), else the table report (utility only when the
    target can be predicted)."""
    if is_image(synth):
        from dl_core.generation.image_quality import image_report

        return image_report(train, synthetic, holdout, table=synth.table, seed=seed,
                            classifier_df=classifier_rows)
    from dl_core.generation.quality import synthesis_report
    from dl_core.generation.schema import condition_kinds

    # The condition columns are the categories the generator was fitted with (iris' 0/1/2).
    columns = synth.condition_columns if synth is not None else ()
    return synthesis_report(train, synthetic, holdout, target=target, seed=seed,
                            kinds=condition_kinds(train, columns))


def is_image(synth: Any) -> bool:
    """Whether ``synth`` is an image generator (scored, previewed and stored as images)."""
    from dl_core.generation.images import ImageSynthesizer

    return isinstance(synth, ImageSynthesizer)


def write_grid(table: Any, synthetic: pd.DataFrame, folder: Path) -> list[Path]:
    """Write the grid of a sample (first images of each class) as ``grid.png`` in ``folder``,
    and its rows' classes as ``grid_rows.json``."""
    from dl_core.generation.images import grid_png, sample_grid

    grid, row_labels = sample_grid(table, synthetic, PREVIEW_PER_ROW)
    path = Path(folder) / Path(GRID_FILE).name
    path.write_bytes(grid_png(grid))
    rows = Path(folder) / Path(GRID_ROWS_FILE).name
    rows.write_text(json.dumps({"row_labels": [None if c is None else str(c) for c in row_labels],
                                "label": table.label}))
    return [path, rows]


def report_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The report's headline figures, as MLflow metrics (missing ones left out)."""
    out = {}
    for key in REPORT_METRICS:
        value = report.get(key)
        if value is not None and np.isfinite(float(value)):
            out[key] = float(value)
    return out


def log_folder(run_id: str, folder: Path, artifact_path: str) -> None:
    """Log every file under ``folder`` keeping its sub-folders."""
    from dl_core import tracking

    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        parent = path.parent.relative_to(folder)
        tracking.log_files(run_id, [path],
                           artifact_path if str(parent) == "." else f"{artifact_path}/{parent}")


GENERATIVE = register_trainer(GenerativeTrainer())
