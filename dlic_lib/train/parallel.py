"""Train the rungs of a ladder side by side: one process per rung, the CPU threads shared out.

The rungs of a ladder are independent, so on a machine with cores to spare they can run at the
same time with one share of the threads each instead of one after another with all of them (on
two cores the gain is small: two ``quick`` factorized rungs of 300 steps took 60 s side by side
and 62 s one after another). Each rung stays an ordinary resumable run: a killed ladder continues
where every rung stopped. On a GPU the rungs run one after another, unless a Dask cluster
(:mod:`dlic_lib.executors`) gives one GPU to each.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DlicError

__all__ = ["train_all"]


def _train_rung(config, position: int, train_kwargs: dict):
    from .engine import train

    return train(config, progress_position=position, **train_kwargs)


def train_all(configs: Sequence, *, jobs: int = 1, device: str | None = None, executor=None, **train_kwargs) -> list:
    """Train every :class:`~dlic_lib.train.engine.TrainConfig` of ``configs``, ``jobs`` at a time.

    ``jobs=1`` trains them in this process, one after another. With ``jobs > 1`` (CPU only) each
    rung runs in its own process with ``torch.get_num_threads() // jobs`` threads (at least one).
    ``executor`` (default: ``DLIC_SCHEDULER`` if set, else ``"local"``) sends every run to a Dask
    cluster instead, as a task asking for one ``GPU`` where workers offer that resource, on the
    worker's device unless ``device`` is given (:mod:`dlic_lib.executors`). ``train_kwargs`` go to
    :func:`dlic_lib.train.train`. Returns the results in the order of ``configs``.
    """
    import torch

    from ..device import resolve_device
    from ..executors import open_executor
    from ..progress import task as progress_task
    from .engine import train

    configs = list(configs)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise DlicError(f"jobs must be a positive integer, got {jobs!r}")
    for config in configs:
        config.resolved()  # report bad settings before any training starts
    jobs = min(jobs, len(configs)) if configs else 1

    pool = open_executor(executor, jobs=jobs, threads=max(1, torch.get_num_threads() // jobs))
    if pool is None:
        return [train(config, device=device, **train_kwargs) for config in configs]
    if pool.kind == "local" and resolve_device(device).startswith("cuda"):
        pool.shutdown()
        raise DlicError("parallel rungs (jobs > 1) are for CPU training; on a GPU train one rung at a time (jobs=1)")
    kwargs = dict(train_kwargs, device=device)
    shown = pool.kind == "dask" and train_kwargs.get("progress", True)  # local rungs draw bars of their own
    with pool, progress_task("training runs", total=len(configs), unit="run", enabled=shown) as bar:
        futures = [pool.submit(_train_rung, config, i % jobs, kwargs, resources={"GPU": 1},
                               name=f"train-{config.resolved().run_id()}")
                   for i, config in enumerate(configs)]
        try:
            results = []
            for future in futures:
                results.append(future.result())
                bar.update(1)
            return results
        except BaseException:
            for f in futures:
                f.cancel()
            raise
