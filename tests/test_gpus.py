"""A job's GPU count: more than one trains a mirrored model (tf.distribute.MirroredStrategy),
more than the machine has is a clear error. There is no GPU here: the mirrored path is proven
on two logical CPU devices standing in for two GPUs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dl_core import tracking
from dl_core.backend import mirrored_devices
from dl_core.data.storage import store_dataset
from dl_core.errors import ConfigError
from dl_core.jobspec import build_job_spec
from dl_core.training import run_training

ROOT = Path(__file__).resolve().parent.parent
GPUS = ["/device:GPU:0", "/device:GPU:1", "/device:GPU:2"]


def test_more_than_one_gpu_mirrors_on_the_first_ones():
    assert mirrored_devices(2, GPUS) == GPUS[:2]
    assert mirrored_devices(3, GPUS) == GPUS
    for one_device in (None, 0, 1):
        assert mirrored_devices(one_device, GPUS) is None
    with pytest.raises(ConfigError, match=r"asks for 4 GPUs but this machine has 3 "):
        mirrored_devices(4, GPUS)


def test_gpus_must_be_a_whole_number(tiny_binary):
    with pytest.raises(ConfigError, match=r"gpus must be a whole number of at least 0; got -1"):
        build_job_spec(dataset_path="x.parquet", dataset_name="x", target="label",
                       task="binary", arch="fnn", gpus=-1)


def _spec(df, gpus):
    return build_job_spec(dataset_path=str(store_dataset(df)), dataset_name="tiny",
                          target="label", task="binary", arch="fnn", gpus=gpus,
                          train_config={"epochs": 1, "patience": 0}, experiment="gpus")


def test_a_job_asking_for_gpus_this_machine_lacks_fails_with_a_message(tiny_binary):
    with pytest.raises(ConfigError, match=r"asks for 2 GPUs but this machine has 0; ask for "
                                          r"fewer \(gpus=0 trains on the CPU\)"):
        run_training(_spec(tiny_binary, 2))
    runs = tracking.client().search_runs([tracking.experiment_id("gpus")],
                                         order_by=["attributes.start_time DESC"])
    assert runs[0].info.status == "FAILED"
    assert runs[0].data.params["gpus"] == "2"
    assert "asks for 2 GPUs" in runs[0].data.tags[tracking.TAG_ERROR]


def test_two_devices_train_one_mirrored_model(tiny_binary, tmp_path):
    data = tmp_path / "tiny.parquet"
    tiny_binary.to_parquet(data)
    probe = textwrap.dedent(f"""
        import json
        import pandas as pd
        import tensorflow as tf

        # Two logical CPUs stand in for two GPUs: TensorFlow lists them where it lists GPUs.
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        listed = tf.config.list_logical_devices
        tf.config.list_logical_devices = lambda kind=None: listed("CPU" if kind == "GPU" else kind)
        made = []
        Mirrored = tf.distribute.MirroredStrategy

        class Recorded(Mirrored):
            def __init__(self, devices=None, **kw):
                super().__init__(devices, **kw)
                made.append(self)

        tf.distribute.MirroredStrategy = Recorded

        from dl_core import tracking
        from dl_core.data.storage import store_dataset
        from dl_core.jobspec import build_job_spec
        from dl_core.training import run_training

        df = pd.read_parquet({str(data)!r})
        spec = build_job_spec(dataset_path=str(store_dataset(df)), dataset_name="tiny",
                              target="label", task="binary", arch="fnn", gpus=2,
                              train_config={{"epochs": 2, "patience": 0}}, experiment="gpus")
        result = run_training(spec)
        predicted = tracking.load_predictor(result.run_id).predict(df.drop(columns="label"))
        print(json.dumps({{"status": result.status, "epochs": result.epochs_run,
                          "replicas": [s.num_replicas_in_sync for s in made],
                          "devices": [sorted(s.extended.worker_devices) for s in made],
                          "rows": len(predicted)}}))
    """)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"status": "FINISHED", "epochs": 2, "replicas": [2], "rows": len(tiny_binary),
                   "devices": [["/job:localhost/replica:0/task:0/device:CPU:0",
                                "/job:localhost/replica:0/task:0/device:CPU:1"]]}
