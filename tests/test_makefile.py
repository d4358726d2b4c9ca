"""`make run` installs TensorFlow's GPU build where `nvidia-smi` finds a GPU, else the CPU build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dry_run(tmp_path: Path, nvidia_smi: str | None, target: str = "run") -> str:
    """The commands ``make TARGET`` would run (``make -n``) with only our fake tools on PATH:
    no chromium, no PostgreSQL server."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "id").symlink_to(shutil.which("id"))
    if nvidia_smi is not None:
        fake = tools / "nvidia-smi"
        fake.write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        fake.chmod(0o755)
    env = {**os.environ, "PATH": str(tools)}
    env.pop("TF_BUILD", None)
    out = subprocess.run([shutil.which("make"), "-n", target, f"VENV={tmp_path / 'venv'}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout


def installed_requirements(commands: str) -> list[str]:
    return [line.split(" -r ", 1)[1] for line in commands.splitlines() if "pip install" in line
            and " -r " in line]


def test_gpu_build_where_nvidia_smi_lists_a_gpu(tmp_path):
    commands = dry_run(tmp_path, 'echo "GPU 0: NVIDIA H200 (UUID: GPU-0)"')
    assert installed_requirements(commands) == ["requirements-gpu.txt"]
    assert "streamlit run streamlit_app.py" in commands


@pytest.mark.parametrize("nvidia_smi", [None, 'echo "NVIDIA-SMI has failed: no driver" >&2; exit 9'],
                         ids=["no nvidia-smi", "nvidia-smi fails"])
def test_cpu_build_otherwise(tmp_path, nvidia_smi):
    assert installed_requirements(dry_run(tmp_path, nvidia_smi)) == ["requirements-cpu.txt"]


def test_both_builds_pin_the_same_tensorflow():
    def pins(name: str) -> list[str]:
        lines = (ROOT / name).read_text().splitlines()
        return [line for line in lines if line.startswith("tensorflow")]

    cpu, gpu = pins("requirements-cpu.txt"), pins("requirements-gpu.txt")
    assert cpu == [cpu[0]] and cpu[0].startswith("tensorflow-cpu==")
    assert gpu == [f"tensorflow[and-cuda]=={cpu[0].split('==')[1]}"]
    assert not pins("requirements.txt")


def _make_n(tmp_path: Path, target: str, **env: str) -> str:
    """``make -n TARGET`` against an empty virtual env: every install step it would run."""
    out = subprocess.run([shutil.which("make"), "-n", target, f"VENV={tmp_path / 'venv'}",
                          "TF_BUILD=cpu"], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={**os.environ, **env})
    return out.stdout


def test_make_test_installs_ray_for_the_ray_executor_tests(tmp_path):
    assert "-r requirements-dev.txt -r requirements-ray.txt" in _make_n(tmp_path, "test")
    assert (ROOT / "requirements-ray.txt").read_text().splitlines()[-1] == "ray==2.60.0"


def test_make_run_installs_ray_only_when_dlx_executor_is_ray(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DLX_EXECUTOR"}
    plain = subprocess.run([shutil.which("make"), "-n", "run", f"VENV={tmp_path / 'venv'}",
                            "TF_BUILD=cpu"], cwd=ROOT, capture_output=True, text=True,
                           check=True, env=env).stdout
    assert "requirements-ray.txt" not in plain
    assert "-r requirements-ray.txt" in _make_n(tmp_path, "run", DLX_EXECUTOR="ray")


def test_make_test_installs_chromium_and_postgres_in_one_apt_get_beside_pip(tmp_path):
    commands = dry_run(tmp_path, None, "test")  # neither package there: both are installed
    apt = [line for line in commands.splitlines() if "apt-get install" in line]
    assert len(apt) == 1 and apt[0].endswith("chromium postgresql >/dev/null"), commands
    assert "make -j2 install-dev test-packages" in commands.replace(shutil.which("make"), "make")
    # Byte-compiled at install: where PYTHONDONTWRITEBYTECODE is set (our sandboxes set it),
    # Python would otherwise compile TensorFlow anew in every worker and CLI process.
    assert installed_requirements(commands) == ["requirements-cpu.txt",
                                                "requirements-dev.txt -r requirements-ray.txt"]
    assert "--no-compile" not in commands
