"""Synthetic tabular rows: the table codec, the Gaussian copula yardstick and the quality report.

- :mod:`~dl_core.generation.schema`: per-column description of a table; table <-> numbers.
- :mod:`~dl_core.generation.codec`: :class:`TableCodec` (mode-specific normalisation, one-hot,
  missing indicators; output and conditional-vector layouts) and :class:`ConditionalSampler`.
- :mod:`~dl_core.generation.spans`: span-wise activations (tanh, softmax, Gumbel-softmax) and the
  TVAE reconstruction and CTGAN conditional losses, in ``keras.ops``.
- :mod:`~dl_core.generation.copula`: :class:`GaussianCopula`, fast and non-neural.
- :mod:`~dl_core.generation.quality`: :func:`synthesis_report` (fidelity, utility, privacy).
- :mod:`~dl_core.generation.export`: CSV downloads with spreadsheet formulas neutralised.

Nothing here imports TensorFlow at import time (``spans`` imports Keras when called); modules
are imported by their full name.
"""
