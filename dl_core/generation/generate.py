"""Generation as an operation: sample a logged generator and record the result as its own run.

:func:`generate` loads a generator run's synthesizer, samples, scores the rows against that
run's own training and held-out rows (stored with it, so every generation of a run is judged on
the same split) and records one MLflow run of kind ``generation`` (a child of the generator run)
with the samples (CSV, formulas neutralised) and the report, so the Runs page lists and compares
generations like any run. It runs in the worker (``LocalExecutor.generate``) and from the CLI.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dl_core.errors import ConfigError, DataError

#: Most rows one generation may ask for.
MAX_ROWS = 1_000_000


def load_rows(run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and held-out rows a generator run stored.

    Raises:
        DataError: if the run stored none (not a generator run, or it failed early).
    """
    from dl_core import tracking
    from dl_core.training.generative import HOLDOUT_ROWS, TRAIN_ROWS

    frames = []
    for path in (TRAIN_ROWS, HOLDOUT_ROWS):
        data = tracking.artifact_bytes(run_id, path)
        if data is None:
            raise DataError(f"Run {run_id} has no stored {path}; pick a FINISHED or KILLED "
                            "generator run.")
        frames.append(pd.read_parquet(io.BytesIO(data)))
    return frames[0], frames[1]


def generator_run(run_id: str) -> Any:
    """The MLflow run ``run_id``, checked to be a generator's training run.

    Raises:
        TrackingError: if there is no such run.
        DataError: if it is not a generator run.
    """
    from dl_core import tracking

    run = tracking.get_run(run_id)
    tags = run.data.tags
    if tags.get("family") != "generative" or tags.get(tracking.TAG_KIND) != "training":
        raise DataError(f"Run {run_id} is not a generator's training run (arch "
                        f"{tags.get('arch')!r}); train a tvae, ctgan or copula first.")
    return run


def load_generator(run_id: str) -> Any:
    """The fitted :class:`~dl_core.generation.synthesizer.Synthesizer` a generator run logged.

    Raises:
        DataError: if the run stored none.
    """
    from dl_core import tracking
    from dl_core.backend import build_lock
    from dl_core.generation.synthesizer import load_synthesizer
    from dl_core.training.generative import SYNTH_DIR

    with tempfile.TemporaryDirectory() as tmp:
        folder = tracking.download_folder(run_id, SYNTH_DIR, Path(tmp))
        with build_lock():  # loading networks draws default seeds (a job may be seeding now)
            return load_synthesizer(folder)


def generate(run_id: str, n: int, seed: int = 0, condition: Mapping[str, Any] | None = None,
             *, counts: Mapping[Any, int] | None = None,
             record: bool = True) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sample ``n`` rows from a generator run and score them.

    Args:
        run_id: A generator's training run (``family`` generative).
        n: Rows to draw.
        seed: Seeds the draw (the report is seeded by the training run, so every draw of a
            run is scored by the same reference); the same seed gives the same rows.
        condition: ``{categorical column: value}`` every row must have (values may be text:
            ``"1"`` finds ``1``).
        counts: ``{class: images}`` of an image generator's label (instead of ``n`` drawn
            with the training mix; ``n`` must then be their total or 0).
        record: Record the generation as an MLflow run (its id is ``report["run_id"]``).

    Returns:
        The synthetic rows and the report (:func:`~dl_core.generation.quality.synthesis_report`,
        or :func:`~dl_core.generation.image_quality.image_report` for an image generator, plus ``run_id``, ``source_run_id``, ``condition``, ``n``, ``seed``, ``sample_seconds``
        and ``notes``). Under a condition the real rows are narrowed to it, so the figures
        compare like with like.

    Raises:
        ConfigError: for a bad ``n``.
        DataError: for a run that is not a generator or a condition it cannot meet.
    """
    from dl_core.training.generative import is_image, report_metrics, score

    if counts:
        if condition:
            raise ConfigError("Give per-class counts or a condition, not both.")
        total = sum(int(v) for v in counts.values())
        if int(n) not in (0, total):
            raise ConfigError(f"The per-class counts add up to {total} images, not {n}.")
        n = total
    if not 1 <= int(n) <= MAX_ROWS:
        raise ConfigError(f"The number of rows must be between 1 and {MAX_ROWS:,}; got {n}.")
    condition = {str(k): v for k, v in (condition or {}).items()}
    run = generator_run(run_id)
    train, holdout = load_rows(run_id)
    for column in condition:
        if column not in train.columns:
            raise DataError(f"There is no column '{column}' in the training table; columns: "
                            f"{', '.join(map(str, train.columns[:30]))}.")
    synth = load_generator(run_id)
    started = time.perf_counter()
    if counts:
        if not is_image(synth):
            raise DataError(f"Per-class counts are for image generators; run {run_id} "
                            f"({run.data.tags.get('arch')}) generates table rows.")
        synthetic = synth.sample_counts(counts, seed=int(seed))
    else:
        synthetic = synth.sample(int(n), seed=int(seed), condition=condition or None)
    sample_seconds = time.perf_counter() - started
    classifier_rows = train  # an image report's reference classifier knows every class

    target = run.data.tags.get("target") or None
    notes = []
    no_utility = None  # why a target's utility figure is not computed
    label = synth.table.label if counts else None
    made = "images" if is_image(synth) else "rows"
    asked = [k for k, v in (counts or {}).items() if int(v) > 0]
    if label and len(asked) < train[label].nunique():
        # Per-class counts of some classes: scored against all ten digits, 50 threes read as
        # a collapsed generator (recall 0.2).
        train, holdout, narrowed = narrow_rows(train, holdout, synthetic, {label: asked})
        if narrowed:
            notes.append(f"Real {made} narrowed to {label} = {', '.join(map(str, asked))} "
                         f"({len(train)} training, {len(holdout)} held-out) so the figures "
                         "compare like with like.")
    scored, left_out = synthetic, []
    if condition:
        train, holdout, narrowed = narrow_rows(train, holdout, synthetic, condition)
        if narrowed:
            notes.append(f"Real {made} narrowed to {_describe(condition)} ({len(train)} training, "
                         f"{len(holdout)} held-out) so the figures compare like with like.")
        else:
            notes.append(f"Too few real {made} with {_describe(condition)} to narrow to; the "
                         f"figures compare with all real {made}.")
        fixed = [c for c in condition if c in synthetic.columns]
        if narrowed and fixed and not is_image(synth):
            # One value in every row, real and synthetic: its shape scored a free 1.0 and its
            # pairs counted as related. (An image's label stays: agreement reads it.)
            train, holdout, scored = (f.drop(columns=fixed) for f in (train, holdout, synthetic))
            left_out = fixed
            notes.append(f"{', '.join(fixed)} left out of the figures: the condition fixes it "
                         "in every row.")
        note = synth.condition_note(condition)
        if note:
            notes.append(note)
        if target in condition:
            no_utility = f"the condition fixes {target} to one value, so nothing is left to predict"
            target = None
    # Scored with the training run's seed, not the draw's: the reference classifier and the
    # floor are then the ones the Train page reported, and every draw of a run is read against
    # the same yardstick.
    score_seed = int(run.data.params.get("seed", seed))
    report = score(train, scored, holdout, target, score_seed, synth=synth,
                   classifier_rows=classifier_rows)
    report.update(source_run_id=run_id, condition=condition, n=int(n), seed=int(seed),
                  counts={str(k): int(v) for k, v in counts.items()} if counts else None,
                  sample_seconds=sample_seconds, target=target, notes=notes, run_id=None,
                  no_utility=no_utility, left_out=left_out)
    if record:
        report["run_id"] = _record(run, synthetic, report, report_metrics(report),
                                   table=synth.table if is_image(synth) else None)
    return synthetic, report


def narrow_rows(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame,
                condition: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """The real rows that meet ``condition`` (and whether there were enough to narrow to)."""
    # The synthetic values are the real categories (text conditions resolved), so isin matches.
    def keep(frame):
        mask = pd.Series(True, index=frame.index)
        for column in condition:
            mask &= frame[column].isin(synthetic[column].dropna().unique()) | (
                frame[column].isna() & synthetic[column].isna().all())
        return frame[mask]

    t, h = keep(train), keep(holdout)
    if len(t) >= 2 and len(h) >= 2:
        return t.reset_index(drop=True), h.reset_index(drop=True), True
    return train, holdout, False


def _describe(condition: Mapping[str, Any]) -> str:
    return " and ".join(f"{k} = {v}" for k, v in condition.items())


def _record(source: Any, synthetic: pd.DataFrame, report: dict[str, Any],
            metrics: dict[str, float], table: Any = None) -> str:
    """One MLflow run of kind ``generation`` under the generator run (with the grid of the
    images when ``table``, an image generator's :class:`ImageTable`, is given)."""
    from dl_core import tracking
    from dl_core.export import to_safe_csv
    from dl_core.training.generative import REPORT_FILE, SAMPLES_FILE, write_grid

    tags = source.data.tags
    experiment = tracking.experiments().get(source.info.experiment_id, tags.get("dataset", "default"))
    params = {"source_run_id": source.info.run_id, "n": report["n"], "seed": report["seed"],
              "condition": _describe(report["condition"]), "arch": tags.get("arch")}
    if report.get("counts"):
        params["counts"] = ",".join(f"{k}={v}" for k, v in report["counts"].items())
    run_id = tracking.start_run(
        # The condition in the name: two "generate tvae x1000" runs told a newcomer nothing.
        experiment, run_name=f"generate {tags.get('arch')} x{report['n']}"
        + "".join(f" {k}={v}" for k, v in report["condition"].items()), params=params,
        tags={tracking.TAG_KIND: "generation", "family": "generative", "task": "generation",
              "arch": tags.get("arch"), "dataset": tags.get("dataset"),
              "target": tags.get("target", ""), "source_run": source.info.run_id,
              "data_kind": tags.get("data_kind", "tabular")},
        parent_run_id=source.info.run_id,
    )
    try:
        tracking.log_metrics(run_id, {**metrics, "rows": len(synthetic),
                                      "sample_seconds": report["sample_seconds"]})
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(SAMPLES_FILE).name
            path.write_bytes(to_safe_csv(synthetic))
            files = [path] if table is None else [path, *write_grid(table, synthetic, Path(tmp))]
            tracking.log_files(run_id, files, str(Path(SAMPLES_FILE).parent))
        tracking.log_dict(run_id, {**report, "run_id": run_id}, REPORT_FILE)
    except BaseException as exc:
        tracking.end_run(run_id, "FAILED", error=f"{type(exc).__name__}: {exc}")
        raise
    tracking.end_run(run_id, "FINISHED")
    return run_id
