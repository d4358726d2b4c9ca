"""Synthetic tabular rows: the table codec, the Gaussian copula yardstick and the quality report.

- :mod:`~dl_core.generation.schema`: per-column description of a table; table <-> numbers.
- :mod:`~dl_core.generation.codec`: :class:`TableCodec` (mode-specific normalisation, one-hot,
  missing indicators; output and conditional-vector layouts) and :class:`ConditionalSampler`.
- :mod:`~dl_core.generation.spans`: span-wise activations (tanh, softmax, Gumbel-softmax) and the
  TVAE reconstruction and CTGAN conditional losses, in ``keras.ops``.
- :mod:`~dl_core.generation.copula`: :class:`GaussianCopula`, fast and non-neural.
- :mod:`~dl_core.generation.quality`: :func:`synthesis_report` (fidelity, utility, privacy).
- :mod:`~dl_core.generation.export`: kept for old imports; downloads use :mod:`dl_core.export`.
- :mod:`~dl_core.generation.synthesizer`: the :class:`Synthesizer` interface every registered
  generator implements, how one is stored, and the copula behind it.
- :mod:`~dl_core.generation.generate`: sample a logged generator run, score the rows on its
  stored split and record the generation as an MLflow run.
- :mod:`~dl_core.generation.figures`: real vs synthetic plotly figures for the Generate page.

Nothing here imports TensorFlow at import time (``spans`` imports Keras when called); modules
are imported by their full name.
"""
