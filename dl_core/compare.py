"""Comparing runs: one table of every run, filters, "what differs", and comparison figures.

Pure pandas and plotly (no MLflow, no Streamlit): the input is the flat records of
:func:`dl_core.tracking.search_run_records`, so the same functions serve the Runs page, the
benchmark and a notebook. Per-epoch curves come from ``tracking.metric_history`` and plots from
the logged ``evaluation/report.json``, both fetched only for the runs being compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dl_core.evaluation.metrics import lower_is_better

# The metric early stopping watches; training logs its final value per epoch and its best.
MONITORED = "val_loss"
BEST_MONITORED = "best_val_loss"
#: The Runs table's headers of the monitored metric: its final and its best epoch's value.
MONITORED_COLUMNS = {MONITORED: f"{MONITORED} (final)", BEST_MONITORED: f"{MONITORED} (best epoch)"}
# Columns every runs frame has, whatever the store holds.
BASE_COLUMNS = ["run_id", "run_name", "experiment_id", "experiment", "status", "start_time",
                "end_time", "kind", "parent_run_id", "dataset", "arch", "task", "target"]
_TAG_COLUMNS = {"kind": "tags.dlx.kind", "parent_run_id": "tags.mlflow.parentRunId",
                "dataset": "tags.dataset", "arch": "tags.arch", "task": "tags.task",
                "target": "tags.target"}
# What a choice (best trial, best run, the star) may read: validation figures only.
_VALIDATION_PREFIXES = ("val_", "best_val_")
_PALETTE = px.colors.qualitative.Plotly + px.colors.qualitative.Dark24
_TEMPLATE = "plotly_white"


def is_validation_metric(metric: str) -> bool:
    """Whether ``metric`` is measured on the validation split (``val_*``, ``best_val_*``)."""
    return metric.removeprefix("metrics.").startswith(_VALIDATION_PREFIXES)


def check_selection_metric(metric: str) -> str:
    """The metric name if a choice may be made on it; a clear error otherwise.

    The test split is scored once and reported: picking the best trial or run on it would make
    its figures optimistic (the choice fits the test rows), so choices read validation figures.

    Raises:
        ConfigError: for a test (or baseline) metric, or anything not measured on validation.
    """
    from dl_core.errors import ConfigError

    name = metric.removeprefix("metrics.").strip()
    if is_validation_metric(name):
        return name
    base = name.removeprefix("best_").removeprefix("test_").removeprefix("val_")
    if name.startswith(("test_", "baseline_")):
        raise ConfigError(
            f"{name!r} is measured on the test split, which is only reported, never used to "
            "choose: a best run or trial picked on it would make its test figures optimistic. "
            f"Choose on validation data instead: best_val_loss or val_{base}."
        )
    raise ConfigError(
        f"Choices are made on validation metrics (best_val_loss or val_*, e.g. val_{base}); "
        f"got {name!r}."
    )


def selection_metrics(df: pd.DataFrame) -> list[str]:
    """The validation metrics some run of ``df`` has, that a best-run picker may offer,
    ``best_val_loss`` first."""
    names = [m for m in columns_of(df, "metrics.")
             if is_validation_metric(m) and df[f"metrics.{m}"].notna().any()]
    return sorted(names, key=lambda m: (m != BEST_MONITORED, m))


def runs_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run, indexed by nothing special; ``run_id`` is the key.

    Adds ``kind``, ``parent_run_id``, ``dataset``, ``arch``, ``task``, ``target`` from the tags
    and turns the times into timestamps.
    """
    df = pd.DataFrame.from_records(list(records))
    for col, tag in _TAG_COLUMNS.items():
        df[col] = df[tag] if tag in df.columns else None
    for col in BASE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    for col in ("start_time", "end_time"):
        df[col] = pd.to_datetime(df[col], unit="ms", errors="coerce")
    metric_cols = [c for c in df.columns if c.startswith("metrics.")]
    df[metric_cols] = df[metric_cols].apply(pd.to_numeric, errors="coerce")
    return df.reset_index(drop=True)


def columns_of(df: pd.DataFrame, prefix: str) -> list[str]:
    """Names after ``prefix`` (``"params."``, ``"metrics."``, ``"tags."``) present in ``df``."""
    return sorted(c.removeprefix(prefix) for c in df.columns if c.startswith(prefix))


def choices(df: pd.DataFrame, column: str) -> list[str]:
    """Distinct non-empty values of a column, sorted (for filter widgets)."""
    if column not in df.columns:
        return []
    return sorted(str(v) for v in df[column].dropna().unique() if str(v))


def parse_tag_filter(text: str) -> list[tuple[str, str | None]]:
    """``"team=vision, baseline"`` -> ``[("team", "vision"), ("baseline", None)]``."""
    out = []
    for part in (text or "").split(","):
        key, sep, value = part.partition("=")
        if key.strip():
            out.append((key.strip(), value.strip() if sep else None))
    return out


def filter_runs(
    df: pd.DataFrame, *, experiments: Sequence[str] = (), datasets: Sequence[str] = (),
    archs: Sequence[str] = (), tasks: Sequence[str] = (), statuses: Sequence[str] = (),
    kinds: Sequence[str] = (), tags: str = "", since: Any = None, until: Any = None,
    search: str = "", sweep: str | None = None,
) -> pd.DataFrame:
    """Rows matching every given filter (an empty filter keeps everything).

    Args:
        tags: ``key=value`` or ``key`` items, comma-separated; all must match.
        since, until: Dates (inclusive) on the start time.
        search: Case-insensitive text in the run name or id.
        sweep: A sweep's parent run id: keeps the sweep's trials (and the parent).
    """
    mask = pd.Series(True, index=df.index)
    for col, wanted in (("experiment", experiments), ("dataset", datasets), ("arch", archs),
                        ("task", tasks), ("status", statuses), ("kind", kinds)):
        if wanted:
            mask &= df[col].astype(str).isin([str(w) for w in wanted])
    for key, value in parse_tag_filter(tags):
        col = f"tags.{key}"
        if col not in df.columns:
            return df.iloc[0:0]
        mask &= df[col].notna() if value is None else df[col].astype(str).eq(value)
    if since is not None:
        mask &= df["start_time"] >= pd.Timestamp(since)
    if until is not None:
        mask &= df["start_time"] < pd.Timestamp(until) + pd.Timedelta(days=1)
    if search:
        text = df["run_name"].astype(str) + " " + df["run_id"].astype(str)
        mask &= text.str.contains(search, case=False, regex=False)
    if sweep:
        mask &= df["parent_run_id"].eq(sweep) | df["run_id"].eq(sweep)
    return df[mask]


def sort_runs(df: pd.DataFrame, metric: str | None = None,
              descending: bool | None = None) -> pd.DataFrame:
    """Newest first with sweep trials grouped under their parent; or by a metric.

    Args:
        metric: A ``metrics.<k>`` column (or a plain metric name); runs without it go last.
        descending: Defaults to best first (ascending for losses and errors).
    """
    if df.empty:
        return df
    if metric:
        col = metric if metric in df.columns else f"metrics.{metric}"
        if col not in df.columns:
            return df
        if descending is None:
            descending = not lower_is_better(col)
        return df.sort_values(col, ascending=not descending, na_position="last", kind="stable")
    start = df["start_time"]
    parent_start = df["parent_run_id"].map(df.set_index("run_id")["start_time"])
    group_time = parent_start.where(parent_start.notna(), start)
    order = pd.DataFrame({"g": group_time, "child": df["parent_run_id"].notna()
                          & parent_start.notna(), "t": start}, index=df.index)
    # Parents first in their group, trials in the order they ran.
    order = order.sort_values(["g", "child", "t"], ascending=[False, True, True], kind="stable")
    return df.loc[order.index]


def differing(df: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns whose values are not all equal over the rows of ``df`` (missing counts)."""
    out = []
    for col in columns:
        if col not in df.columns:
            continue
        values = df[col].astype(str).where(df[col].notna(), "<none>")
        if values.nunique() > 1:
            out.append(col)
    return out


def best_run_id(df: pd.DataFrame, metric: str) -> str | None:
    """The run with the best value of ``metric`` (lowest for losses), None if nobody has it.

    Raises:
        ConfigError: if ``metric`` is not a validation metric (see :func:`check_selection_metric`).
    """
    check_selection_metric(metric)
    col = metric if metric in df.columns else f"metrics.{metric}"
    if col not in df.columns or df[col].notna().sum() == 0:
        return None
    values = df[col]
    idx = values.idxmin() if lower_is_better(col) else values.idxmax()
    return str(df.loc[idx, "run_id"])


def table_view(df: pd.DataFrame, params: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """The columns the Runs table shows, with readable headers; the index is the run id."""
    label = df["run_name"].astype(str)
    is_trial = df["parent_run_id"].notna() & df["parent_run_id"].isin(df["run_id"])
    label = label.where(~is_trial, "↳ " + label)
    columns = {"run": label, "status": df["status"], "experiment": df["experiment"],
               "dataset": df["dataset"], "arch": df["arch"], "task": df["task"],
               "kind": df["kind"], "started": df["start_time"]}
    columns = {name: values.to_numpy() for name, values in columns.items()}
    nothing = np.full(len(df), np.nan)
    for metric, name in MONITORED_COLUMNS.items():
        columns[name] = df[f"metrics.{metric}"].to_numpy() if f"metrics.{metric}" in df else nothing
    if "metrics.best_epoch" in df:
        columns["best epoch"] = df["metrics.best_epoch"].to_numpy()
    for m in metrics:
        col = f"metrics.{m}"
        if col in df.columns and m not in (MONITORED, BEST_MONITORED, "best_epoch"):
            columns[m] = df[col].to_numpy()
    for p in params:
        col = f"params.{p}"
        if col in df.columns:
            columns[f"param: {p}"] = df[col].to_numpy()
    # Built at once: a column at a time fragmented the frame (pandas warned on every rerun).
    return pd.DataFrame(columns, index=pd.Index(df["run_id"].to_numpy(), name="run_id"))


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _note(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    fig.update_layout(template=_TEMPLATE, title={"text": title}, height=300,
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def curve_metrics(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> list[str]:
    """Base metric names (``loss``, ``accuracy``...) found in any of the histories."""
    names: list[str] = []
    for hist in histories.values():
        for key in hist:
            base = key.removeprefix("val_")
            if base not in names:
                names.append(base)
    return sorted(names, key=lambda n: (n != "loss", n))


def overlay_curves_figure(
    histories: Mapping[str, Mapping[str, Sequence[float]]], metric: str,
    labels: Mapping[str, str] | None = None, best: str | None = None,
) -> go.Figure:
    """Learning curves of several runs on one chart: one colour per run, train solid,
    validation dashed; the best run drawn thicker and marked ★ in the legend.

    Args:
        histories: ``{run_id: {"loss": [...], "val_loss": [...], ...}}`` (values per epoch).
        metric: The base metric (``loss``, ``accuracy``...).
        labels: Legend names by run id.
        best: Run id to highlight.
    """
    labels = labels or {}
    fig = go.Figure()
    for i, (run_id, hist) in enumerate(histories.items()):
        color = _PALETTE[i % len(_PALETTE)]
        name = labels.get(run_id, run_id[:8]) + (" ★" if run_id == best else "")
        for key, split, dash in ((metric, "train", "solid"),
                                 (f"val_{metric}", "validation", "dash")):
            values = hist.get(key)
            if not values:
                continue
            y = [v if v is not None and math.isfinite(v) else None for v in values]
            fig.add_trace(go.Scatter(
                x=list(range(1, len(y) + 1)), y=y, mode="lines+markers" if len(y) < 30 else "lines",
                name=f"{name} · {split}", legendgroup=run_id,
                line={"color": color, "dash": dash, "width": 4 if run_id == best else 2},
                marker={"size": 5},
                hovertemplate=f"{name} {split} {metric}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>",
            ))
    if not fig.data:
        return _note("Learning curves", f"None of these runs logged '{metric}' per epoch.")
    fig.update_layout(template=_TEMPLATE, title={"text": f"{metric} per epoch (train solid, "
                                                          "validation dashed)"},
                      xaxis={"title": {"text": "Epoch"}, "tickformat": "d"},
                      yaxis={"title": {"text": metric}}, height=420, hovermode="x unified")
    return fig


def _numeric_or_codes(series: pd.Series) -> tuple[pd.Series, dict[str, Any]]:
    """Params are logged as text: numbers become numbers, anything else category codes."""
    nums = pd.to_numeric(series, errors="coerce")
    if nums.notna().all():
        return nums, {}
    cats = sorted(series.astype(str).unique())
    codes = series.astype(str).map({c: i for i, c in enumerate(cats)})
    return codes, {"tickvals": list(range(len(cats))), "ticktext": cats}


def parallel_coordinates_figure(df: pd.DataFrame, params: Sequence[str], metric: str) -> go.Figure:
    """One line per run through its params to ``metric`` (the colour), Optuna-style."""
    col = metric if metric in df.columns else f"metrics.{metric}"
    if col not in df.columns or df[col].notna().sum() == 0:
        return _note("Parallel coordinates", f"No run here has the metric '{metric}'.")
    rows = df[df[col].notna()]
    dims = []
    for p in params:
        pcol = f"params.{p}"
        if pcol not in rows.columns:
            continue
        values, ticks = _numeric_or_codes(rows[pcol].fillna("<none>"))
        dims.append({"label": p, "values": values.to_numpy(), **ticks})
    name = col.removeprefix("metrics.")
    dims.append({"label": name, "values": rows[col].to_numpy()})
    fig = go.Figure(go.Parcoords(
        line={"color": rows[col].to_numpy(), "colorscale": "Viridis",
              "reversescale": lower_is_better(col), "showscale": True,
              "colorbar": {"title": {"text": name}}},
        dimensions=dims,
    ))
    fig.update_layout(template=_TEMPLATE, height=420,
                      title={"text": f"Params → {name} ({len(rows)} runs; brighter is better)"})
    return fig


def param_scatter_figure(df: pd.DataFrame, param: str, metric: str,
                         best: str | None = None) -> go.Figure:
    """One param against one metric, a point per run (log x for rates spanning decades)."""
    col = metric if metric in df.columns else f"metrics.{metric}"
    pcol = f"params.{param}"
    if col not in df.columns or pcol not in df.columns:
        return _note("Param vs metric", f"No run here has both '{param}' and '{metric}'.")
    rows = df[df[col].notna()]
    x_num = pd.to_numeric(rows[pcol], errors="coerce")
    x = x_num if x_num.notna().all() else rows[pcol].astype(str)
    sizes = np.where(rows["run_id"].eq(best), 16, 10)
    fig = go.Figure(go.Scatter(
        x=x, y=rows[col], mode="markers", text=rows["run_name"],
        marker={"size": sizes, "color": np.where(rows["run_id"].eq(best), "#d62728", "#1f77b4")},
        hovertemplate="%{text}<br>" + param + " %{x}<br>" + col.removeprefix("metrics.")
        + " %{y:.4g}<extra></extra>",
    ))
    positive = x_num.notna().all() and (x_num > 0).all()
    span = x_num.max() / x_num.min() if positive and len(x_num) else 1
    fig.update_layout(template=_TEMPLATE, height=380,
                      title={"text": f"{param} vs {col.removeprefix('metrics.')}"},
                      xaxis={"title": {"text": param}, "type": "log" if span >= 100 else "-"},
                      yaxis={"title": {"text": col.removeprefix("metrics.")}})
    return fig


def metrics_bar_figure(df: pd.DataFrame, metrics: Sequence[str], best: str | None = None,
                       titles: Mapping[str, str] | None = None) -> go.Figure:
    """A small bar chart per metric, each on its own axis (an MSE of 2,700 beside an R² of 0.5
    on one axis hid the R² bars), one bar per run, its value written on it (two 0 copies drew
    an empty chart); the best run's name starred. ``titles`` names metrics as the pages do
    (``{"dcr_closer_to_train": "DCR share"}``)."""
    from plotly.subplots import make_subplots

    cols = [m if m in df.columns else f"metrics.{m}" for m in metrics]
    # The table holds every experiment's metrics: keep those these runs logged (regression runs
    # beside classifiers showed empty test_accuracy, test_roc_auc, ... groups).
    cols = [c for c in cols if c in df.columns and df[c].notna().any()]
    if not cols:
        return _note("Metrics", "These runs share no metric to compare.")
    per_row = min(len(cols), 4)
    n_rows = math.ceil(len(cols) / per_row)
    fig = make_subplots(rows=n_rows, cols=per_row,
                        subplot_titles=[(titles or {}).get(c.removeprefix("metrics."),
                                                           c.removeprefix("metrics."))
                                        for c in cols],
                        horizontal_spacing=0.06, vertical_spacing=0.18)
    for i, (_, row) in enumerate(df.iterrows()):
        name = str(row["run_name"]) + (" ★" if row["run_id"] == best else "")
        for j, c in enumerate(cols):
            fig.add_trace(go.Bar(
                x=[name], y=[row[c]], name=name, legendgroup=str(row["run_id"]),
                # Outside, never clipped: "auto" could not fit "0" into a bar of no height,
                # and two runs with 0 copies showed a blank panel.
                text=[f"{row[c]:.3g}" if pd.notna(row[c]) else ""], textposition="outside",
                cliponaxis=False,
                showlegend=j == 0, hovertemplate=f"{name}<br>{c.removeprefix('metrics.')} "
                                                 "%{y:.4g}<extra></extra>",
                marker={"color": _PALETTE[i % len(_PALETTE)],
                        "line": {"width": 3 if row["run_id"] == best else 0, "color": "black"}},
            ), row=j // per_row + 1, col=j % per_row + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(rangemode="tozero")
    for j, c in enumerate(cols):
        if (df[c].fillna(0) == 0).all():  # all 0: the zeros on a baseline, not mid-axis
            fig.update_yaxes(range=[0, 1], row=j // per_row + 1, col=j % per_row + 1)
    # A left margin of its own: Streamlit's theme leaves none, and the first chart's "40" was
    # cut to "0" at the edge.
    fig.update_layout(template=_TEMPLATE, height=120 + 220 * n_rows, bargap=0.15,
                      margin={"l": 50, "r": 20, "t": 80, "b": 20},
                      title={"text": "Metrics side by side (each on its own scale)"})
    return fig


def report_figure(report: Mapping[str, Any] | None) -> go.Figure:
    """The one figure that sums up a logged evaluation report, chosen by ``report["task"]``:
    a confusion matrix (classification), predicted vs actual (regression), a forecast plot or
    a sample grid when :mod:`dl_core.evaluation` knows how to draw one; a note otherwise."""
    from dl_core.evaluation import figures as ev

    if not report:
        return _note("Evaluation", "This run has no logged evaluation.")
    task = report.get("task")
    try:
        if task in ("binary", "multiclass"):
            return ev.confusion_matrix_figure(report["confusion_matrix"], report["classes"])
        if task == "regression":
            return ev.predicted_vs_actual_figure(report["y_true"], report["y_pred"])
        # Newer report kinds (forecasts, generative samples) bring their own drawing function.
        for name in (f"{task}_figure", f"{task}_report_figure", "report_figure"):
            draw = getattr(ev, name, None)
            if callable(draw):
                return draw(report)
    except (KeyError, TypeError, ValueError) as exc:
        return _note("Evaluation", f"Cannot draw this {task!r} report: {exc}.")
    return _note("Evaluation", f"No comparison plot for {task!r} reports yet.")


def find_best_run(experiment: str, metric: str = BEST_MONITORED) -> str:
    """The FINISHED training run of ``experiment`` with the best validation ``metric``.

    Raises:
        ConfigError: if ``metric`` is not a validation metric.
        TrackingError: if the experiment does not exist or has no such run.
    """
    from dl_core import tracking
    from dl_core.errors import TrackingError

    metric = check_selection_metric(metric)
    names = tracking.experiments()
    ids = [i for i, n in names.items() if n == experiment]
    if not ids:
        raise TrackingError(
            f"No experiment named {experiment!r}; experiments in the store: "
            f"{sorted(names.values())}."
        )
    df = runs_frame(tracking.search_run_records(ids))
    df = filter_runs(df, kinds=["training"], statuses=["FINISHED"])
    best = best_run_id(df, metric) if not df.empty else None
    if best is None:
        raise TrackingError(
            f"Experiment {experiment!r} has no FINISHED training run with the metric {metric!r}."
        )
    return best


def prediction_table(df: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """The predictions first (so they are seen beside 20+ input columns), then every input
    column in its original order with its values untouched.

    ``predictions`` is indexed like the input rows it belongs to; a row without a prediction
    (a forecast origin with less than ``lookback`` rows of history) keeps its inputs with empty
    prediction cells. A prediction column that repeats an input column (a forecast's time) is
    left out: the input's own values stay. Long-format sequences get one prediction per
    sequence, indexed by the id column: the result is that column, then the predictions.
    """
    if predictions.index.name is not None and predictions.index.name in df.columns:
        return predictions.reset_index()
    own = predictions.drop(columns=[c for c in predictions.columns if c in df.columns])
    return pd.concat([own.reindex(df.index), df], axis=1)
