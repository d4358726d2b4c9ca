"""How good are our synthetic images? Every registered image generator against the yardstick.

scikit-learn's 8x8 digits (the app's ``digits`` sample, 0..255) are split in half, stratified on
the label (seed ``--seed``): every image generator in the model registry (``image_kde``, the
non-neural yardstick; ``conv_vae`` and ``dcgan`` once registered) fits on the training half,
conditioned on the label, with the generative trainer's default epochs and batch (as the app
does; ``--epochs``/``--batch-size`` override), and draws as many images as it trained on. They
are scored by :func:`dl_core.generation.image_quality.image_report` against the held-out half:
label agreement of a reference MLP trained on the training half, Fréchet distance in its
features beside the real-vs-real floor (training vs held-out), precision and recall (k = 3
manifolds), exact copies and the memorisation ratio. The row ``copy`` scores the training half
itself: perfect fidelity, every image a copy (why fidelity is never read without privacy).

``--size 28`` adds the 28x28 case (each digit upsampled bilinearly) that times an epoch: every
generator fits ``--epochs-28`` epochs on the upsampled training half; the first epoch (tracing
and compiling) is shown apart from the median of the rest.

Figures only, no assertions::

    python bench/image_gen.py                          # every image generator on digits
    python bench/image_gen.py --models image_kde --seed 1
    python bench/image_gen.py --size 28 --epochs-28 3  # also time an epoch on 28x28
    python bench/image_gen.py --json /tmp/image-gen.json
    python bench/image_gen.py --models conv_vae --seed 1 --set latent_dim=32 \
        --temperatures 1.1,1.2,1.3                     # a variant, drawn at three temperatures
    python bench/image_gen.py --train-size 150 --seed 1  # few images, as for a rare class
    python bench/image_gen.py --seed 1 --yardstick-widths 0.5,0.6,0.7,0.8
                                                       # every row against the yardstick's curve
    python bench/image_gen.py --seed 1 --yardstick-widths 0.5,0.6,0.7,0.8 --independent-too
                                                       # and each fit drawn one by one as well

``--yardstick-widths`` also fits ``image_kde`` at each fixed kernel width (a multiple of a class's
spread; its own choice is about 0.63 on digits): wider kernels trade precision for recall, and
move away from the training images. Those rows trace the yardstick's precision-recall curve, and
every row is then read against it: ``above`` is its recall minus the curve's recall at its
precision (interpolated; none outside the curve's range). Positive: better precision and recall
than the yardstick can reach together at any width; a generator that only trades one for the
other (a temperature, a width) moves along a curve and keeps its sign.

The generators draw a set of images evenly (:mod:`dl_core.generation.spread`: quasi-random noise,
the yardstick's anchors without replacement, class counts in proportion). ``--independent-too``
also draws each fit one image at a time, as independent sampling does (rows ``... indep``, read
against the yardstick's own independent draws): what the even draws change.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-image-"))
os.environ.setdefault("DL_EXPLORER_HOME", str(_TMP / "home"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dl_core.data.samples import build_sample  # noqa: E402
from dl_core.generation.image_quality import image_report  # noqa: E402
from dl_core.generation.images import ImageTable  # noqa: E402
from dl_core.generation.spread import independent_draws  # noqa: E402
from dl_core.models import get_model, list_models  # noqa: E402
from dl_core.training.generative import GenerativeTrainConfig, split_rows  # noqa: E402

#: Suffix of the rows drawn independently (``--independent-too``).
INDEPENDENT = "indep"
FIGURES = (("agree", "agreement"), ("FD", "frechet_distance"), ("floor", "frechet_floor"),
           ("FD/floor", None), ("prec", "precision"), ("recall", "recall"),
           ("copies", "copies"), ("memo", "memorisation_ratio"), ("fit_s", None),
           ("epochs", None))


def image_generators() -> list[str]:
    """Every registered image generator, the yardstick first."""
    names = [e.name for e in list_models("image", family="generative")]
    return sorted(names, key=lambda n: (n != "image_kde", n))


def digits_split(seed: int, size: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The digits halves (training, held-out), upsampled to ``size`` x ``size`` if asked."""
    df = build_sample("digits")
    if size != 8:
        df = upsample(df, size)
    return split_rows(df, 0.5, seed, "label")


def upsample(df: pd.DataFrame, size: int) -> pd.DataFrame:
    """Every 8x8 digit resized to ``size`` x ``size`` (bilinear), as ``pixel0..`` 0..255."""
    from PIL import Image

    pixels = df.drop(columns="label").to_numpy(dtype=np.uint8).reshape(-1, 8, 8)
    big = np.stack([np.asarray(Image.fromarray(p).resize((size, size), Image.BILINEAR))
                    for p in pixels]).reshape(len(df), -1)
    out = pd.DataFrame(big.astype(int), columns=[f"pixel{i}" for i in range(size * size)])
    out.insert(0, "label", df["label"].to_numpy())
    return out


def fit(name: str, train: pd.DataFrame, seed: int, epochs: int, batch_size: int,
        overrides: dict | None = None):
    """Generator ``name`` (default config, but ``overrides``) fitted on ``train``; the times each
    epoch ended."""
    entry = get_model(name)
    known = {f.name for f in dataclasses.fields(entry.config_cls)}
    synth = entry.build(entry.config_cls(**{k: v for k, v in (overrides or {}).items()
                                            if k in known}))
    ends: list[float] = []
    start = time.perf_counter()
    synth.fit(train, condition_columns=("label",), epochs=epochs, batch_size=batch_size,
              seed=seed, on_epoch=lambda epoch, logs: ends.append(time.perf_counter()))
    return synth, time.perf_counter() - start, np.diff([start, *ends])


def quality(models: list[str], seed: int, epochs: int, batch_size: int,
            overrides: dict | None = None, temperatures: list[float] | None = None,
            train_size: int | None = None,
            yardstick_widths: list[float] | None = None,
            independent_too: bool = False) -> list[dict]:
    train, holdout = digits_split(seed)
    if train_size:  # few images (a rare class): a stratified part of the training half
        train = split_rows(train, 1 - train_size / len(train), seed, "label")[0]
    table = ImageTable.from_frame(train, "label")
    rows = []
    # (row name, generator, its settings); the yardstick at each fixed width traces its curve.
    fits = [(name, name, overrides) for name in models] + [
        (f"image_kde w{w:g}", "image_kde", {"width": w}) for w in yardstick_widths or []]
    for row_name, name, settings in [*fits, ("copy", None, None)]:
        if name is None:
            draws, fit_s, epoch_s = [(row_name, train)], None, []
        else:
            synth, fit_s, epoch_s = fit(name, train, seed, epochs, batch_size, settings)
            draws = []
            for label in at_temperatures(synth, row_name, temperatures):
                draws.append((label, synth.sample(len(train), seed=seed)))
                if independent_too:  # the same fit, its images drawn one by one
                    with independent_draws():
                        draws.append((f"{label} {INDEPENDENT}",
                                      synth.sample(len(train), seed=seed)))
        for label, synthetic in draws:
            report = image_report(train, synthetic, holdout, table=table, seed=seed)
            rows.append({"model": label, **{k: report[k] for _, k in FIGURES if k},
                         "fit_s": fit_s, "epochs": len(epoch_s),
                         "reference_accuracy": report["reference_accuracy"]})
            show(rows[-1])
    if yardstick_widths:
        curves = {kind: yardstick_curve(rows, kind) for kind in (False, True)}
        for row in rows:
            row["above_curve"] = above_curve(row, *curves[drawn_independently(row)])
        show_above_curve(rows)
    return rows


def drawn_independently(row: dict) -> bool:
    return row["model"].endswith(f" {INDEPENDENT}")


def yardstick_curve(rows: list[dict], independent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The yardstick rows' (``image_kde`` at any width) precisions, increasing, and recalls;
    of its independent draws (``--independent-too``) when ``independent``."""
    points = sorted((r["precision"], r["recall"]) for r in rows
                    if r["model"].split(" ")[0] == "image_kde"
                    and drawn_independently(r) == independent)
    return np.array([p for p, _ in points]), np.array([r for _, r in points])


def above_curve(row: dict, precisions: np.ndarray, recalls: np.ndarray) -> float | None:
    """``row``'s recall minus the yardstick curve's at its precision (None outside the curve)."""
    if len(precisions) < 2 or not precisions[0] <= row["precision"] <= precisions[-1]:
        return None
    return float(row["recall"] - np.interp(row["precision"], precisions, recalls))


def show_above_curve(rows: list[dict]) -> None:
    print("\nrecall above the yardstick's precision-recall curve (+: beyond any of its widths; "
          "-: a precision outside the curve's range)", flush=True)
    for row in rows:
        print(f"{row['model']:<20} above {fmt(row['above_curve']):>8}  at precision "
              f"{row['precision']:.3f}, memo {row['memorisation_ratio']:.3f}", flush=True)


def at_temperatures(synth, name: str, temperatures: list[float] | None):
    """Sets the fitted ``synth``'s sampling temperature to each of ``temperatures`` in turn
    (one fit, several draws), yielding the row's name; once, unchanged, for a generator without
    a temperature or when none is asked."""
    if not temperatures or "temperature" not in {f.name for f in dataclasses.fields(synth.cfg)}:
        yield name
        return
    for t in temperatures:
        synth.cfg = dataclasses.replace(synth.cfg, temperature=t)
        yield f"{name} t{t:g}"


def epoch_times(models: list[str], seed: int, size: int, epochs: int,
                batch_size: int) -> list[dict]:
    train, _ = digits_split(seed, size)
    out = []
    for name in models:
        _, fit_s, epoch_s = fit(name, train, seed, epochs, batch_size)
        row = {"model": name, "size": f"{size}x{size}", "fit_s": fit_s, "epochs": len(epoch_s),
               "first_epoch_s": float(epoch_s[0]) if len(epoch_s) else None,
               "epoch_s": float(np.median(epoch_s[1:])) if len(epoch_s) > 1 else None}
        print(f"{name:<10} {row['size']:>6} epochs {row['epochs']:>3}  first "
              f"{fmt(row['first_epoch_s'])} s  then {fmt(row['epoch_s'])} s/epoch  "
              f"(fit {fmt(fit_s)} s)", flush=True)
        out.append(row)
    return out


def override(item: str) -> tuple[str, object]:
    """``KEY=VALUE`` as a config override: the value read as JSON (a list as a tuple), else as
    text."""
    key, _, text = item.partition("=")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    return key.strip(), tuple(value) if isinstance(value, list) else value


def positive_numbers(text: str) -> list[float]:
    """``1.1,1.2`` as numbers above 0 (an argparse type: bad input is a usage message)."""
    try:
        values = [float(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}") from None
    if not all(v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"every value must be above 0, got {text!r}")
    return values


def fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def show(row: dict) -> None:
    ratio = row["frechet_distance"] / row["frechet_floor"] if row["frechet_floor"] else None
    cells = [fmt(ratio if key is None and label == "FD/floor" else row.get(key or label))
             for label, key in FIGURES]
    print(f"{row['model']:<20} " + " ".join(f"{c:>8}" for c in cells), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="Comma-separated image generators (default: all).")
    parser.add_argument("--seed", type=int, default=0)
    defaults = GenerativeTrainConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs,
                        help="Epochs of the networks (default: the trainer's).")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--size", type=int, default=0,
                        help="Also time epochs on digits upsampled to SIZE x SIZE (e.g. 28).")
    parser.add_argument("--epochs-28", type=int, default=3,
                        help="Epochs of the timing case (--size).")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override a hyperparameter of the networks that have it (a JSON "
                             "value: latent_dim=32, filters=[64,128]); repeatable.")
    parser.add_argument("--temperatures", type=positive_numbers,
                        help="Comma-separated sampling temperatures, each drawn from the same "
                             "fit (generators that have one).")
    parser.add_argument("--train-size", type=int,
                        help="Fit on this many of the training half's images (stratified; "
                             "the held-out half is unchanged).")
    parser.add_argument("--yardstick-widths", type=positive_numbers,
                        help="Comma-separated kernel widths (multiples of a class's spread; it "
                             "chooses about 0.63 on digits) at which image_kde is also fitted: "
                             "its precision-recall curve, which every row is read against.")
    parser.add_argument("--independent-too", action="store_true",
                        help="Also draw every fit's images one by one, independently (rows "
                             f"'... {INDEPENDENT}'; read against the yardstick's independent "
                             "draws): what drawing a set evenly changes.")
    parser.add_argument("--json", help="Write every figure to this JSON file.")
    args = parser.parse_args(argv)
    overrides = dict(override(item) for item in args.set)
    models = args.models.split(",") if args.models else image_generators()
    print(f"digits 8x8, half trained on / half held out, seed {args.seed}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    if args.train_size:
        print(f"fitted on {args.train_size} of the training half's images", flush=True)
    if overrides:
        print(f"overrides: {overrides}", flush=True)
    print(f"{'model':<20} " + " ".join(f"{label:>8}" for label, _ in FIGURES), flush=True)
    results = {"quality": quality(models, args.seed, args.epochs, args.batch_size, overrides,
                                  args.temperatures, args.train_size, args.yardstick_widths,
                                  args.independent_too)}
    if args.size:
        print(f"\ntime per epoch, digits upsampled to {args.size}x{args.size}", flush=True)
        results["epoch_times"] = epoch_times(models, args.seed, args.size, args.epochs_28,
                                             args.batch_size)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
