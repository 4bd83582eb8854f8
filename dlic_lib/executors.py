"""Where independent pieces of work run: worker processes of this machine, or a Dask cluster.

The codec grid (:func:`~dlic_lib.evaluate.run_grid`, one task per conventional (setting, image)
cell) and the training ladders (:func:`~dlic_lib.train.parallel.train_all`, one task per run)
hand their tasks to an executor chosen by the ``executor`` parameter or, when it is left unset,
by the environment:

======================================  =======================================================
``executor``                            runs the tasks
======================================  =======================================================
``None``                                on ``DLIC_SCHEDULER`` when it is set, else ``"local"``
``"local"``                             in this process (``jobs=1``) or in ``jobs`` spawned
                                        worker processes of this machine (the default)
``"tcp://host:8786"`` (any address)     on the Dask scheduler at that address
a :class:`distributed.Client`           on that client's cluster (e.g. a ``LocalCluster``)
======================================  =======================================================

Whatever runs a task, the caller gets the same results: tasks are pure functions of their
arguments, and what they produce is written by the caller (grid rows, through
:mod:`dlic_lib.outputs`) or by the atomic, resumable code paths of a single run (training states,
releases and the zoo registry under ``DLIC_CHECKPOINT_DIR``, coded images under ``DLIC_CACHE_DIR``).
On a cluster these folders must be one shared filesystem mounted at the same path everywhere: a
task runs with the caller's ``DLIC_DATA_DIR``, ``DLIC_DATA_MIRROR``, ``DLIC_CACHE_DIR``,
``DLIC_CHECKPOINT_DIR``, ``DLIC_RESULTS_DIR`` and ``DLIC_OFFLINE`` (those set in the caller's
environment). A worker that dies mid-task loses nothing: Dask runs the task again on another
worker, a training run resumes from its last saved state, and a grid row is written once, when the
caller receives it.

Tasks may ask for worker resources (``resources={"GPU": 1}`` for a training run, ``{"CPU": 1}`` for
a coding cell); a resource that no worker of the cluster offers is not asked for, so a cluster
without declared resources runs everything anywhere.

Dask is imported only when a cluster is used.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .errors import DlicError

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "open_executor", "use_scheduler", "SCHEDULER_ENV",
           "FORWARDED_SETTINGS"]

#: environment variable naming the Dask scheduler used when ``executor`` is left unset
SCHEDULER_ENV = "DLIC_SCHEDULER"
#: settings of the caller that every task on a cluster runs with (folders on the shared filesystem)
FORWARDED_SETTINGS = ("DLIC_DATA_DIR", "DLIC_DATA_MIRROR", "DLIC_CACHE_DIR", "DLIC_CHECKPOINT_DIR",
                      "DLIC_RESULTS_DIR", "DLIC_OFFLINE")
_INSTALL_HINT = 'pip install "dask[distributed]"'


class Executor:
    """Runs submitted functions elsewhere; ``submit`` returns a future with ``result()`` and ``cancel()``.

    ``kind`` is ``"local"`` or ``"dask"``. Use as a context manager, or call :meth:`shutdown`.
    """

    kind = "local"

    def submit(self, fn: Callable, /, *args: Any, resources: Mapping[str, float] | None = None,
               name: str | None = None, **kwargs: Any):
        """Schedule ``fn(*args, **kwargs)``; ``resources`` and ``name`` (the task's label) matter on a cluster."""
        raise NotImplementedError

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the workers (``cancel_futures``: drop the tasks not started yet)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True, cancel_futures=exc[0] is not None)


def _init_local_worker(threads: int, warning_filters: list, format_warning) -> None:
    import warnings

    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    warnings.filters[:] = warning_filters  # warnings look as they do in the calling process
    warnings.formatwarning = format_warning


class LocalExecutor(Executor):
    """``workers`` spawned processes of this machine with ``threads`` torch/OpenMP threads each."""

    def __init__(self, workers: int, threads: int = 1):
        import warnings
        from concurrent.futures import ProcessPoolExecutor

        self.workers, self.threads = workers, threads
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_local_worker,
                                         initargs=(threads, list(warnings.filters), warnings.formatwarning))

    def submit(self, fn, /, *args, resources=None, name=None, **kwargs):
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _with_settings(settings: dict[str, str], fn: Callable, args: tuple, kwargs: dict):
    """Run ``fn`` on a worker with the caller's folder settings, restoring the worker's afterwards."""
    from .config import environment

    with environment(settings):
        return fn(*args, **kwargs)


class _DaskFuture:
    """A Dask future whose ``result()`` turns a task that kept killing its workers into a one-line error."""

    def __init__(self, future, name: str):
        self._future, self._name = future, name

    def result(self, timeout: float | None = None):
        from distributed import KilledWorker

        try:
            return self._future.result(timeout=timeout)
        except KilledWorker as exc:
            raise DlicError(f"{self._name}: the task was lost with every worker that ran it ({exc}); "
                            "see the workers' logs (memory limit, crash)") from None

    def done(self) -> bool:
        return self._future.done()

    def cancel(self) -> bool:
        self._future.cancel()
        return True


_announced: set[str] = set()


class DaskExecutor(Executor):
    """Tasks on the cluster of a :class:`distributed.Client` (never closed here: it belongs to its maker)."""

    kind = "dask"

    def __init__(self, client):
        self.client = client
        self._futures: list[_DaskFuture] = []
        self._settings = {key: os.environ[key] for key in FORWARDED_SETTINGS if key in os.environ}
        info = client.scheduler_info()
        self.workers = len(info.get("workers", {}))
        self._offered = {r for w in info.get("workers", {}).values() for r in (w.get("resources") or {})}
        self.dashboard_link = client.dashboard_link if "dashboard" in info.get("services", {}) else None
        _announce(client.scheduler.address, self.dashboard_link)

    def submit(self, fn, /, *args, resources=None, name=None, **kwargs):
        asked = {k: v for k, v in (resources or {}).items() if k in self._offered} or None
        label = name or getattr(fn, "__name__", "task").strip("_")
        future = self.client.submit(_with_settings, self._settings, fn, args, kwargs, key=f"{label}-{uuid.uuid4().hex}",
                                    pure=False, resources=asked)
        wrapped = _DaskFuture(future, label)
        self._futures.append(wrapped)
        return wrapped

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for future in self._futures:
                if not future.done():
                    future.cancel()
        self._futures.clear()


def _announce(address: str, dashboard: str | None) -> None:
    """Say once per scheduler which cluster runs the work (on stderr, never into a notebook's output)."""
    from .progress import in_kernel

    if address in _announced or in_kernel():
        return
    _announced.add(address)
    print(f"dlic: tasks run on the Dask scheduler {address}" + (f" (dashboard: {dashboard})" if dashboard else ""),
          file=sys.stderr)


_clients: dict[str, Any] = {}


def _client_for(address: str):
    """A client connected to ``address``, kept for the rest of this process (one connection per scheduler)."""
    try:
        import dask
        from distributed import Client
    except ImportError:
        raise DlicError(f"a Dask scheduler ({address}) needs the distributed package: {_INSTALL_HINT}") from None
    client = _clients.get(address)
    if client is not None and client.status == "running":
        return client
    try:
        client = Client(address, set_as_default=False, timeout=dask.config.get("distributed.comm.timeouts.connect"))
    except (OSError, TimeoutError, ValueError) as exc:
        raise DlicError(f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}); "
                        f"check {SCHEDULER_ENV} or the scheduler address") from None
    _clients[address] = client
    return client


def use_scheduler(address: str) -> None:
    """Send the grids and training runs of this process, and of the notebooks it runs, to the Dask scheduler at ``address``."""
    if "://" not in address:
        raise DlicError(f"a Dask scheduler address looks like tcp://host:8786, got {address!r}")
    os.environ[SCHEDULER_ENV] = address


def open_executor(executor: Any = None, *, jobs: int = 1, threads: int = 1) -> Executor | None:
    """The executor named by ``executor`` (see the module docstring), or ``None`` to work in this process.

    ``jobs`` and ``threads`` size the local executor (``jobs=1``: ``None``, the caller works itself);
    a Dask cluster has its own workers and ignores them.
    """
    if executor is None:
        executor = os.environ.get(SCHEDULER_ENV, "").strip() or "local"
    if isinstance(executor, str):
        if executor == "local":
            return LocalExecutor(jobs, threads) if jobs > 1 else None
        if "://" in executor:
            return DaskExecutor(_client_for(executor))
    elif type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        return DaskExecutor(executor)
    raise DlicError(f"executor must be 'local', a Dask scheduler address such as tcp://host:8786 or a "
                    f"distributed.Client, got {executor!r}")
