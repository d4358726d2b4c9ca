"""The Model page's sweep section: mark hyperparameters to vary, start, watch, stop."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dl_core.config import describe
from dl_core.errors import DLExplorerError
from dl_core.sweeps import METHODS, SweepSpec, parse_axis, trial_params
from dl_core.training import TrainConfig
from ui import state
from ui.errors import shown_errors
from ui.jobs import POLL_S, STATUS_ICON
from ui.loaders import executor
from ui.modeling import job_spec
from ui.runs import refresh

_SKIP = {"seed", "test_size", "val_size"}  # varying the split would compare different tests
# "Best" is judged on validation data only; the test split is reported, never optimised.
METRICS = {"binary": ["best_val_loss", "val_accuracy", "val_f1", "val_roc_auc"],
           "multiclass": ["best_val_loss", "val_accuracy", "val_f1"],
           "regression": ["best_val_loss", "val_rmse", "val_mae", "val_r2"]}


def _suggest(spec: dict[str, Any], value: Any) -> str:
    """A starting set of values around the current one, in the syntax parse_axis reads."""
    hint = str(spec["type"])
    if spec["choices"]:
        return ",".join(str(c) for c in spec["choices"][:3])
    if "tuple" in hint:
        v = ",".join(str(x) for x in value)
        return f"{v};{','.join(str(2 * x) for x in value)}"
    if "bool" in hint:
        return "true,false"
    if "int" in hint:
        lo = max(int(spec["min"] or 1), int(value) // 2)
        return f"{lo},{int(value)},{int(value) * 2}"
    if spec["log"]:
        return f"{value / 10:g}:{value * 10:g}:3:log"
    return f"{value:g}"


def axis_text(axis: Any, tuple_field: bool = False) -> str:
    """A sweep's stored axis (a list, or a range as a dict) as typed in its text box."""
    if isinstance(axis, dict):  # a Range
        return (f"{axis['low']:g}:{axis['high']:g}:{axis['count']}"
                + (":log" if axis.get("log") else ""))
    if tuple_field:
        return ";".join(",".join(str(v) for v in value) for value in axis)
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in axis)


def _restore_last_sweep() -> None:
    """Coming back to the Model page, show this session's sweep and the form that started it
    (Streamlit forgets a page's widgets when another page is shown: the running sweep and
    its Stop button were hidden behind an unset toggle, above a form of other values)."""
    job_id = state.get(state.SWEEP_JOB_ID)
    if not job_id or "sweep_on" in st.session_state:
        return
    try:
        sweep = executor().progress(job_id).sweep or {}
    except DLExplorerError:  # a job of a server since restarted
        return
    st.session_state["sweep_on"] = True
    if (sweep.get("base") or {}).get("arch") != state.get(state.ARCH):
        return  # another architecture since: its own form, not that sweep's values
    space = sweep.get("space") or {}
    tuples = {k for k, v in space.items()
              if isinstance(v, list) and v and isinstance(v[0], (list, tuple))}
    st.session_state["sweep_params"] = list(space)
    for name, axis in space.items():
        st.session_state[f"sweep.{name}"] = axis_text(axis, name in tuples)
    for key, value in (("sweep_method", sweep.get("method")),
                       ("sweep_budget", sweep.get("budget")),
                       ("sweep_metric", sweep.get("metric"))):
        if value is not None:
            st.session_state[key] = value


def sweep_section() -> None:
    """Everything about sweeps on the Model page, starting from the applied hyperparameters;
    nothing is drawn until the toggle is on."""
    from dl_core.models import get_model

    _restore_last_sweep()
    if not st.toggle("Sweep hyperparameters", key="sweep_on",
                     help="Train several variants of the applied hyperparameters as one "
                          "sweep (one after another; side by side on a Ray cluster)."):
        return
    arch = state.get(state.ARCH)
    model_cls = get_model(arch).config_cls
    model_values, train_values = state.get(state.MODEL_CONFIG), state.get(state.TRAIN_CONFIG)
    specs = {s["name"]: (s, model_values) for s in describe(model_cls)}
    specs.update({s["name"]: (s, train_values) for s in describe(TrainConfig)
                  if s["name"] not in _SKIP})
    chosen = st.multiselect("Vary these", list(specs), key="sweep_params",
                            default=["learning_rate"] if "learning_rate" in specs else None)
    space: dict[str, Any] = {}
    with shown_errors("Reading the values"):
        for name in chosen:
            spec, values = specs[name]
            tuple_field = "tuple" in str(spec["type"])
            text = st.text_input(
                f"{name} values", value=_suggest(spec, values.get(name, spec["default"])),
                key=f"sweep.{name}",
                help=("Values separated by ';', e.g. 64,32;128,64" if tuple_field else
                      "A list (0.001,0.01) or a range low:high:count, add :log for log spacing."),
            )
            space[name] = parse_axis(text, tuple_field=tuple_field)
    c = st.columns(3)
    method = c[0].radio("Search", METHODS, horizontal=True, key="sweep_method",
                        persist_state=state.KEEP)
    budget = c[1].number_input("Budget (most trials)", 1, 500, 8, key="sweep_budget",
                               persist_state=state.KEEP)
    task = state.get(state.TASK)
    metric = c[2].selectbox("Best means", METRICS.get(task, ["best_val_loss"]),
                            key="sweep_metric", persist_state=state.KEEP,
                            help="Measured on the validation split (losses and errors: lower is "
                                 "better). Test figures are reported, never used to choose.")
    # The session's job, data kind and options included: every trial trains what Train would.
    sweep = SweepSpec(base=job_spec(), space=space, method=method, budget=int(budget),
                      metric=metric)
    job_id = state.get(state.SWEEP_JOB_ID)
    busy = job_id is not None and executor().progress(job_id).active
    with shown_errors("Checking the sweep"):
        n = len(trial_params(sweep)) if space else 0
        how = ("side by side on the cluster, as many as it has room for"
               if executor().trials_side_by_side else "one after another")
        st.caption(f"{n} trial(s) of up to {train_values.get('epochs')} epochs each, {how}, in "
                   "the background.")
        if st.button("Start sweep", key="start_sweep", disabled=busy or n == 0, type="primary"):
            job_id = executor().submit_sweep(sweep)
            state.put(state.SWEEP_JOB_ID, job_id)
    if job_id:
        live_sweep(job_id)


def trials_frame(trials: list[dict[str, Any]], metric: str) -> pd.DataFrame:
    """The trials as a table; each trial's score is headed by its metric's name, not "value"."""
    df = pd.DataFrame(trials)
    if "run_id" in df:
        df["run_id"] = df["run_id"].astype(str).str[:8]
    df = df.rename(columns={"value": metric})
    return df.drop(columns=[c for c in ("error",) if c in df.columns])


def live_sweep(job_id: str) -> None:
    """The sweep's live trial table, best so far, current trial's progress and Stop; polled
    once a second while the sweep runs only (a page switch from a fragment that keeps polling
    lands on a blank page)."""
    active = False
    with shown_errors("Reading the sweep"):
        active = executor().progress(job_id).active
    st.fragment(_sweep_view, run_every=POLL_S if active else None)(job_id)


def _sweep_view(job_id: str) -> None:
    with shown_errors("Reading the sweep"):
        job = executor().progress(job_id)
        metric = job.sweep.get("metric", "best_val_loss")
        if job.active and st.button("Stop sweep" if not job.stop_requested else "Stopping…",
                                    disabled=job.stop_requested, key=f"stop-sweep-{job_id}"):
            executor().stop(job_id)
            job = executor().progress(job_id)
        where = (f"trial {job.trial}/{job.n_trials}" if job.active else
                 f"{len(job.trials)} of {job.n_trials} trial(s) ran")
        st.markdown(f"{STATUS_ICON.get(job.status, '')} **Sweep {job.status}** · {where}"
                    + (f" · epoch {job.epoch}/{job.epochs}" if job.active and job.epochs else ""))
        if job.active:
            done = sum(1 for t in job.trials if t.get("status") != "RUNNING")
            st.progress(min(done / max(job.n_trials, 1), 1.0))
        if job.best:
            st.metric(f"Best so far ({metric})", f"{job.best['value']:.4g}",
                      help=f"Trial {job.best['trial']}")
        if job.trials:
            st.dataframe(trials_frame(job.trials, metric), hide_index=True, key=f"trials-{job_id}")
        if job.status == "failed":
            st.error(job.error or "The sweep failed.")
        elif not job.active:
            if st.session_state.get("_sweep_announced") != job_id:
                st.session_state["_sweep_announced"] = job_id
                refresh()  # the Runs page shows the sweep at once
                st.rerun()  # drawn again, without polling
            if job.status == "killed":
                st.warning("Sweep stopped: every trial still training ended KILLED, its "
                           "model so far recorded; the trials not yet started were skipped.")
            if st.button("Compare its trials on the Runs page", key=f"compare-sweep-{job_id}"):
                refresh()  # the cached runs table must know the new sweep
                state.put(state.RUNS_FOCUS_SWEEP, job.run_id)  # the Runs page selects it
                st.switch_page("app_pages/runs.py")
