"""Dask executor: a codec grid and a training ladder on a two-worker LocalCluster give the results of
the local executor, also when a worker process is killed (SIGKILL) in the middle of a task."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from dlic_lib.errors import DlicError
from dlic_lib.data import prepare_images
from dlic_lib.evaluate import GRID_KEY, conventional_setting, run_grid

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module

TIMING = ["encode_s", "decode_s", "wall_s"]
METRICS = ["psnr_y", "ssim"]
WORKER_RETURN_S = 90  # how long a test waits for a killed worker to be back


def _start_cluster() -> tuple[LocalCluster, Client]:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="3GiB", dashboard_address=":0")
    client = Client(cluster)
    client.run(_warm_up)  # first imports (torch, codecs, metrics) outside the timed tests
    return cluster, client


def _stop_cluster(cluster: LocalCluster, client: Client) -> None:
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def clusters():
    """Two worker processes of one thread each (nannies restart a killed worker), kept for the module.

    Starting nannies sets OMP_NUM_THREADS=1, PYTHONHASHSEED and more in this process's environment
    (distributed 2026.8); the environment is restored afterwards so that later tests' subprocesses
    run as they would without this module.
    """
    environ = dict(os.environ)
    held = [_start_cluster()]
    yield held
    _stop_cluster(*held[0])
    os.environ.clear()
    os.environ.update(environ)


def _warm_up() -> None:
    import dlic_lib.evaluate
    import dlic_lib.metrics
    import dlic_lib.train.engine  # noqa: F401


@pytest.fixture()
def cluster(clusters):
    """The module's client with both workers up. A nanny normally restarts a worker a test killed within
    seconds; on a loaded machine a restart can fail for good (Dask logs "Failed to restart worker"), and
    the next test then gets a fresh cluster rather than waiting on one worker that never comes back."""
    _, client = clusters[0]
    try:
        client.wait_for_workers(2, timeout=WORKER_RETURN_S)
    except TimeoutError:
        warnings.warn("a killed Dask worker was not restarted: the tests go on with a fresh cluster", stacklevel=1)
        _stop_cluster(*clusters[0])
        clusters[0] = _start_cluster()
        _, client = clusters[0]
    yield client
    for name in list(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))):
        if name.startswith("kill-"):
            client.unregister_worker_plugin(name)


@pytest.fixture()
def small_images(tmp_path, kodak_dir):
    paths = prepare_images([kodak_dir / "kodim01.png", kodak_dir / "kodim23.png"], max_side=128, out_dir=tmp_path / "prep")
    return {"Kodak": {p.stem: p for p in paths}}


class KillWorker(WorkerPlugin):
    """SIGKILLs the first worker process that starts a task named ``prefix-…`` (once: a marker file records it),
    once ``ready`` (a glob under ``folder``) matches a file, if given."""

    def __init__(self, marker: Path, prefix: str, folder: Path | None = None, ready: str | None = None):
        self.marker, self.prefix, self.folder, self.ready = str(marker), prefix, folder, ready

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith(self.prefix) and not os.path.exists(self.marker):
            if self.ready is None:
                self._kill()
            else:
                threading.Thread(target=self._kill_when_ready, daemon=True).start()

    def _kill_when_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(Path(self.folder).glob(self.ready)):
            time.sleep(0.002)
        self._kill()

    def _kill(self):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def _grid(images, tmp_path, name, monkeypatch, **kwargs):
    settings = [conventional_setting("jpeg", (0.5, 1.0), "420"), conventional_setting("webp", (0.5, 1.0))]
    monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path / f"cache-{name}"))  # each codes from scratch
    return run_grid(images, settings, METRICS, out=tmp_path / f"{name}.parquet", progress=False, **kwargs)


def _same_rows(a, b):
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING))


def test_executor_setting_errors_are_one_line(monkeypatch, small_images):
    # first in the module: the short connect timeout below is process-wide config, and the cluster's nannies
    # live in this process, so no cluster exists yet while it is set
    import dask

    from dlic_lib.executors import open_executor

    with pytest.raises(DlicError, match="executor must be 'local', a Dask scheduler address"):
        open_executor("cluster")
    monkeypatch.setenv("DLIC_SCHEDULER", "tcp://127.0.0.1:9")  # nothing listens on the discard port
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(DlicError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
            run_grid(small_images, [conventional_setting("jpeg", (1.0,), "420")], ["psnr_y"], progress=False)
    monkeypatch.setenv("DLIC_SCHEDULER", "local")
    assert open_executor(jobs=1) is None


def test_grid_on_a_cluster_matches_the_local_executor(tmp_path, small_images, cluster, monkeypatch):
    local = _grid(small_images, tmp_path, "local", monkeypatch, jobs=1, executor="local").table
    remote = _grid(small_images, tmp_path, "dask", monkeypatch, executor=cluster)
    assert len(local) == 2 * 2 * 2 and (remote.table["wall_s"] > 0).all()
    _same_rows(local, remote.table)
    _same_rows(local, pd.read_parquet(remote.path))  # what the caller wrote is what it returned
    assert any(p.is_file() for p in (tmp_path / "cache-dask").rglob("*"))  # workers coded into the caller's cache


def test_grid_survives_a_worker_killed_mid_task(tmp_path, small_images, cluster, monkeypatch):
    marker = tmp_path / "killed"
    cluster.register_plugin(KillWorker(marker, "codec-cell"), name="kill-grid")
    remote = _grid(small_images, tmp_path, "dask", monkeypatch, executor=cluster)
    assert marker.is_file()  # a worker died in a cell; the cell ran again elsewhere
    local = _grid(small_images, tmp_path, "local", monkeypatch, jobs=1, executor="local").table
    written = pd.read_parquet(remote.path)
    assert not written.duplicated(list(GRID_KEY)).any()  # every row once
    _same_rows(local, written)


def _release(result) -> dict:
    """A released file's content."""
    import torch

    return torch.load(result.entry.path, weights_only=False)


def _weights_sha256(blob: dict) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(blob["state_dict"].items()):
        digest.update(name.encode())
        digest.update(tensor.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _same_release(a, b):
    import torch

    from dlic_lib.data import sha256_file

    assert a.entry.sha256 == b.entry.sha256 == sha256_file(a.entry.path) == sha256_file(b.entry.path)  # the same file
    ra, rb = _release(a), _release(b)
    assert _weights_sha256(ra) == _weights_sha256(rb)
    wa, wb = ra.pop("state_dict"), rb.pop("state_dict")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert ra == rb  # same settings, data, validation point


def _ladder(tmp_path, name, monkeypatch, **kwargs):
    from dlic_lib.train import train_ladder

    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / name))
    return train_ladder("bmshj2018-factorized", qualities=[1, 3], profile="smoke", progress=False, **kwargs)


@pytest.fixture()
def one_thread():
    """Training in this process with the workers' single thread (bfloat16 sums depend on the split)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_ladder_on_a_cluster_matches_the_local_executor(tmp_path, cluster, monkeypatch, one_thread):
    from dlic_lib.checkpoints import list_checkpoints

    assert set(cluster.run(lambda: __import__("torch").get_num_threads()).values()) == {1}
    local = _ladder(tmp_path, "local", monkeypatch)
    remote = _ladder(tmp_path, "dask", monkeypatch, executor=cluster)
    assert [r.entry.quality for r in remote] == [1, 3] and all(r.finished for r in remote)
    assert all(Path(r.entry.path).is_relative_to(tmp_path / "dask") for r in remote)  # the caller's folders
    assert sorted(e.quality for e in list_checkpoints("bmshj2018-factorized", "mse")) == [1, 3]  # both registered
    for a, b in zip(local, remote):
        _same_release(a, b)
        assert a.val == b.val
    again = _ladder(tmp_path, "dask", monkeypatch, executor=cluster)  # finished: not trained again
    assert [r.entry.sha256 for r in again] == [r.entry.sha256 for r in remote]


def test_ladder_resumes_a_run_whose_worker_was_killed(tmp_path, cluster, monkeypatch, one_thread):
    from dlic_lib.train import TrainConfig, lambda_for_quality

    marker = tmp_path / "killed"
    run_id = TrainConfig.from_profile("smoke", model="bmshj2018-factorized", lmbda=lambda_for_quality(1)).resolved().run_id()
    # the worker training q1 is killed once that run's first state (step 4 of 8) is on disk
    cluster.register_plugin(KillWorker(marker, f"train-{run_id}", tmp_path / "dask", f"runs/{run_id}/state.pt"),
                            name="kill-train")
    remote = _ladder(tmp_path, "dask", monkeypatch, executor=cluster)
    assert marker.is_file()
    local = _ladder(tmp_path, "local", monkeypatch)
    assert all(r.finished and r.step == 8 for r in remote)
    for a, b in zip(local, remote):
        _same_release(a, b)
        pd.testing.assert_frame_equal(a.log.drop(columns="elapsed_s"), b.log.drop(columns="elapsed_s"))


def test_cli_trains_on_a_scheduler_and_rejects_a_bad_address(tmp_path, cluster, monkeypatch, capsys):
    from dlic_lib import executors
    from dlic_lib.cli import main

    monkeypatch.setenv("DLIC_SCHEDULER", "")  # restored after the test (the command sets it)
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    argv = ["train", "--profile", "smoke", "--qualities", "1", "--no-progress", "--scheduler"]
    assert main([*argv, "cluster-7"]) == 2
    assert "dlic: error: a Dask scheduler address looks like tcp://host:8786, got 'cluster-7'" in capsys.readouterr().err
    address = cluster.scheduler.address
    executors._announced.discard(address)  # named once per process: earlier tests used this scheduler
    try:
        assert main([*argv, address]) == 0
    finally:
        executors._clients.pop(address).close()
    captured = capsys.readouterr()
    assert f"tasks run on the Dask scheduler {address}" in captured.err
    (line,) = captured.out.splitlines()
    assert line.split()[3] == "q1" and str(tmp_path / "runs") in line  # trained on a worker, into the caller's folder


def _set_allowed_failures(n: int, dask_scheduler=None) -> int:
    before, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, n
    return before


def test_a_task_that_keeps_killing_its_workers_is_a_one_line_error(tmp_path, small_images, cluster, monkeypatch):
    before = cluster.run_on_scheduler(_set_allowed_failures, 0)  # the first death is one too many
    cluster.register_plugin(KillWorker(tmp_path / "killed", "codec-cell"), name="kill-lost")
    try:
        with pytest.raises(DlicError, match="JPEG 4:2:0 on Kodak: codec-cell: the task was lost with every worker"):
            _grid(small_images, tmp_path, "dask", monkeypatch, executor=cluster)
    finally:
        cluster.run_on_scheduler(_set_allowed_failures, before)
    assert (tmp_path / "killed").is_file()
