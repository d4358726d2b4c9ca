"""Generate-page helpers: pick a generator run, ask the worker for rows, show the report.

Fidelity is never shown alone: a generator that copies its training rows scores perfect
fidelity, so the privacy figures sit beside it, with utility when the run has a target.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dl_core import compare
from dl_core.generation import figures
from dl_core.generation.generate import load_rows, narrow_rows
from ui import state
from ui.errors import shown_errors
from ui.forms import config_widgets, to_config
from ui.jobs import GENERATOR_HELP
from ui.loaders import executor
from ui.runs import refresh, run_label

NONE = "(none)"
RESULT = "generation_result"  # session key: the latest generation of this session


def generator_settings(entry: Any, df: pd.DataFrame) -> None:
    """The Model page for a generator: its target (optional), its and the fit's options."""
    import dataclasses

    from dl_core.training.generative import GenerativeTrainConfig, holdout_rows
    from ui.modeling import generator_target

    columns = [NONE, *map(str, df.columns)]
    current = generator_target()
    images = state.get(state.DATA_KIND) == "image" and "image" in entry.kinds
    noun = "images" if images else "rows"
    target = st.selectbox(
        "Label (optional)" if images else "Target (optional)", columns, key="gen_target_choice",
        index=columns.index(current) if current in columns else 0,
        help="The generator learns each class and can be asked for images of one (more of a "
             "rare class); the report checks that a classifier reads them as that class. "
             "(none): unlabelled images." if images else
             "Sampling can be conditioned on it (\"rows where churn = Yes\") and the report "
             "measures how well a model trained on synthetic rows predicts it. (none): neither.")
    values = state.get(state.MODEL_CONFIG) if state.get(state.ARCH) == entry.name else {}
    synth = entry.build(entry.config_cls())
    # A one-pass synthesizer (the copula) has no epochs or batches: not offered, values kept.
    one_pass = not getattr(synth, "iterative", True)
    moot = {"epochs", "batch_size"} if one_pass else set()
    current = state.get(state.GEN_TRAIN_CONFIG)
    left, right = st.columns(2)
    with left:
        st.markdown("**Generator**")
        raw_model = config_widgets(entry.config_cls, values, key=f"model.{entry.name}")
    with right:
        st.markdown("**Training**")
        if one_pass:
            st.caption("Fits in one pass over the training rows: no epochs or batches.")
        raw_train = config_widgets(GenerativeTrainConfig, current, key="gen_train", skip=moot)
        raw_train.update({k: current[k] for k in moot if k in current})
    with shown_errors("Checking the hyperparameters"):
        model_cfg = to_config(entry.config_cls, raw_model)
        train_cfg = to_config(GenerativeTrainConfig, raw_train)
        state.put(state.ARCH, entry.name)
        state.put(state.MODEL_CONFIG, dataclasses.asdict(model_cfg))
        state.put(state.GEN_TRAIN_CONFIG, dataclasses.asdict(train_cfg))
        state.put(state.GEN_TARGET, "" if target == NONE else target)
        held = holdout_rows(len(df), train_cfg.holdout_size)
        n_train = len(df) - held
        st.markdown(f"**Generator** · learns from {n_train:,} {noun}; {held:,} held-out {noun} "
                    f"({train_cfg.holdout_size:.0%}) are never seen and anchor the privacy "
                    + ("figures" if images else "and utility figures") + " · "
                    + target_role(df, target, images))
        st.caption("A generator splits the rows in two, not into the Data page's training, "
                   "validation and test rows: nothing is chosen on held-out rows, so it needs "
                   "no validation split. Set the held-out share under Training.")
        plan = fit_plan_note(synth, n_train, train_cfg.batch_size, noun)
        if plan:  # under the batch size it explains
            right.caption(plan)
        st.page_link("app_pages/train.py", label="Next: train", icon=":material/arrow_forward:")


def target_role(df: pd.DataFrame, target: str, images: bool) -> str:
    """What the generator does with its target: condition on its classes, or (numbers) only
    predict it for the utility figure."""
    if target == NONE:
        return "no label" if images else "no target"
    if _conditions_on(df, target, images):
        return f"conditioned on `{target}`"
    return (f"`{target}` is a number, not classes: predicted for the utility figure, not a "
            "condition")


def generator_target_note(target: str | None, images: bool) -> str:
    """The Train page's words on the generator's target, after "rows" or "images"."""
    from ui.data import current_table

    if not target:
        return ""
    if _conditions_on(current_table(), target, images):
        return f" conditioned on `{target}`"
    return f" (`{target}` is predicted for the utility figure, not a condition)"


def _conditions_on(df: pd.DataFrame, target: str, images: bool) -> bool:
    """Whether a generator is conditioned on ``target``: an image label always, a table's
    target when it holds classes (iris' 0/1/2 does, a price does not)."""
    from dl_core.generation.schema import is_class_column

    return images or is_class_column(df, target)


def fit_plan_note(synth: Any, n_train: int, batch_size: int, noun: str = "rows") -> str:
    """The batch and steps an epoch a generator network really fits with on ``n_train``
    training rows (its own ``fit_plan``: a small table or image set gets a batch cut to a
    tenth of it, and enough steps), or "" for a generator without batches."""
    if not hasattr(synth, "fit_plan"):
        return ""
    batch, steps = synth.fit_plan(n_train, batch_size)
    # "Not the 500 asked" read as if the user had typed the 500: it is the default, capped.
    why = ("the batch size set" if batch >= batch_size else
           f"the batch size {batch_size:,} capped at a tenth of the {noun}, at least "
           f"{synth.MIN_BATCH}")
    least = synth.MIN_STEPS_PER_EPOCH
    repeat = f" (at least {least}: the {noun} repeat)" if least and steps > n_train // batch \
        else ""
    return (f"On these {n_train:,} {noun} the network trains at batch {batch:,} ({why}) and "
            f"{steps:,} steps an epoch{repeat}.")


def used_batch(arch: str, rows: int, train_cfg: dict[str, Any]) -> int | None:
    """The batch a generator network really fits in on ``rows`` rows (its own cut to a tenth
    of the training rows), or None for one without batches."""
    from dl_core.models import get_model
    from dl_core.training.generative import holdout_rows

    entry = get_model(arch)
    synth = entry.build(entry.config_cls())
    asked = train_cfg.get("batch_size")
    if not hasattr(synth, "fit_plan") or not asked:
        return None
    held = holdout_rows(rows, float(train_cfg.get("holdout_size", 0.3)))
    return synth.fit_plan(rows - held, int(asked))[0]


def generator_runs(df: pd.DataFrame) -> pd.DataFrame:
    """Finished (or stopped) generator training runs, newest first."""
    if "tags.family" not in df:
        return df.iloc[0:0]
    runs = compare.filter_runs(df, kinds=["training"], statuses=["FINISHED", "KILLED"])
    return runs[runs["tags.family"] == "generative"]


def choose_generator(df: pd.DataFrame) -> str | None:
    """A generator run picked by the user (the latest first), or None when there is none."""
    runs = generator_runs(df)
    if runs.empty:
        st.info("No generator has been trained yet: on the Model page pick a generator (for "
                "tables tvae, ctgan or copula; for images conv_vae or dcgan), then train it.")
        st.page_link("app_pages/model.py", label="Go to Model", icon=":material/account_tree:")
        return None
    labels = {row["run_id"]: run_label(row) for _, row in runs.iterrows()}
    # Kept for the session (a visit to Runs reset it, and the condition asked with it); a
    # generator trained since is put in it by the Train page (ui.jobs.offer_to_generate).
    return st.selectbox("Generator run", list(labels), format_func=labels.get, key=state.GEN_RUN,
                        persist_state=state.KEEP)


@st.cache_data(max_entries=8, show_spinner="Reading the generator's rows…")
def real_rows(run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and held-out rows the run stored (read from MLflow, never modified)."""
    return load_rows(run_id)


@st.cache_data(max_entries=8, show_spinner=False)
def condition_choices(run_id: str, fitted: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The categorical columns of the run's training rows and their values (as text); the
    ``fitted`` condition columns count as categorical whatever their dtype, as in the fit."""
    from dl_core.generation.schema import DISCRETE, TableSchema, condition_kinds

    train, _ = real_rows(run_id)
    schema = TableSchema(kinds=condition_kinds(train, fitted)).fit(train)
    return {str(s.name): [str(c) for c in s.categories if c is not None]
            for s in schema.modelled if s.role == DISCRETE and len(s.categories) > 1}


def fitted_conditions(run: pd.Series) -> tuple[str, ...]:
    """The condition columns a generator run was fitted with (its logged parameter)."""
    value = run.get("params.condition_columns")
    return tuple(c for c in value.split(",") if c) if isinstance(value, str) else ()


def condition_widgets(run: pd.Series, target: str | None) -> dict[str, str]:
    """An optional ``{column: value}`` condition from the training categories; none by default
    (rows like the training mix), the run's target listed first."""
    choices = condition_choices(run["run_id"], fitted_conditions(run))
    columns = [NONE, *sorted(choices, key=lambda c: c != target)]
    left, right = st.columns(2)
    column = left.selectbox("Condition column (optional)", columns, key="gen_cond_col",
                            help="Generate only rows where this categorical column has one value; "
                                 "(none) keeps the training mix.", persist_state=state.KEEP)
    if column == NONE:
        return {}
    value = right.selectbox("Value", choices[column], key=f"gen_cond_val_{column}",
                            persist_state=state.KEEP)
    return {column: value}


def run_generation(run_id: str, n: int, seed: int, condition: dict[str, str]) -> None:
    """Generate in the worker; keep the rows and report for this session (raises DataError)."""
    with st.spinner(f"Generating {n:,} rows and scoring them…"):
        rows, report = executor().generate(run_id, int(n), seed=int(seed), condition=condition)
    st.session_state[RESULT] = {"source": run_id, "rows": rows, "report": report}
    refresh()  # the Runs page lists the new generation at once


def last_result(run_id: str) -> dict[str, Any] | None:
    result = st.session_state.get(RESULT)
    return result if result and result["source"] == run_id else None


def _fmt(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def headline(report: dict[str, Any]) -> None:
    """Fidelity, privacy and utility side by side (never fidelity alone)."""
    privacy, utility = report["privacy"], report.get("utility")
    fid, priv, util = st.columns([4, 3, 2])
    with fid:
        st.markdown("**Fidelity** · 1 = like the real rows")
        # Two a row: four in this third of the page cut "0.845" to "0.…" on a laptop screen.
        c = [*st.columns(2), *st.columns(2)]
        c[0].metric("Quality", _fmt(report["quality"]))
        c[1].metric("Shapes", _fmt(report["column_shapes"]),
                    help="Column shapes: mean over columns of 1 - KS (numbers, dates) or "
                         "1 - TVD (categories).")
        c[2].metric("Pairs", _fmt(report["column_pairs"]),
                    help="Column pairs: correlation and contingency similarity of the pairs "
                         "related in the real rows (— when none is).")
        c[3].metric("Diagnostic", _fmt(report["diagnostic"]),
                    help="Share of values inside the real ranges and category sets.")
    with priv:
        st.markdown("**Privacy** · copies and closeness to training rows")
        c = st.columns(2)
        c[0].metric("Copied rows", f"{report['copies']:,}", help=GENERATOR_HELP["copies"])
        c[1].metric("DCR share", _fmt(report["dcr_closer_to_train"], 2),
                    help=GENERATOR_HELP["dcr_closer_to_train"])
    with util:
        st.markdown("**Utility** · train synthetic, test real")
        if utility:
            st.metric(f"TSTR / TRTR ({utility.get('metric', 'score')})",
                      _fmt(report["tstr_ratio"], 2),
                      help=f"A model trained on synthetic rows scores {_fmt(utility.get('tstr'))}"
                           f" on real held-out rows; trained on real rows, "
                           f"{_fmt(utility.get('trtr'))}.")
        else:
            why = report.get("no_utility")
            st.caption(f"No utility figure: {why}." if why else
                       "No target to predict for this generation.")
    share = privacy.get("holdout_copies_share")
    n = report.get("n_synthetic")
    # Copies are a count above; the baseline is a share, so the synthetic share goes beside it.
    copied = f" (synthetic rows: {_fmt(report['copies'] / n, 3)})" if n else ""
    st.caption(f"Privacy baseline: {_fmt(share, 3)} of real held-out rows equal a training "
               f"row{copied}; "
               f"median distance to the closest training row: synthetic "
               f"{_fmt(privacy['dcr_synthetic_median'])}, held-out real "
               f"{_fmt(privacy['dcr_holdout_median'])}.")
    held = report.get("n_holdout", 0)
    # Five rows scored "Quality 0.646" with nothing to say that five rows judge nothing.
    few = (f" {n:,} synthetic rows are fewer than the {held:,} held-out ones: these figures "
           f"move a lot from one draw to the next; draw at least {held:,} to judge or compare "
           "generators." if n and n < held else "")
    st.caption(f"Scored on {n or 0:,} synthetic rows against {report.get('n_train', 0):,} "
               f"training and {held:,} held-out real rows (never seen by the generator).{few}")


def details(report: dict[str, Any], rows: pd.DataFrame, run_id: str) -> None:
    """Per-column overlays, shape and pair scores, and both correlation heatmaps."""
    train, holdout = real_rows(run_id)
    if report.get("condition"):
        train, _, _ = narrow_rows(train, holdout, rows, report["condition"])
    # A condition's column, one value in every row: left out here as in the report's figures.
    fixed = report.get("left_out") or []
    train, rows = train.drop(columns=fixed), rows.drop(columns=fixed)
    columns = figures.overlay_columns(train)
    column = st.selectbox("Column", columns, key="gen_overlay_col")
    st.plotly_chart(figures.column_overlay(train, rows, column), key="gen_overlay")
    left, right = st.columns(2)
    left.plotly_chart(figures.column_shapes_figure(report), key="gen_shapes")
    right.markdown("**Column pairs** · *counted*: the two columns are related in the real rows, "
                   "so the pair counts towards Pairs")
    right.dataframe(figures.column_pairs_table(report), hide_index=True, height=300,
                    key="gen_pairs")
    heatmaps = figures.correlation_heatmaps(train, rows)
    if heatmaps:
        # Side by side while their cells are readable there; one under the other past that.
        wide = len(heatmaps[0].data[0].x) > figures.MAX_LABELLED_CELLS
        places = [st.container(), st.container()] if wide else st.columns(2)
        for col, fig, key in zip(places, heatmaps, ("gen_corr_real", "gen_corr_synth"),
                                 strict=True):
            col.plotly_chart(fig, key=key)


def generation_summary(run_id: str) -> None:
    """A generator's or a generation's run on the Runs page: its curves and report figures."""
    from dl_core import evaluation as ev
    from dl_core import tracking
    from dl_core.training.generative import REPORT_FILE

    history = tracking.load_json(run_id, "evaluation/history.json")
    if history:
        st.plotly_chart(ev.learning_curves_figure(history), key=f"detail_curves_{run_id}")
    report = tracking.load_json(run_id, REPORT_FILE)
    if not report:
        st.info("This run has no logged report (it may have failed before sampling).")
        return
    if report.get("kind") == "image":
        from ui.generate_images import image_headline, logged_grid

        logged_grid(run_id)
        image_headline(report)
        return
    headline(report)


def file_name(run_id: str) -> str:
    return f"synthetic-{run_id[:8]}-{dt.datetime.now().strftime('%Y%m%d-%H%M')}.csv"
