"""Generate-page helpers for image generators: ask for images (like the training mix, one class
or per-class counts), preview them by class, download them, read the image report and explore a
latent space.

The images come from the worker as rows of the training pixel table; they are turned back into
images here with the generator's :class:`~dl_core.generation.images.ImageTable` (numpy only).
The latent explorer's views are computed in the worker too (TensorFlow never loads here) and
drawn with plotly. Fidelity is never shown without the privacy figures: a generator that copies
its training images scores perfect fidelity.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import streamlit as st

from dl_core.generation import image_export
from dl_core.generation.image_figures import (
    GRID_CHART_CONFIG,
    grid_figure,
    map_figure,
    plane_figure,
    strip_image,
)
from dl_core.generation.image_quality import FLOOR_DRAWS
from dl_core.generation.images import ImageTable, sample_grid, tile
from ui import state
from ui.errors import shown_errors
from ui.generate import RESULT
from ui.loaders import executor

LIKE_TRAINING, ONE_CLASS, COUNTS = "Like the training mix", "One class", "Per-class counts"
#: Images per class row of the preview.
PREVIEW_PER_ROW = 10


def is_image_run(row: pd.Series) -> bool:
    """Whether a runs-frame row is an image generator's run (tagged ``data_kind=image``)."""
    return str(row.get("tags.data_kind") or "") == "image"


@st.cache_data(max_entries=8, show_spinner="Reading the generator's training images…")
def image_table(run_id: str) -> ImageTable:
    """The generator's pixel layout and classes (:func:`image_export.run_table`)."""
    return image_export.run_table(run_id)


def has_latent(arch: str) -> bool:
    """Whether the registered generator ``arch`` has an encoder (the latent explorer)."""
    from dl_core.models import get_model

    entry = get_model(arch)
    return bool(getattr(type(entry.build(entry.config_cls())), "has_latent", False))


# -- asking ----------------------------------------------------------------------------------


def _classes_text(table: ImageTable) -> str:
    return ", ".join(f"{c} {f:.0%}" for c, f in zip(table.classes, table.class_freq, strict=True))


def request_widgets(table: ImageTable) -> dict[str, Any]:
    """How many images of which classes, and the seed: ``{"n", "seed", "condition",
    "counts", "what"}`` (``counts`` None unless per class)."""
    mode = LIKE_TRAINING
    if table.label is not None:
        mode = st.radio(
            "Classes", (LIKE_TRAINING, ONE_CLASS, COUNTS), key="gen_img_mode", horizontal=True,
            persist_state=state.KEEP,
            help=f"Like the training mix: each '{table.label}' gets its share of the training "
                 "images, rounded. One class: only that class (e.g. more of a rare one). "
                 "Per-class counts: as many of each class as you ask.")
    left, right = st.columns(2)
    seed = right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="gen_seed",
                              help="The same seed gives the same images.",
                              persist_state=state.KEEP)
    request = {"seed": seed, "condition": {}, "counts": None, "what": ""}
    if mode == COUNTS:
        counts = {}
        per_line = min(10, len(table.classes))
        for start in range(0, len(table.classes), per_line):
            for cell, i in zip(st.columns(per_line), range(start, len(table.classes)),
                               strict=False):
                counts[table.classes[i]] = cell.number_input(
                    str(table.classes[i]), 0, image_export.MAX_IMAGES, 10, key=f"gen_count_{i}",
                    persist_state=state.KEEP)
        n = sum(counts.values())
        left.markdown(f"**{n:,} images** · the sum of the counts below (at most "
                      f"{image_export.MAX_IMAGES:,})")
        return {**request, "n": n, "counts": counts, "what": "per-class counts"}
    n = left.number_input("Images", 1, image_export.MAX_IMAGES, 100, step=50, key="gen_img_n",
                          persist_state=state.KEEP)
    if table.label is None:
        st.caption("This generator was trained without a label column: its images have no "
                   "class to ask for.")
        return {**request, "n": n}
    if mode == ONE_CLASS:
        value = st.selectbox(f"Class ('{table.label}')", list(table.classes), format_func=str,
                             key="gen_img_class", persist_state=state.KEEP)
        return {**request, "n": n, "condition": {table.label: value},
                "what": f"{table.label} = {value}"}
    st.caption(f"Training mix of '{table.label}': {_classes_text(table)}.")
    return {**request, "n": n, "what": "like the training mix"}


def run_generation(run_id: str, request: dict[str, Any]) -> None:
    """Generate in the worker (recorded as a run); keep the images for this session."""
    from ui.runs import refresh

    counts = request["counts"]
    if counts is not None and sum(counts.values()) == 0:
        st.error("Ask for at least one image: every class count is 0.", icon=":material/error:")
        return
    if counts is not None and sum(counts.values()) > image_export.MAX_IMAGES:
        st.error(f"At most {image_export.MAX_IMAGES:,} images at a time; the counts add up to "
                 f"{sum(counts.values()):,}.", icon=":material/error:")
        return
    with st.spinner(f"Generating {int(request['n']):,} images and scoring them…"):
        rows, report = executor().generate(
            run_id, int(request["n"]), seed=int(request["seed"]),
            condition=request["condition"], counts=counts)
    st.session_state[RESULT] = {"source": run_id, "rows": rows, "report": report,
                                "what": request["what"]}
    refresh()  # the Runs page lists the new generation at once


# -- the result ------------------------------------------------------------------------------


def show_result(result: dict[str, Any], table: ImageTable) -> None:
    """What was generated: a summary line, the preview by class, the downloads."""
    rows, report = result["rows"], result["report"]
    x, y = table.arrays(rows)
    what = f" ({result['what']})" if result.get("what") else ""
    st.success(f"Generated {len(rows):,} images{what} · seed {report['seed']} · recorded as run "
               f"`{report['run_id']}`.")
    for note in report.get("notes", []):
        st.info(note, icon=":material/info:")
    grid, labels = sample_grid(table, rows, per_row=PREVIEW_PER_ROW)
    shown = "the first images of each class, a row each" if y is not None else "the first images"
    st.markdown(f"**Preview** · {shown}")
    st.plotly_chart(grid_figure(tile(grid), labels, label_title=table.label or ""),
                    key="gen_img_preview", width="content", config=GRID_CHART_CONFIG)
    stem = f"synthetic-{report['source_run_id'][:8]}-{dt.datetime.now().strftime('%Y%m%d-%H%M')}"
    png, zipped, csv = st.columns(3)
    png.download_button(
        "Download grid (PNG)", lambda: image_export.contact_sheet_png(x, y),
        file_name=f"{stem}.png", mime="image/png", key="gen_dl_png", on_click="ignore",
        help=f"The images grouped by class in one picture (the first "
             f"{image_export.MAX_GRID_IMAGES:,}).")
    zipped.download_button(
        "Download images (ZIP of PNGs)", lambda: image_export.zip_pngs(x, y, table.classes),
        file_name=f"{stem}.zip", mime="application/zip", key="gen_dl_zip", on_click="ignore",
        help="One PNG per image at its own size, named by number and class.")
    csv.download_button(
        "Download pixel CSV", lambda: image_export.image_file(rows, table, ".csv"),
        file_name=f"{stem}.csv", mime="text/csv", key="gen_dl_csv", on_click="ignore",
        help="The training file's columns, pixel scale and label column: upload it on the Data "
             "page to train on the synthetic images (augmentation).")


def _fmt(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


#: What each figure of the image report means (the Generate page's and the Train page's help).
IMAGE_HELP = {
    "agreement": "Share of the images the reference classifier puts in the class they were "
                 "generated for (— without a label). 1 = every image reads as its class.",
    "frechet_distance": "Distance between the classifier-feature statistics of the synthetic "
                        "images and of held-out real images (lower is better). It falls as more "
                        "images are drawn, so read it against the floor, not against a draw of "
                        "another size: the figure under it is the ratio.",
    "frechet_floor": "The same distance between as many real training images as synthetic ones "
                     "(as many of each class; all of them when there are fewer) and the "
                     f"held-out ones (the median of {FLOOR_DRAWS} such sets when there are more "
                     "training images): about what a perfect generator drawing this many images "
                     "would score. A little below it happens by chance.",
    "frechet_ratio": "The Fréchet distance over its floor: 1 is as close as real images of the "
                     "same number get. Unlike the distance it barely moves with the number of "
                     "images, so it compares draws of different sizes (a Train page score "
                     "beside a Generate page one).",
    "precision": "Share of synthetic images inside the neighbourhoods (k = 3) of the held-out "
                 "real images: are they realistic?",
    "recall": "Share of held-out real images inside the synthetic images' neighbourhoods: do "
              "they cover the variety? One image per class scores near 0.",
    "copies": "Synthetic images equal, pixel for pixel, to a training image (a copy of a real "
              "image, not a new one).",
    "memorisation_ratio": "Median distance of synthetic images to their nearest training image, "
                          "over that of held-out real images. About 1: no closer than new real "
                          "images; far below 1: copying; well above 1: further from every real "
                          "image than real images are (blurred or odd images: read precision).",
}


def image_headline(report: dict[str, Any]) -> None:
    """The image report: fidelity in a reference classifier's eyes beside privacy (never
    fidelity alone)."""
    # Full-width rows, privacy straight under fidelity: side by side, the labels were cut
    # ("Fréchet di…", "Memorisation r…").
    fid, priv = st.container(), st.container()
    with fid:
        st.markdown("**Fidelity** · seen by a classifier trained on the real training images")
        c = st.columns(5)
        for cell, (key, label, digits) in zip(c, (
                ("agreement", "Agreement", 3), ("frechet_distance", "Fréchet distance", 2),
                ("frechet_floor", "Real-vs-real floor", 2), ("precision", "Precision", 3),
                ("recall", "Recall", 3)), strict=True):
            ratio = report.get("frechet_ratio") if key == "frechet_distance" else None
            # The ratio under the distance: the figure that compares draws of other sizes.
            cell.metric(label, _fmt(report.get(key), digits), help=IMAGE_HELP[key],
                        delta=None if ratio is None else f"{ratio:.2f} × the floor",
                        delta_color="off", delta_arrow="off")
    with priv:
        st.markdown("**Privacy** · copies and closeness")
        c = st.columns(5)
        c[0].metric("Copies", f"{int(report['copies']):,}", help=IMAGE_HELP["copies"])
        c[1].metric("Memorisation ratio", _fmt(report.get("memorisation_ratio"), 2),
                    help=IMAGE_HELP["memorisation_ratio"])
    accuracy = report.get("reference_accuracy")
    reads = ("" if accuracy is None else f" The reference classifier reads {accuracy:.0%} of "
             "the held-out real images right: agreement near that is as good as real images.")
    n_synthetic, n_holdout = report.get("n_synthetic", 0), report.get("n_holdout", 0)
    low, high = report.get("frechet_floor_low"), report.get("frechet_floor_high")
    n_floor = report.get("n_floor", n_synthetic)
    if n_floor < n_synthetic:  # asked for more of a class than it has training images
        st.caption(f"The floor compares all {n_floor:,} training images of these classes, "
                   f"fewer than the {n_synthetic:,} drawn, with the held-out ones: a perfect "
                   f"generator's {n_synthetic:,} images would score a little below it.")
    elif low is not None and high is not None and high > low:
        st.caption(f"Sets of {n_floor:,} real training images score "
                   f"{low:.2f} to {high:.2f} against the held-out ones (the floor is the median "
                   f"of {FLOOR_DRAWS}): a Fréchet distance of this many images varies that much "
                   "by chance. Draw more images for a steadier reading.")
    if n_synthetic < n_holdout:
        st.caption(f"Precision, recall and the memorisation ratio compare the {n_synthetic:,} "
                   f"synthetic images with as many of the {n_holdout:,} held-out ones: precision "
                   "and recall read higher on fewer images, and all three move from draw to "
                   f"draw; draw at least {n_holdout:,} to compare generators fairly.")
    st.caption(f"Scored on {n_synthetic:,} synthetic, "
               f"{report.get('n_train', 0):,} training and {n_holdout:,} "
               f"held-out real images (never seen by the generator).{reads} A generator can "
               "score high agreement by making one image per class: precision and recall "
               "together catch it; one that memorises scores well on everything but the ratio.")


@st.cache_data(max_entries=16, show_spinner=False)
def _logged_grid_files(run_id: str) -> tuple[bytes | None, dict[str, Any]]:
    """The grid PNG a run logged and its rows' classes (read once: the Runs page reruns on every
    click, and a team server is a network away). Only asked once the run's report is logged,
    after the grid, so a missing grid stays missing."""
    from dl_core import tracking
    from dl_core.training.generative import GRID_FILE, GRID_ROWS_FILE

    png = tracking.artifact_bytes(run_id, GRID_FILE)
    rows = tracking.artifact_bytes(run_id, GRID_ROWS_FILE) if png is not None else None
    # Runs logged before the classes were written beside the grid have none.
    return png, json.loads(rows) if rows is not None else {"row_labels": [], "label": None}


def logged_grid(run_id: str) -> None:
    """The grid of report samples an image generator run logged (the Runs page)."""
    from dl_core.generation.image_figures import decode_png, grid_figure

    png, rows = _logged_grid_files(run_id)
    if png is not None:
        st.markdown("**Samples** · from the report's sample"
                    + (", one row per class" if any(rows["row_labels"]) else ""))
        st.plotly_chart(grid_figure(decode_png(png), rows["row_labels"],
                                    label_title=rows["label"] or "class"),
                        key=f"grid_{run_id}", width="content", config=GRID_CHART_CONFIG)


# -- the latent explorer ----------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def latent_view(run_id: str, view: str, **params: Any) -> dict[str, Any]:
    """One view of the run's latent space from the worker (cached: a finished run's codes do
    not change)."""
    return executor().latent(run_id, view, **params)


def _label_of(answer: dict[str, Any], position: int) -> str:
    labels = answer["labels"]
    return "" if labels is None else f" · class {labels[answer['index'].index(position)]}"


def _take_clicks(answer: dict[str, Any]) -> None:
    """A point clicked (or a box of points) on the map becomes image A or B, in turn."""
    event = st.session_state.get("lat_map")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    picked = []
    for point in points:
        data = point.get("customdata")
        data = data[0] if isinstance(data, list) and data else data
        if isinstance(data, (int, float)) and int(data) in answer["index"]:
            picked.append(int(data))
    if not picked or picked == st.session_state.get("_lat_seen"):
        return
    st.session_state["_lat_seen"] = picked
    if len(picked) >= 2:
        st.session_state["lat_a"], st.session_state["lat_b"] = picked[:2]
        return
    slot = st.session_state.get("_lat_next", "lat_a")
    st.session_state[slot] = picked[0]
    st.session_state["_lat_next"] = "lat_b" if slot == "lat_a" else "lat_a"


def _default_picks(answer: dict[str, Any]) -> None:
    index, labels = answer["index"], answer["labels"]
    if st.session_state.get("lat_a") not in index:
        st.session_state["lat_a"] = index[0]
    if st.session_state.get("lat_b") not in index:
        a = st.session_state["lat_a"]
        label_a = None if labels is None else labels[index.index(a)]
        others = [i for k, i in enumerate(index) if i != a
                  and (labels is None or labels[k] != label_a)]
        st.session_state["lat_b"] = (others or [i for i in index if i != a] or [a])[0]


#: Why a conditional VAE's classes overlap on the map (newcomers expect a cluster a class).
STYLE_NOTE = (" The encoder is told each image's class, so its code is free to hold what the "
              "class leaves open (for handwritten digits: slant, thickness, size): classes may "
              "overlap, and nearby points share a style whatever their class.")


def latent_explorer(run_id: str, table: ImageTable) -> None:
    """The map of encoded training images; two picked images and the strip between them; for a
    2-D latent, the decoded plane."""
    st.subheader("Latent space")
    with st.spinner("Encoding the training images (in the background worker)…"):
        answer = latent_view(run_id, "map")
    dim = answer["latent_dim"]
    how = ("The latent space is 2-D: the map shows it as it is." if dim == 2 else
           f"The latent space has {dim} dimensions: the map is its projection on the two main "
           "directions (PCA) of the training images' codes.")
    st.caption(f"Each point is a training image, placed where the encoder puts it (the mean of "
               f"its code){' and coloured by class' if table.label else ''}. {how}"
               f"{STYLE_NOTE if table.label else ''} Click two points, or pick two images "
               "below, to see what the decoder draws on the way from one to the other.")
    _default_picks(answer)
    _take_clicks(answer)
    picked = (st.session_state["lat_a"], st.session_state["lat_b"])
    st.plotly_chart(map_figure(answer, picked), key="lat_map", on_select="rerun",
                    selection_mode="points")
    left, right = st.columns(2)
    for cell, key, name in ((left, "lat_a", "Image A"), (right, "lat_b", "Image B")):
        cell.selectbox(name, answer["index"], key=key,
                       format_func=lambda i: f"training image #{i}{_label_of(answer, i)}")
    with shown_errors("Interpolating"):
        strip = latent_view(run_id, "interpolate", a=int(st.session_state["lat_a"]),
                            b=int(st.session_state["lat_b"]))
        classes = [c for c in strip["row_labels"] if c is not None]
        # Each row named by the class it is decoded as (the caption's "(top)" was missed).
        st.plotly_chart(grid_figure(strip_image(strip), strip["row_labels"] if classes else (),
                                    label_title="decoded as"),
                        key="lat_strip", width="content", config=GRID_CHART_CONFIG)
        decoded = (f", each row decoded as the class beside it ({', '.join(map(str, classes))})"
                   if len(classes) > 1 else f", decoded as class {classes[0]}" if classes else "")
        st.caption(f"A (real) → {len(strip['t'])} images decoded along the straight line "
                   f"between their codes → B (real){decoded}. A and B sit on the first row "
                   "only: the grey cells below them hold no image.")
    if dim == 2:
        plane_explorer(run_id, table)


def plane_explorer(run_id: str, table: ImageTable) -> None:
    """The decoder's images over a grid of the 2-D latent plane (one class when conditional)."""
    st.markdown("**The decoded plane** · what the decoder draws at each point of the latent "
                "plane (the bulk of the prior: its 5th to 95th percentiles)")
    label = None
    if table.label is not None:
        label = st.selectbox("Decode as class", list(table.classes), key="lat_plane_class",
                             format_func=str)
    with shown_errors("Decoding the plane"), st.spinner("Decoding the plane…"):
        st.plotly_chart(plane_figure(latent_view(run_id, "plane", label=label)),
                        key="lat_plane")
