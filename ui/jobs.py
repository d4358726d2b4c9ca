"""The live view of a background job: a fragment that polls the executor."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dl_core.evaluation import learning_curves_figure
from dl_core.jobs import JobState
from ui import state
from ui.errors import shown_errors
from ui.loaders import executor
from ui.modeling import fits_in_one_pass

STATUS_ICON = {"queued": ":material/schedule:", "running": ":material/play_circle:",
               "evaluating": ":material/calculate:", "finished": ":material/check_circle:",
               "killed": ":material/stop_circle:", "failed": ":material/error:"}

# What a user looks at first, in this order; the Evaluate page has the rest.
HEADLINE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "r2", "rmse", "mae", "mape")
# A generator's: fidelity beside privacy (never alone), utility; the Generate page has the rest.
# Named as the Generate page names them (raw keys such as dcr_closer_to_train told a newcomer
# nothing), with what each means.
GENERATOR_METRICS = {"quality": "Quality", "column_shapes": "Shapes", "column_pairs": "Pairs",
                     "copies": "Copied rows", "dcr_closer_to_train": "DCR share",
                     "tstr_ratio": "TSTR / TRTR", "fit_seconds": "Fit seconds"}
GENERATOR_HELP = {
    "quality": "Fidelity, 1 = like the real rows: the mean of Shapes and Pairs.",
    "column_shapes": "Mean over columns of 1 - KS (numbers, dates) or 1 - TVD (categories).",
    "column_pairs": "Correlation and contingency similarity of the column pairs.",
    "copies": "Synthetic rows equal to a training row in every column.",
    "dcr_closer_to_train": "Share of synthetic rows closer to the training rows than the median "
                           "held-out real row is. About 0.5: no closer than new real people; "
                           "towards 1: memorised; well below 0.5: further from them than new "
                           "real rows are (no copying, but read Shapes and Pairs: the rows may "
                           "be less realistic).",
    "tstr_ratio": "A model trained on synthetic rows, tested on real held-out rows, over one "
                  "trained on real rows (1 = as useful).",
}
# An image generator's: fidelity in a reference classifier's features beside privacy, as the
# Generate page names them.
IMAGE_GENERATOR_METRICS = {"agreement": "Agreement", "frechet_distance": "Fréchet distance",
                           "frechet_floor": "Real-vs-real floor",
                           "frechet_ratio": "Fréchet / floor", "precision": "Precision",
                           "recall": "Recall", "copies": "Copies",
                           "memorisation_ratio": "Memorisation ratio",
                           "fit_seconds": "Fit seconds"}


METRICS_PER_ROW = 4


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(seconds)
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def render_job(job: JobState) -> None:
    """Progress, ETA, live curves and the outcome of one job."""
    spec = job.spec
    generator = spec["task"] == "generation"
    images = generator and spec.get("data_kind") == "image"
    made = "images" if images else "rows"
    # An image generator's column is its label (the Model page's word), a table's its target.
    role = "label" if images else "target"
    what = (f"→ `{spec['target']}` ({spec['task']})" if not generator else f"generating {made}"
            + (f" ({role} `{spec['target']}`)" if spec["target"] else ""))
    st.markdown(f"{STATUS_ICON.get(job.status, '')} **{job.status.capitalize()}** · "
                f"`{spec['arch']}` on **{spec['dataset_name']}** {what}"
                + (f" · run `{job.run_id}`" if job.run_id else ""))
    if job.active:
        frac = job.epoch / job.epochs if job.epochs else 0.0
        label = (f"Epoch {job.epoch}/{job.epochs} · elapsed {_eta(job.elapsed_s)} · "
                 f"ETA {_eta(job.eta_s)}" + ("" if generator else " (early stopping may end sooner)"))
        scoring = (f"Sampling and scoring against the held-out {made}…" if generator
                   else "Evaluating on the test split…")
        st.progress(min(frac, 1.0), text=label if job.status == "running" else
                    scoring if job.status == "evaluating" else "Starting…")
    one_pass = generator and fits_in_one_pass(spec["arch"])
    grid_image = _grid_image(job)
    # Beside the curves, in two fifths of the page, unless there are no curves (a one-pass fit)
    # or the grid is much wider than high (a few classes of large images: a thin strip there);
    # then under them, as wide as it needs.
    beside = (grid_image is not None and not one_pass
              and grid_image.shape[1] <= WIDE_GRID * grid_image.shape[0])
    curves, grid = (st.columns([3, 2]) if beside else
                    (st.container(), st.container() if grid_image is not None else None))
    if job.history and not one_pass:  # one point "at epoch 1" is no curve
        # A stable key updates the chart in place instead of re-creating it every second.
        # Two a row in three fifths of the page beside a grid; three across the full width.
        curves.plotly_chart(learning_curves_figure(job.history, per_row=2 if beside else 3),
                            key=f"curves-{job.job_id}")
    if grid is not None:
        image_grid(grid, job, grid_image, one_pass, beside)
    if job.samples and not images:  # an image's pixel values say nothing; its grid does
        st.markdown("**Fresh samples** · " + ("from the fitted model" if one_pass else
                                                f"generated after epoch {job.samples_epoch}"))
        st.dataframe(pd.DataFrame(job.samples), hide_index=True, key=f"samples-{job.job_id}")
    if job.status == "failed":
        st.error(job.error or "Training failed.", icon=":material/error:")
    elif job.status in ("finished", "killed"):
        if job.status == "killed":
            st.warning(f"Stopped after {job.epoch} epoch(s); the model so far was evaluated and "
                       "recorded as a KILLED run.")
        names, prefix = (GENERATOR_METRICS, "") if generator else (HEADLINE_METRICS, "test ")
        labels, helps = (GENERATOR_METRICS, GENERATOR_HELP) if generator else ({}, {})
        if "frechet_distance" in job.metrics:
            from ui.generate_images import IMAGE_HELP

            names = labels = IMAGE_GENERATOR_METRICS
            helps = IMAGE_HELP
        shown = [k for k in names if k in job.metrics]
        # At most METRICS_PER_ROW a row: eight in one row cut "0.9873" to "0.9…" on a laptop.
        for start in range(0, len(shown), METRICS_PER_ROW):
            row = shown[start:start + METRICS_PER_ROW]
            for col, name in zip(st.columns(METRICS_PER_ROW), row, strict=False):
                value = job.metrics[name]
                col.metric(labels.get(name, f"{prefix}{name}"),
                           "—" if value is None else f"{value:.4g}", help=helps.get(name))
        if one_pass and job.history:  # what the fit chose, in words instead of a one-point chart
            st.caption("Fitted in one pass · " + " · ".join(
                f"{name.replace('_', ' ')} {values[-1]:.4g}" for name, values in job.history.items()
                if values and name != "epoch"))
        if generator:
            # Train read "Quality 0.890" and a draw of 1,000 on Generate "0.937": say why.
            size = int(float(spec.get("train_config", {}).get("sample_size") or 0))
            drawn = f"{size:,} {made}" if size else f"as many {made} as it trained on"
            # A newcomer read 0.37 here and 3.57 for 50 images on Generate, and took it for worse.
            sized = (" The Fréchet distance falls as more images are drawn: compare draws of "
                     "other sizes by Fréchet / floor." if images else "")
            st.caption(f"Scored on one draw of {drawn} (the Report sample size); a draw of "
                       "another size on the Generate page scores differently, and a smaller "
                       f"one moves more from draw to draw.{sized}")
            offer_to_generate(job)
            st.page_link("app_pages/generate.py", label=f"Generate {made} and read the full report",
                         icon=":material/auto_awesome:")
        else:
            st.page_link("app_pages/evaluate.py", label="See the full evaluation",
                         icon=":material/monitoring:")


def offer_to_generate(job: JobState) -> None:
    """Put a generator this session has just trained in the Generate page's picker, once (the
    picker keeps the user's choice for the session: without this, the link above led to the
    generator picked before)."""
    if job.run_id and st.session_state.get(state.GEN_RUN_OFFERED) != job.job_id:
        st.session_state[state.GEN_RUN_OFFERED] = job.job_id
        st.session_state[state.GEN_RUN] = job.run_id


def _grid_image(job: JobState):
    """The job's latest sample grid as pixels (None before the first)."""
    from dl_core.generation.image_figures import decode_png

    return decode_png(job.grid["png"]) if job.grid else None


def image_grid(where, job: JobState, image, one_pass: bool, beside: bool) -> None:
    """An image generator's latest grid from fixed noise (the same noise every time, so the
    grids show it learning), a row per class."""
    from dl_core.generation.image_figures import GRID_CHART_CONFIG, GRID_MAX_WIDTH_PX, grid_figure

    labels = job.grid.get("row_labels") or []
    rows = "one row per class" if any(v is not None for v in labels) else "fixed noise"
    if one_pass:
        where.markdown(f"**Samples from the fitted model** · {rows}")
    else:
        where.markdown(f"**Samples after epoch {job.grid['epoch']}** · {rows}, the same noise "
                       "each time")
    # Sized to its zoomed pixels (no blank bands), within the column it sits in.
    where.plotly_chart(
        grid_figure(image, labels, max_width=TRAIN_GRID_PX if beside else GRID_MAX_WIDTH_PX),
        key=f"grid-{job.job_id}", width="content", config=GRID_CHART_CONFIG)


POLL_S = 1.0
#: Most pixels wide a sample grid is drawn beside the curves (two fifths of a 1280-pixel
#: window beside the sidebar), and how much wider than high it may be to sit there.
TRAIN_GRID_PX, WIDE_GRID = 300, 1.5


def live_job(job_id: str) -> None:
    """The job's live view: polled once a second while the job is active, drawn once after
    (an ended job changes no more, so nothing reruns the page every second)."""
    active = False
    with shown_errors("Reading the job"):
        active = executor().progress(job_id).active
    st.fragment(_job_view, run_every=POLL_S if active else None)(job_id)


def _job_view(job_id: str) -> None:
    with shown_errors("Reading the job"):
        job = executor().progress(job_id)
        if job.active:
            stopping = job.stop_requested
            if st.button("Stop" if not stopping else "Stopping…", disabled=stopping,
                         key=f"stop-{job_id}", type="secondary"):
                executor().stop(job_id)
                job = executor().progress(job_id)
        render_job(job)
        if job.run_id and not job.active:
            state.put(state.RUN_ID, job.run_id)
            if st.session_state.get("_announced") != job_id:
                # One full rerun so the rest of the page sees the finished job (and this view
                # is drawn again without polling).
                st.session_state["_announced"] = job_id
                from ui.runs import refresh

                refresh()  # the Runs page shows the new run at once, not after its cache expires
                st.rerun()
