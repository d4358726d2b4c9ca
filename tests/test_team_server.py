"""A team server, without Docker: PostgreSQL + an S3 endpoint + ``mlflow server``, driven by the CLI.

The test starts PostgreSQL from Debian's packages on 127.0.0.1 (``make test`` installs them),
``moto_server`` as the S3 endpoint and ``mlflow server --backend-store-uri postgresql://...
--artifacts-destination s3://... --serve-artifacts`` against both, the same shape as
docker-compose.yml. It then trains and generates through ``python -m dl_core`` with only
``MLFLOW_TRACKING_URI`` pointing at the server, and reads everything back.

PostgreSQL's ``initdb`` refuses to run as root, and CI runs as root: as root the database runs
as the ``postgres`` system user that Debian's package creates (``Popen(user=...)``), in a folder
that user owns; as anyone else it runs as that user. Nothing here is skipped: a missing piece
fails with what to install.
"""

from __future__ import annotations

import glob
import io
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import psycopg2
import pytest

from tests.test_cli import ROOT

pytestmark = pytest.mark.team_server

BUCKET = "dlx-artifacts"
S3_ENV = {"AWS_ACCESS_KEY_ID": "team", "AWS_SECRET_ACCESS_KEY": "team-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Poll ``ready()`` until it is true; fail with the server's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.3)
    pytest.fail(f"{what} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail("PostgreSQL's server is not installed (/usr/lib/postgresql/*/bin/postgres); "
                    "`make test` installs Debian's postgresql package.")
    return Path(found[-1]).parent


class Services:
    """The three servers, started in order and stopped in reverse."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        # Not under pytest's tmp folder: that is private to root, and PostgreSQL may run as
        # the postgres user.
        self.dir = Path(tempfile.mkdtemp(prefix="dlx-team-"))
        self.timings: dict[str, float] = {}

    def start(self, name: str, args: list[str], env: dict | None = None, user: str | None = None,
              cwd: Path | None = None) -> tuple[subprocess.Popen, Path]:
        log = self.dir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, user=user,
                                    env={**os.environ, **(env or {})}, cwd=cwd or self.dir,
                                    start_new_session=True)
        self.procs.append((name, proc))
        return proc, log

    def postgres(self) -> str:
        t0 = time.perf_counter()
        bindir = postgres_bin()
        data = self.dir / "pgdata"
        user = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("Running as root needs the 'postgres' system user (Debian's "
                            "postgresql package creates it): initdb refuses to run as root.")
            user = "postgres"
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "mlflow", "--auth=trust",
             "-E", "UTF8", "--no-sync"],
            user=user, cwd=self.dir, capture_output=True, text=True, timeout=120)
        assert init.returncode == 0, init.stdout + init.stderr
        port = free_port()
        # fsync off: a throwaway database; the socket folder is ours, not /var/run/postgresql.
        proc, log = self.start("postgres", [
            str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
            "-k", str(self.dir), "-c", "fsync=off", "-c", "full_page_writes=off"], user=user)
        wait_for("PostgreSQL", lambda: psycopg2.connect(
            host="127.0.0.1", port=port, user="mlflow", dbname="postgres").close() or True,
            proc, log)
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="mlflow", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE mlflow")
        conn.close()
        self.timings["postgres"] = time.perf_counter() - t0
        return f"postgresql://mlflow@127.0.0.1:{port}/mlflow"

    def s3(self) -> str:
        t0 = time.perf_counter()
        port = free_port()
        proc, log = self.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                        "-p", str(port)], env=S3_ENV)
        url = f"http://127.0.0.1:{port}"
        wait_for("moto_server", lambda: urllib.request.urlopen(f"{url}/moto-api/", timeout=2),
                 proc, log)
        boto3.client("s3", endpoint_url=url, **_boto_keys()).create_bucket(Bucket=BUCKET)
        self.timings["s3"] = time.perf_counter() - t0
        return url

    def mlflow(self, db_uri: str, s3_url: str) -> str:
        t0 = time.perf_counter()
        port = free_port()
        proc, log = self.start("mlflow", [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backend-store-uri",
            db_uri.replace("postgresql://", "postgresql+psycopg2://"),
            "--artifacts-destination", f"s3://{BUCKET}/artifacts", "--serve-artifacts"],
            env={**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3_url})
        url = f"http://127.0.0.1:{port}"
        wait_for("mlflow server", lambda: urllib.request.urlopen(f"{url}/health", timeout=2),
                 proc, log, timeout=150)
        self.timings["mlflow"] = time.perf_counter() - t0
        return url

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                # Its own session: the server and its workers. Throwaway Python servers are
                # killed outright (a graceful stop took seconds); PostgreSQL gets SIGINT, its
                # fast shutdown (SIGTERM would wait for clients).
                os.killpg(proc.pid, signal.SIGINT if name == "postgres" else signal.SIGKILL)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _boto_keys() -> dict:
    return {"aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
            "region_name": S3_ENV["AWS_DEFAULT_REGION"]}


@pytest.fixture(scope="module")
def team_server():
    services = Services()
    try:
        db = services.postgres()
        s3 = services.s3()
        url = services.mlflow(db, s3)
        yield {"url": url, "db": db, "s3": s3, "timings": services.timings}
    finally:
        services.stop()


@pytest.fixture(scope="module")
def customers_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 160
    tenure = rng.integers(1, 72, n)
    churn = np.where(tenure + rng.normal(0, 10, n) < 30, "Yes", "No")
    df = pd.DataFrame({"tenure": tenure, "balance": np.round(rng.normal(-50, 200, n), 2),
                       "plan": rng.choice(["basic", "pro"], n), "churn": churn})
    path = tmp_path_factory.mktemp("team") / "customers.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cli(team_server, tmp_path_factory):
    """``python -m dl_core`` whose only link to the server is MLFLOW_TRACKING_URI (no S3 keys:
    artifacts go through the server's proxy)."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "MLFLOW_S3"))}
    env.update(MLFLOW_TRACKING_URI=team_server["url"], DL_EXPLORER_HOME=str(home))

    def run(*args: str) -> dict:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "dl_core", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        team_server["timings"][" ".join(args[:1] + args[2:4])] = time.perf_counter() - t0
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture(scope="module")
def trained(cli, customers_csv):
    return cli("train", str(customers_csv), "--target", "churn", "--epochs", "3",
               "--set", "hidden_units=8", "--experiment", "team", "--quiet")


@pytest.fixture(scope="module")
def client(team_server, monkeypatch_module):
    from mlflow import MlflowClient

    monkeypatch_module.setenv("MLFLOW_TRACKING_URI", team_server["url"])
    return MlflowClient(tracking_uri=team_server["url"])


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def s3_keys(team_server) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=team_server["s3"], **_boto_keys())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_training_is_recorded_in_postgres_with_curves_and_model_in_the_bucket(
        team_server, trained, client, customers_csv):
    from dl_core import tracking

    run_id = trained["run_id"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params["hidden_units"] == "8"
    assert run.data.tags["dlx.kind"] == "training"
    # The record lives in PostgreSQL...
    with psycopg2.connect(team_server["db"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_uuid = %s", (run_id,))
        assert cur.fetchall() == [("FINISHED",)]
        cur.execute("SELECT count(*) FROM metrics WHERE run_uuid = %s AND key = 'loss'",
                    (run_id,))
        assert cur.fetchone()[0] == 3
    # ...the curves read back, one point an epoch...
    curves = tracking.metric_history(run_id, ["loss", "val_loss"])
    assert len(curves["loss"]) == 3 and len(curves["val_loss"]) == 3
    assert curves["loss"][0] == pytest.approx(
        client.get_metric_history(run_id, "loss")[0].value)
    # ...and the model's files are objects in the bucket, not files on this machine.
    keys = s3_keys(team_server)
    assert any(k.endswith("MLmodel") for k in keys), keys
    assert any(k.endswith(".keras") for k in keys), keys
    model = tracking.load_model(f"runs:/{run_id}/model")
    rows = pd.read_csv(customers_csv).drop(columns="churn").head(20)
    predicted = model.predict(rows)
    assert len(predicted) == 20 and set(predicted["prediction"]) <= {"Yes", "No"}


def test_generator_trains_and_generates_through_the_server(team_server, cli, client,
                                                          customers_csv, tmp_path):
    gen = cli("train", str(customers_csv), "--arch", "copula", "--target", "churn",
              "--experiment", "team-gen", "--quiet")
    assert gen["status"] == "FINISHED" and gen["task"] == "generation"
    out = tmp_path / "synthetic.csv"
    result = cli("generate", gen["run_id"], "--n", "50", "--seed", "1", "--out", str(out))
    rows = pd.read_csv(out)
    assert len(rows) == 50 and list(rows.columns) == ["tenure", "balance", "plan", "churn"]
    assert result["source_run_id"] == gen["run_id"] and 0.5 < result["quality"] <= 1.0
    # The generation is its own run on the server; its samples are an object in the bucket
    # and read back through the server equal to what the CLI wrote.
    from dl_core import tracking

    runs = client.search_runs([client.get_run(gen["run_id"]).info.experiment_id],
                              filter_string="tags.`dlx.kind` = 'generation'")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    gen_run = runs[0].info.run_id
    assert f"{gen_run}/artifacts/generation/samples.csv" in "\n".join(s3_keys(team_server))
    logged = pd.read_csv(io.BytesIO(tracking.artifact_bytes(gen_run, "generation/samples.csv")))
    pd.testing.assert_frame_equal(logged, rows)
    print("team server timings (s):",
          {k: round(v, 1) for k, v in team_server["timings"].items()})
