"""The one place the Keras backend is configured: GPU memory grows on demand."""

from __future__ import annotations

import os

from dl_core import backend


def test_configure_turns_gpu_memory_growth_on():
    env = backend.configure({})
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert env["KERAS_BACKEND"] == "tensorflow"


def test_configure_keeps_what_the_user_set():
    env = backend.configure({"TF_FORCE_GPU_ALLOW_GROWTH": "false", "KERAS_BACKEND": "jax"})
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "false" and env["KERAS_BACKEND"] == "jax"


def test_keras_is_imported_with_memory_growth_configured(monkeypatch):
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    backend.keras()
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_logged_models_name_the_installed_tensorflow_build(monkeypatch):
    """A GPU install has `tensorflow`, not `tensorflow-cpu`: the logged model must still name it."""
    import importlib.metadata

    from dl_core import tracking

    real = importlib.metadata.version

    def gpu_install(name: str) -> str:
        if name == "tensorflow-cpu":
            raise importlib.metadata.PackageNotFoundError(name)
        return "2.21.0" if name == "tensorflow" else real(name)

    monkeypatch.setattr(importlib.metadata, "version", gpu_install)
    assert "tensorflow==2.21.0" in tracking.model_requirements()
