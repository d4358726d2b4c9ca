"""Generate: synthetic rows (or images) from a trained generator, scored for fidelity, privacy
and utility; the latent space of an image generator with an encoder."""

import streamlit as st

from dl_core.export import to_safe_csv
from dl_core.generation.generate import MAX_ROWS
from ui import generate as ui_gen
from ui import generate_images as ui_img
from ui import state
from ui.errors import shown_errors
from ui.runs import all_runs

st.title("Generate")
run_id = None
with shown_errors("Reading the runs"):
    runs = all_runs()
    run_id = ui_gen.choose_generator(runs)
if run_id is None:
    st.stop()

run = runs.loc[runs["run_id"] == run_id].iloc[0]
if ui_img.is_image_run(run):  # images: their own request, preview, downloads and report
    table = None
    with shown_errors("Reading the generator's images"):
        table = ui_img.image_table(run_id)
    if table is None:
        st.stop()
    request = ui_img.request_widgets(table)
    if st.button("Generate", type="primary", key="gen_go"):
        with shown_errors("Generating"):
            ui_img.run_generation(run_id, request)
    result = ui_gen.last_result(run_id)
    if result is None:
        st.info("Choose how many images of which classes, then press Generate. They are drawn "
                "in the background worker, scored and recorded as a run.")
    else:
        with shown_errors("Showing the images"):
            ui_img.show_result(result, table)
            st.subheader("Report")
            ui_img.image_headline(result["report"])
    if ui_img.has_latent(run["arch"]):
        with shown_errors("Exploring the latent space"):
            ui_img.latent_explorer(run_id, table)
    st.stop()

condition = None
with shown_errors("Reading the generator"):
    target = run["target"] or None
    left, right = st.columns(2)
    n = left.number_input("Rows", min_value=1, max_value=MAX_ROWS, value=1000, step=100,
                          key="gen_n", persist_state=state.KEEP)
    seed = right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="gen_seed",
                              help="The same seed gives the same rows.",
                              persist_state=state.KEEP)
    condition = ui_gen.condition_widgets(run, target)
if condition is None:
    st.stop()

if st.button("Generate", type="primary", key="gen_go"):
    with shown_errors("Generating"):
        ui_gen.run_generation(run_id, n, seed, condition)

result = ui_gen.last_result(run_id)
if result is None:
    st.info("Choose how many rows (and optionally a condition), then press Generate. The rows "
            "are drawn in the background worker and recorded as a run.")
    st.stop()

rows, report = result["rows"], result["report"]
asked = " where " + " and ".join(f"{k} = {v}" for k, v in report["condition"].items()) \
    if report["condition"] else ""
st.success(f"Generated {len(rows):,} rows{asked} · seed {report['seed']} · recorded as run "
           f"`{report['run_id']}`.")
for note in report.get("notes", []):
    st.info(note, icon=":material/info:")
st.dataframe(rows.head(200), hide_index=True, key="gen_preview")
st.download_button(
    "Download rows (CSV)", to_safe_csv(rows), file_name=ui_gen.file_name(run_id),
    mime="text/csv", key="gen_download", on_click="ignore",
    help="Text cells that a spreadsheet would run as a formula (=, +, -, @) start with a quote.",
)

st.subheader("Report")
with shown_errors("Drawing the report"):
    ui_gen.headline(report)
    ui_gen.details(report, rows, run_id)
