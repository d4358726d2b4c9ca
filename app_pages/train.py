"""Train: one click starts a background job; live curves, ETA and a Stop button."""

import streamlit as st

from ui import state
from ui.errors import shown_errors
from ui.jobs import STATUS_ICON, live_job
from ui.loaders import executor
from ui.modeling import (
    fits_in_one_pass,
    generator_target,
    is_generator,
    job_spec,
    restore_job_data,
)

st.title("Train")
ex = executor()
job_id = state.get(state.JOB_ID)
if job_id is None:  # a reopened tab reattaches to the job still running on this server
    active = [j for j in ex.jobs() if j.active]
    # A sweep is shown on the Model page, not here as if it were one training job.
    running = [j for j in active if j.kind != "sweep"]
    sweeps = [j for j in active if j.kind == "sweep"]
    job_id = running[0].job_id if running else None
    state.put(state.JOB_ID, job_id)
    if sweeps and state.get(state.SWEEP_JOB_ID) is None:
        state.put(state.SWEEP_JOB_ID, sweeps[0].job_id)
    if active and state.get(state.DATASET) is None:
        with shown_errors("Restoring the job's dataset"):
            restore_job_data((running or sweeps)[0].spec)  # its target, kind, options, configs

ds, target = state.get(state.DATASET), state.get(state.TARGET)
if ds is None or not (target or is_generator(state.get(state.ARCH))):
    if job_id is None:
        st.info("Load data and pick a target (what to predict) on the Data page first.")
        st.page_link("app_pages/data.py", label="Go to Data", icon=":material/table_view:")
        st.stop()
else:
    train_cfg, arch = state.get(state.TRAIN_CONFIG), state.get(state.ARCH)
    what = f"→ `{target}` ({state.get(state.TASK)})"
    if is_generator(arch):
        from ui.generate import generator_target_note, used_batch

        train_cfg, gen_target = state.get(state.GEN_TRAIN_CONFIG), generator_target()
        images = state.get(state.DATA_KIND) == "image"
        what = ("images" if images else "rows") + generator_target_note(gen_target, images)
    batch = train_cfg.get("batch_size", "default")
    if is_generator(arch):  # "batch 500" where a network cut it to 32 misled
        used = used_batch(arch, ds["rows"], train_cfg)
        if used is not None and used < batch:
            batch = f"{used:,} (batch size {batch:,}, capped)"
    how = (f"{train_cfg.get('epochs', 'default')} epochs max, batch {batch} · change them on "
           "the Model page")
    if fits_in_one_pass(arch):
        how = "fits in one pass over the training rows (no epochs or batches)"
    st.markdown(f"**{ds['name']}** {what} with `{arch}` · {how}.")
    busy = job_id is not None and ex.progress(job_id).active
    if job_id is not None and not busy:
        last = ex.progress(job_id)
        setup = (ds["path"], arch, (gen_target if is_generator(arch) else target) or "")
        if (last.spec.get("dataset_path"), last.spec.get("arch"),
                last.spec.get("target") or "") != setup:
            # A result drawn under this setup's header read as this setup already trained.
            ended = f"run `{last.run_id[:8]}`" if last.run_id else f"job `{job_id}`"
            st.caption(f"Your last job, `{last.spec.get('arch')}` on "
                       f"{last.spec.get('dataset_name')} → {last.spec.get('target') or '(none)'}"
                       f", ended {last.status} ({ended}; on the Runs page). Press Train to train "
                       "this one.")
            job_id = None
    if st.button("Train", type="primary", disabled=busy, key="train"):
        started = None
        with shown_errors("Starting training"):
            started = job_id = ex.submit(job_spec())
            state.put(state.JOB_ID, job_id)
        if started is not None:
            st.rerun()  # redraws Train disabled while the job runs (it stayed clickable)

if job_id:
    live_job(job_id)
else:
    ex.warm_up()  # import TensorFlow in the worker now, while the user reads this page
if ex.device:
    st.caption(f"Training runs in a background worker on: **{ex.device}**.")

others = [j for j in ex.jobs() if j.job_id != job_id]
if others:
    # "Other" than the one above: a newcomer's own earlier job, listed here, read as someone
    # else's.
    with st.expander(f"Earlier and other jobs on this server, yours included ({len(others)})"):
        for j in others:
            cols = st.columns([4, 1])
            sweep = j.kind == "sweep"
            # The run id the Runs and Generate pages name (the job id is the worker's own).
            which = f"run `{j.run_id[:8]}`" if j.run_id else f"job `{j.job_id}`"
            where = f"trial {j.trial}/{j.n_trials}" if sweep else f"epoch {j.epoch}/{j.epochs}"
            cols[0].markdown(f"{STATUS_ICON.get(j.status, '')} {'sweep ' if sweep else ''}"
                             f"{which} {j.spec['dataset_name']} → {j.spec['target']} · "
                             f"{j.status} · {where}")
            if cols[1].button("Show", key=f"show-{j.job_id}",
                              help="On the Model page, with its trials" if sweep else None):
                if sweep:
                    state.put(state.SWEEP_JOB_ID, j.job_id)
                    st.switch_page("app_pages/model.py")
                state.put(state.JOB_ID, j.job_id)
                st.rerun()
